using System.Globalization;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Modules;

namespace Parley.Server.Routing;

/// <summary>
/// Delivery to this server and its accounts (RFC 6120 §10.3, RFC 6121 §8.5): picks resources, answers what the
/// server answers, and bounces what cannot be delivered.
/// </summary>
public sealed class LocalDelivery(SessionRegistry sessions, IqDispatcher iqs, HookBus hooks, Microsoft.Extensions.Options.IOptions<ParleyOptions> options)
{
    private readonly bool _allNonNegative = options.Value.BareJidMessages == "all";

    /// <summary>Stanzas to the domain itself (RFC 6120 §10.3.1... §10.3.3).</summary>
    public ValueTask ToServerAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        switch (stanza.Kind)
        {
            case StanzaKind.Iq:
                return iqs.DispatchAsync(stanza, IqTarget.Server, origin, ct);
            case StanzaKind.Message:
                // RFC 6121 §8.5.1: the server has no use for messages addressed to itself.
                Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
                return ValueTask.CompletedTask;
            default:
                // RFC 6121 §4.3 / §4.6: presence to the server itself needs no answer.
                return ValueTask.CompletedTask;
        }
    }

    /// <summary>Stanzas to a local bare JID (RFC 6121 §8.5.2).</summary>
    public ValueTask ToAccountAsync(Stanza stanza, Jid account, ISession origin, CancellationToken ct)
    {
        switch (stanza.Kind)
        {
            case StanzaKind.Iq:
                // RFC 6121 §8.5.2.1.3: the server answers on behalf of the account.
                var target = origin.Jid.Bare == account ? IqTarget.Self : IqTarget.Account;
                return iqs.DispatchAsync(stanza, target, origin, ct);
            case StanzaKind.Message:
                return DeliverMessageToAccountAsync(stanza, account, origin, ct);
            default:
                return DeliverPresenceToAccountAsync(stanza, account, origin, ct);
        }
    }

    /// <summary>Stanzas to a local full JID (RFC 6121 §8.5.3).</summary>
    public ValueTask ToResourceAsync(Stanza stanza, Jid fullJid, ISession origin, CancellationToken ct)
    {
        if (sessions.TryGet(fullJid, out var session) && session.TryDeliver(stanza.Element))
            return stanza.Kind == StanzaKind.Message ? hooks.RunAsync(new MessageDelivered(stanza, fullJid.Bare, [session]), ct) : ValueTask.CompletedTask;

        // RFC 6121 §8.5.3.2: no such resource.
        switch (stanza.Kind)
        {
            case StanzaKind.Iq:
                // §8.5.3.2.2 / RFC 6120 §8.3.3.19
                if (stanza.IqType is IqType.Get or IqType.Set)
                    Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
                break;
            case StanzaKind.Message:
                // §8.5.3.2.1: normal and chat are handled as if sent to the bare JID; groupchat gets
                // service-unavailable; headline and error are silently ignored.
                switch (stanza.Type ?? "normal")
                {
                    case "normal" or "chat":
                        return DeliverMessageToAccountAsync(stanza, fullJid.Bare, origin, ct);
                    case "groupchat":
                        Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
                        break;
                }
                break;
            default:
                // §8.5.3.2.3: presence to a resource that is not online is silently ignored.
                break;
        }
        return ValueTask.CompletedTask;
    }

    // RFC 6121 §8.5.2.1.1: to the available resources of highest non-negative priority (all non-negative ones
    // for headlines, and for everything when BareJidMessages is "all"); with none, chat and normal go to offline
    // storage (§8.5.2.2), headlines are dropped and
    // groupchat is refused.
    private async ValueTask DeliverMessageToAccountAsync(Stanza stanza, Jid account, ISession origin, CancellationToken ct)
    {
        var type = stanza.Type ?? "normal";
        if (type == "error") return;             // §8.5.2.1.1: errors to a bare JID are silently ignored
        List<IClientSession>? recipients = null;
        if (type != "groupchat")
        {
            var resources = sessions.Resources(account);
            var best = int.MinValue;
            foreach (var s in resources)
                if (s.Presence is { IsAvailable: true, Priority: >= 0 } p && p.Priority > best) best = p.Priority;
            foreach (var session in resources)
            {
                if (session.Presence is not { IsAvailable: true, Priority: >= 0 } p) continue;
                if (type != "headline" && !_allNonNegative && p.Priority != best) continue;
                if (session.TryDeliver(stanza.Element)) (recipients ??= new List<IClientSession>(resources.Length)).Add(session);
            }
        }
        if (recipients is not null)
        {
            await hooks.RunAsync(new MessageDelivered(stanza, account, recipients), ct).ConfigureAwait(false);
            return;
        }
        if (type is "chat" or "normal")
        {
            var offline = new OfflineMessage(stanza, account);
            await hooks.RunAsync(offline, ct).ConfigureAwait(false);
            if (offline.Stored) return;
            Router.Bounce(stanza, offline.Refusal ?? StanzaError.ServiceUnavailable, origin);
        }
        else if (type == "groupchat")
        {
            Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
        }
    }

    private async ValueTask DeliverPresenceToAccountAsync(Stanza stanza, Jid account, ISession origin, CancellationToken ct)
    {
        if (stanza.To is null)
        {
            await BroadcastAsync(stanza, account, origin, ct).ConfigureAwait(false);
            return;
        }
        // RFC 6121 §8.5.2.1.2: directed presence to a bare JID reaches every available resource.
        foreach (var session in sessions.Resources(account))
            if (session.Presence.IsAvailable) session.TryDeliver(stanza.Element);
    }

    // RFC 6121 §4.2 / §4.5: broadcast presence updates the sender's own state and reaches the account's other
    // available resources (and its contacts, once subscriptions exist).
    private async ValueTask BroadcastAsync(Stanza stanza, Jid account, ISession origin, CancellationToken ct)
    {
        if (origin is not IClientSession sender) return;
        var type = stanza.Type;
        if (type is not (null or "unavailable")) return;     // subscription types and probes need a 'to'
        var wasAvailable = sender.Presence.IsAvailable;
        sender.Presence.IsAvailable = type is null;
        sender.Presence.Priority = type is null ? Priority(stanza.Element) : 0;
        sender.Presence.Last = type is null ? stanza.Element : null;
        foreach (var session in sessions.Resources(account))
            if (!ReferenceEquals(session, sender) && session.Presence.IsAvailable) session.TryDeliver(stanza.Element);
        if (type is null || wasAvailable)
            await hooks.RunAsync(new PresenceBroadcast(sender, stanza.Element, Initial: !wasAvailable), ct).ConfigureAwait(false);
        if (!wasAvailable && type is null)
            await hooks.RunAsync(new InitialPresence(sender), ct).ConfigureAwait(false);
    }

    // RFC 6121 §4.7.2.3: an integer from -128 to +127; absent or unreadable means 0.
    private static int Priority(Element presence) =>
        int.TryParse(presence.ChildText("priority", Ns.Client), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p)
            ? Math.Clamp(p, -128, 127)
            : 0;
}
