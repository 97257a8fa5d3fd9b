namespace Parley.Server.Routing;

/// <summary>Where a stanza's 'to' points (RFC 6120 §10).</summary>
public enum Destination
{
    /// <summary>This server's domain, or a resource of it (§10.3).</summary>
    Server,
    /// <summary>A local account's bare JID (§10.3, RFC 6121 §8.5.2).</summary>
    Account,
    /// <summary>A local account's full JID (RFC 6121 §8.5.3).</summary>
    Resource,
    /// <summary>An internal service or external component on a subdomain.</summary>
    Component,
    /// <summary>Another server (§10.4).</summary>
    Remote,
}
