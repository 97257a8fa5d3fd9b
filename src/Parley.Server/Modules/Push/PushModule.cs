using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Connections;
using Parley.Server.Hooks;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Push;

/// <summary>
/// XEP-0357 push notifications: a client enables its app server's push service (JID, node and optional
/// publish-options) for the account; when a message with a body arrives and no connected client will show it — it
/// went to offline storage, or to a stream-managed session waiting to be resumed — the server publishes a
/// &lt;notification/&gt; to every enabled service. The notification is minimal (the urn:xmpp:push:summary form with
/// the message count) unless Push:IncludeSender or Push:IncludeBody say otherwise. A service that answers with an
/// error is disabled (§7.1).
/// </summary>
public sealed class PushModule(IStorage storage, IqTracker tracker, IServiceProvider services, IOptions<ParleyOptions> options) : IModule
{
    /// <summary>XEP-0357's namespace.</summary>
    public const string Namespace = "urn:xmpp:push:0";

    private const char Separator = '\u001f';
    private readonly IMapStore _services = storage.Map("push");
    private readonly PushOptions _options = options.Value.Push;
    private Router? _router;

    private Router Router => _router ??= (Router)services.GetService(typeof(Router))!;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("push", Xeps: [357]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.OwnAccountFeature(Namespace);
        m.OnIq<PushEnable>(IqType.Set, IqTarget.Self, async (iq, ct) =>
        {
            // §5: jid is required, node should be there; the same jid+node again replaces the options.
            var enable = iq.Payload.Element;
            if (!Jid.TryParse(enable.GetAttribute("jid"), out var service)) return StanzaError.BadRequest("enable needs the push service's jid");
            var node = enable.GetAttribute("node") ?? "";
            var record = new Element("service", Namespace).SetAttribute("jid", service.ToString()).SetAttribute("node", node);
            if (enable.Child("x", Ns.DataForms) is { } form) record.Add(form.Clone());
            await _services.SetAsync(iq.From.Bare, service + Separator.ToString() + node, record, ct).ConfigureAwait(false);
            return IqReply.Empty;
        });
        m.OnIq<PushDisable>(IqType.Set, IqTarget.Self, async (iq, ct) =>
        {
            // §6: one jid+node, or every node of the jid.
            var disable = iq.Payload.Element;
            if (!Jid.TryParse(disable.GetAttribute("jid"), out var service)) return StanzaError.BadRequest("disable needs the push service's jid");
            var node = disable.GetAttribute("node");
            foreach (var (key, record) in await _services.GetAllAsync(iq.From.Bare, ct).ConfigureAwait(false))
                if (record.GetAttribute("jid") == service.ToString() && (node is null || record.GetAttribute("node") == node))
                    await _services.SetAsync(iq.From.Bare, key, null, ct).ConfigureAwait(false);
            return IqReply.Empty;
        });
        // After offline storage has decided: only a stored message warrants a push.
        m.Hook<OfflineMessage>((e, ct) => e.Stored && Worth(e.Stanza) ? new ValueTask(PushAsync(e.Account, e.Stanza, ct)) : ValueTask.CompletedTask, priority: -100);
        m.Hook<MessageDelivered>((e, ct) =>
        {
            if (!Worth(e.Stanza)) return ValueTask.CompletedTask;
            // Delivered only to sessions waiting to be resumed: nobody sees it until the app is woken.
            foreach (var session in e.Recipients)
                if (session is not ClientSession { Stream: null }) return ValueTask.CompletedTask;
            return new ValueTask(PushAsync(e.Account, e.Stanza, ct));
        });
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(_services.DeleteAllAsync(e.Account, ct)));
    }

    private static bool Worth(Stanza message) =>
        message.Type is not ("groupchat" or "headline" or "error") && message.Element.Child("body", Ns.Client) is not null;

    private async Task PushAsync(Jid account, Stanza message, CancellationToken ct)
    {
        foreach (var (key, record) in await _services.GetAllAsync(account, ct).ConfigureAwait(false))
        {
            if (!Jid.TryParse(record.GetAttribute("jid"), out var service)) continue;
            var summary = DataForm.Create("submit", null, "urn:xmpp:push:summary", DataForm.Field("message-count", "text-single", null, false, "1"));
            if (_options.IncludeSender && message.From is { } from) summary.Add(DataForm.Field("last-message-sender", "jid-single", null, false, from.ToString()));
            if (_options.IncludeBody && message.Element.ChildText("body", Ns.Client) is { } body) summary.Add(DataForm.Field("last-message-body", "text-single", null, false, body));
            var publish = new Element("publish", Ns.PubSub).SetAttribute("node", record.GetAttribute("node"))
                .Add(new Element("item", Ns.PubSub).Add(new Element("notification", Namespace).Add(summary)));
            var pubsub = new Element("pubsub", Ns.PubSub).Add(publish);
            if (record.Child("x", Ns.DataForms) is { } publishOptions) pubsub.Add(new Element("publish-options", Ns.PubSub).Add(publishOptions.Clone()));
            var id = "push-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            var iq = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", id)
                .SetAttribute("from", account.ToString()).SetAttribute("to", service.ToString()).Add(pubsub);
            _ = AwaitReplyAsync(account, key, service, id);
            await Router.RouteAsync(Stanza.Create(iq), new PushOrigin(account, Router), ct).ConfigureAwait(false);
        }
    }

    // §7.1: a service that answers with an error is disabled; one that does not answer is left alone.
    private async Task AwaitReplyAsync(Jid account, string key, Jid service, string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var reply = await tracker.Expect(id, service, timeout.Token).ConfigureAwait(false);
            if (reply.Type == "error") await _services.SetAsync(account, key, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // No answer in time: it may be a transient problem.
        }
    }

    // Errors the router itself raises about a push (no such domain, no federation) come back here as replies.
    private sealed class PushOrigin(Jid account, Router router) : ISession
    {
        public Jid Jid => account;

        public bool TryDeliver(Element stanza)
        {
            if (Stanza.TryCreate(stanza, out var reply, out _)) _ = router.RouteAsync(reply, this, CancellationToken.None).AsTask();
            return true;
        }
    }
}

/// <summary>XEP-0357 §5 &lt;enable/&gt;.</summary>
public sealed record PushEnable(Element Element) : IPayload<PushEnable>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(PushModule.Namespace, "enable");

    /// <inheritdoc />
    public static PushEnable Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}

/// <summary>XEP-0357 §6 &lt;disable/&gt;.</summary>
public sealed record PushDisable(Element Element) : IPayload<PushDisable>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(PushModule.Namespace, "disable");

    /// <inheritdoc />
    public static PushDisable Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}
