using System.Collections.Concurrent;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Carbons;

/// <summary>
/// XEP-0280 message carbons: a session that enables them gets a copy of every eligible message its account sends
/// from another session (&lt;sent/&gt;) and of every eligible message delivered to another of its sessions
/// (&lt;received/&gt;), wrapped in a XEP-0297 &lt;forwarded/&gt;. A &lt;private/&gt; child (§7) or the
/// XEP-0334 &lt;no-copy/&gt; hint keeps a message out of carbons.
/// </summary>
public sealed class CarbonsModule(SessionRegistry sessions) : IModule
{
    private readonly ConcurrentDictionary<IClientSession, byte> _enabled = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("carbons", Xeps: [280]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Carbons);
        m.OnIq<CarbonsToggle>(IqType.Set, IqTarget.Self, (iq, ct) =>
        {
            // §4 / §5: enabling and disabling are per session.
            if (iq.Origin is not IClientSession session) return ValueTask.FromResult<IqReply>(StanzaError.NotAllowed("Only a client session can enable carbons"));
            if (iq.Payload.Enable) _enabled[session] = 0;
            else _enabled.TryRemove(session, out _);
            return ValueTask.FromResult(IqReply.Empty);
        });
        m.OnIq<CarbonsDisable>(IqType.Set, IqTarget.Self, (iq, ct) =>
        {
            if (iq.Origin is IClientSession session) _enabled.TryRemove(session, out _);
            return ValueTask.FromResult(IqReply.Empty);
        });
        m.Hook<InlineEnable>((e, ct) =>
        {
            if (e.Feature == Ns.Carbons) _enabled[e.Session] = 0;
            return ValueTask.CompletedTask;
        });
        m.Hook<SessionClosed>((e, ct) =>
        {
            _enabled.TryRemove(e.Session, out _);
            return ValueTask.CompletedTask;
        });
        // After blocking (100) has had its say (a message it drops is not copied either), and before the archive
        // (-50) stamps the recipient's stanza-id, which is no business of the sender's other sessions.
        m.Hook<Hooks.Routing>(OnSentAsync, priority: -40);
        m.Hook<MessageDelivered>(OnDeliveredAsync);
    }

    // §6: the sending session's other carbons-enabled sessions get a <sent/> copy.
    private ValueTask OnSentAsync(Hooks.Routing routing, CancellationToken ct)
    {
        if (routing.Dropped || _enabled.IsEmpty || routing.Stanza.Kind != StanzaKind.Message || routing.Origin is not IClientSession sender) return ValueTask.CompletedTask;
        if (!Eligible(routing.Stanza)) return ValueTask.CompletedTask;
        foreach (var session in sessions.Resources(sender.Jid.Bare))
        {
            if (ReferenceEquals(session, sender) || !_enabled.ContainsKey(session)) continue;
            // A message to one of the account's own resources reaches it anyway.
            if (routing.Stanza.To == session.Jid) continue;
            session.TryDeliver(Wrap("sent", session, routing.Stanza.Element));
        }
        return ValueTask.CompletedTask;
    }

    // §6: carbons-enabled sessions of the recipient account that did not get the message itself get a <received/> copy.
    private ValueTask OnDeliveredAsync(MessageDelivered e, CancellationToken ct)
    {
        if (_enabled.IsEmpty || !Eligible(e.Stanza)) return ValueTask.CompletedTask;
        // Between two sessions of one account, the sender's copies are the <sent/> ones.
        if (e.Stanza.From is { } from && from.Bare == e.Account && from.Resource is not null) return ValueTask.CompletedTask;
        foreach (var session in sessions.Resources(e.Account))
        {
            if (!_enabled.ContainsKey(session) || Contains(e.Recipients, session)) continue;
            session.TryDeliver(Wrap("received", session, e.Stanza.Element));
        }
        return ValueTask.CompletedTask;
    }

    private static bool Contains(IReadOnlyList<IClientSession> list, IClientSession session)
    {
        for (var i = 0; i < list.Count; i++)
            if (ReferenceEquals(list[i], session)) return true;
        return false;
    }

    /// <summary>
    /// XEP-0280 §6.1: chat messages; normal messages with a body; messages with IM payloads (receipts, chat states,
    /// chat markers); and never groupchat, errors, messages marked private or no-copy, or carbons themselves.
    /// (MUC private messages are chat messages and are copied.)
    /// </summary>
    internal static bool Eligible(Stanza message)
    {
        var element = message.Element;
        var type = message.Type ?? "normal";
        if (type is "groupchat" or "error" or "headline") return false;
        var im = type == "chat";
        foreach (var child in element.Children)
        {
            switch (child.Namespace)
            {
                case Ns.Carbons:
                    return false;                       // <private/>, or already a carbon
                case Ns.Hints when child.LocalName == "no-copy":
                    return false;
                case Ns.Client when child.LocalName == "body":
                case Ns.Receipts or Ns.ChatStates or Ns.ChatMarkers:
                    im = true;
                    break;
            }
        }
        return im;
    }

    private static Element Wrap(string direction, IClientSession to, Element message) =>
        new Element("message", Ns.Client)
            .SetAttribute("from", to.Jid.Bare.ToString())
            .SetAttribute("to", to.Jid.ToString())
            .SetAttribute("type", message.GetAttribute("type") ?? "normal")
            .Add(new Element(direction, Ns.Carbons).Add(new Element("forwarded", Ns.Forward).Add(message.Clone())));
}

/// <summary>XEP-0280 §4: &lt;enable xmlns='urn:xmpp:carbons:2'/&gt;.</summary>
public sealed record CarbonsToggle(bool Enable) : IPayload<CarbonsToggle>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Carbons, "enable");

    /// <inheritdoc />
    public static CarbonsToggle Parse(Element element) => new(true);

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}

/// <summary>XEP-0280 §5: &lt;disable xmlns='urn:xmpp:carbons:2'/&gt;.</summary>
public sealed record CarbonsDisable : IPayload<CarbonsDisable>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Carbons, "disable");

    /// <inheritdoc />
    public static CarbonsDisable Parse(Element element) => new();

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}
