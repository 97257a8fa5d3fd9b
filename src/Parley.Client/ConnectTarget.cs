namespace Parley.Client;

/// <summary>One place to connect to: a host, a port, and whether TLS starts at once (XEP-0368).</summary>
public sealed record ConnectTarget(string Host, int Port, bool DirectTls);
