using System.Diagnostics;
using Parley.Protocol;
using Parley.Server.Diagnostics;
using Parley.Server.Hooks;

namespace Parley.Server.Routing;

/// <summary>
/// Routes every stanza to exactly one place (RFC 6120 §10): the server itself, a local account or resource,
/// a component, or a remote server. Federation and components plug in through their interfaces.
/// </summary>
public sealed class Router(HookBus hooks, Addresses addresses, LocalDelivery local, IComponentRouter components, IRemoteRouter remote, ParleyMetrics metrics)
{
    /// <summary>Routes a stanza whose 'from' the ingress already stamped.</summary>
    public async ValueTask RouteAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        var started = metrics.RoutingStarted();
        var routing = new Hooks.Routing(stanza, origin);
        await hooks.RunAsync(routing, ct).ConfigureAwait(false);
        if (routing.Dropped) return;

        var to = stanza.To ?? origin.Jid.Bare;          // RFC 6120 §10.3: no 'to' = the sender's account
        switch (addresses.Classify(to))
        {
            case Destination.Server: await local.ToServerAsync(stanza, origin, ct).ConfigureAwait(false); break;       // IqDispatcher, modules
            case Destination.Account: await local.ToAccountAsync(stanza, to, origin, ct).ConfigureAwait(false); break;  // local bare JID
            case Destination.Resource: await local.ToResourceAsync(stanza, to, origin, ct).ConfigureAwait(false); break; // local full JID
            case Destination.Component: await components.SendAsync(stanza, origin, ct).ConfigureAwait(false); break;
            case Destination.Remote: await remote.SendAsync(stanza, origin, ct).ConfigureAwait(false); break;
            default: throw new UnreachableException();
        }
        // Dropped stanzas are not timed: the histogram is about delivery.
        metrics.Routed(stanza.Kind, started);
    }

    /// <summary>
    /// Answers a stanza with an error (RFC 6120 §8.3.1), back to its origin. Errors are never answered with errors.
    /// </summary>
    public static void Bounce(Stanza stanza, StanzaError error, ISession origin)
    {
        if (stanza.Type == "error") return;
        origin.TryDeliver(stanza.CreateErrorReply(error));
    }
}

/// <summary>Without federation, stanzas for other domains are answered with remote-server-not-found.</summary>
public sealed class NoFederation : IRemoteRouter
{
    /// <inheritdoc />
    public ValueTask SendAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        // RFC 6120 §10.4.2 / §8.3.3.16: the remote domain cannot be reached from here.
        Router.Bounce(stanza, StanzaError.RemoteServerNotFound("This server does not federate with other domains"), origin);
        return ValueTask.CompletedTask;
    }
}
