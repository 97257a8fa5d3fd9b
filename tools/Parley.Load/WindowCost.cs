namespace Parley.Load;

/// <summary>CPU time spent during a measured window by the server (null without --pid) and by the generator; the server's resident size after it.</summary>
internal readonly record struct WindowCost(TimeSpan? Server, TimeSpan? Self, long? ServerRssKib);
