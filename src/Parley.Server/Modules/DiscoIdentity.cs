namespace Parley.Server.Modules;

/// <summary>XEP-0030 §3.1: an identity (category, type, optional name).</summary>
public sealed record DiscoIdentity(string Category, string Type, string? Name = null);
