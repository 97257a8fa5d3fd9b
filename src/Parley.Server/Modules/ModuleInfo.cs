namespace Parley.Server.Modules;

/// <summary>A module's name (as used in configuration) and the XEPs it implements.</summary>
public sealed record ModuleInfo(string Name, int[]? Xeps = null, bool Required = false);
