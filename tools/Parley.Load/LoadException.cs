namespace Parley.Load;

/// <summary>A session could not be set up; the message says at which step.</summary>
internal sealed class LoadException(string message) : Exception(message);
