using Parley.Protocol;
using Parley.Server.Modules;

namespace Parley.Server.Routing;

/// <summary>
/// Delivery to this server and its accounts (RFC 6120 §10.3, RFC 6121 §8.5): picks resources, answers what the
/// server answers, and bounces what cannot be delivered.
/// </summary>
public sealed class LocalDelivery(SessionRegistry sessions, IqDispatcher iqs)
{
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
                DeliverMessageToAccount(stanza, account, origin);
                return ValueTask.CompletedTask;
            default:
                DeliverPresenceToAccount(stanza, account, origin);
                return ValueTask.CompletedTask;
        }
    }

    /// <summary>Stanzas to a local full JID (RFC 6121 §8.5.3).</summary>
    public ValueTask ToResourceAsync(Stanza stanza, Jid fullJid, ISession origin, CancellationToken ct)
    {
        if (sessions.TryGet(fullJid, out var session) && session.TryDeliver(stanza.Element))
            return ValueTask.CompletedTask;

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
                        DeliverMessageToAccount(stanza, fullJid.Bare, origin);
                        break;
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

    private void DeliverMessageToAccount(Stanza stanza, Jid account, ISession origin)
    {
        var type = stanza.Type ?? "normal";
        if (type == "error") return;             // §8.5.2.1.1: errors to a bare JID are silently ignored
        var delivered = 0;
        if (type != "groupchat")
        {
            foreach (var session in sessions.Resources(account))
                if (session.TryDeliver(stanza.Element)) delivered++;
        }
        if (delivered > 0) return;
        // §8.5.2.2: no resource can take it. Headline is dropped; groupchat, normal and chat get
        // service-unavailable (offline storage arrives with RFC 6121 support).
        if (type != "headline")
            Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
    }

    private void DeliverPresenceToAccount(Stanza stanza, Jid account, ISession origin)
    {
        // RFC 6121 §4.2.2: presence without 'to' is broadcast; with no roster yet that reaches the
        // account's other resources. Directed presence reaches every resource of the account (§4.6).
        var broadcast = stanza.To is null;
        foreach (var session in sessions.Resources(account))
        {
            if (broadcast && session.Jid == origin.Jid) continue;
            session.TryDeliver(stanza.Element);
        }
    }
}
