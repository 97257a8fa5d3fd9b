using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>
/// Subdomains served by internal services (MUC, upload, pubsub) or external components (XEP-0114): the router
/// treats both the same way.
/// </summary>
public interface IComponentRouter
{
    /// <summary>Whether a domain is served by a service or component of this server.</summary>
    bool Handles(string domain);

    /// <summary>Hands a stanza to the service or component of its 'to' domain.</summary>
    ValueTask SendAsync(Stanza stanza, ISession origin, CancellationToken ct);
}

/// <summary>
/// Carries stanzas to other servers. Without federation configured every such stanza is answered with
/// remote-server-not-found (RFC 6120 §10.4.2) rather than dropped.
/// </summary>
public interface IRemoteRouter
{
    /// <summary>Sends a stanza to its remote domain, or bounces it.</summary>
    ValueTask SendAsync(Stanza stanza, ISession origin, CancellationToken ct);
}
