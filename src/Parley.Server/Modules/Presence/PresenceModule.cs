using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Presence;

/// <summary>
/// RFC 6121 §4.5.2 / §4.6: a session that ends while available, cleanly or not, is announced unavailable to the
/// account's other available resources and, through <see cref="PresenceBroadcast"/>, to its contacts.
/// §4.7.1: presence of a type that is not defined is refused with bad-request; presence of type error (which
/// must carry an &lt;error/&gt;) never changes anyone's availability, is never answered with another error, and
/// takes its sender off the recipient's list of directed presence.
/// </summary>
public sealed class PresenceModule(SessionRegistry sessions, HookBus hooks) : IModule
{
    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("presence");

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Hook<Hooks.Routing>(CheckTypeAsync, priority: 200);
        m.Hook<SessionClosed>(async (e, ct) =>
        {
            var session = e.Session;
            if (!session.Presence.IsAvailable) return;
            session.Presence.IsAvailable = false;
            var unavailable = new Element("presence", Ns.Client).SetAttribute("type", "unavailable").SetAttribute("from", session.Jid.ToString());
            foreach (var other in sessions.Resources(session.Jid.Bare))
                if (!ReferenceEquals(other, session) && other.Presence.IsAvailable) other.TryDeliver(unavailable);
            await hooks.RunAsync(new PresenceBroadcast(session, unavailable, Initial: false), ct).ConfigureAwait(false);
        });
    }

    private ValueTask CheckTypeAsync(Hooks.Routing routing, CancellationToken ct)
    {
        var stanza = routing.Stanza;
        if (stanza.Kind != StanzaKind.Presence) return ValueTask.CompletedTask;
        switch (stanza.Type)
        {
            case null or "unavailable" or "subscribe" or "subscribed" or "unsubscribe" or "unsubscribed" or "probe":
                break;
            case "error":
                // RFC 6120 §8.3.1: no error in reply to an error, so a malformed one is only dropped.
                if (stanza.Element.Child("error", Ns.Client) is null || stanza.To is null)
                {
                    routing.Drop();
                    break;
                }
                // The addressee refused presence from this session: it is no longer a directed-presence recipient.
                if (stanza.From is { } from && sessions.TryGet(stanza.To.Value, out var target))
                    lock (target.Presence.Directed)
                    {
                        target.Presence.Directed.Remove(from);
                        target.Presence.Directed.Remove(from.Bare);
                    }
                break;
            default:
                Router.Bounce(stanza, StanzaError.BadRequest("Unknown presence type (RFC 6121 §4.7.1)"), routing.Origin);
                routing.Drop();
                break;
        }
        return ValueTask.CompletedTask;
    }
}
