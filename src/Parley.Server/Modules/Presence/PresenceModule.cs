using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Presence;

/// <summary>
/// RFC 6121 §4.5.2 / §4.6: a session that ends while available, cleanly or not, is announced unavailable to the
/// account's other available resources and, through <see cref="PresenceBroadcast"/>, to its contacts.
/// </summary>
public sealed class PresenceModule(SessionRegistry sessions, HookBus hooks) : IModule
{
    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("presence");

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
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
}
