using System.Globalization;
using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Modules.Blocking;
using Parley.Server.Modules.PubSub;
using Parley.Server.Modules.Roster;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Pep;

/// <summary>
/// XEP-0163 personal eventing: every account is a pubsub service (XEP-0060) on its bare JID. Publishing creates a
/// node on first use with the XEP-0223 publish-options asked for (access model presence, open, roster or whitelist;
/// max_items; persist_items; send_last_published_item), items are kept per node up to max_items, and notifications
/// go to the owner's and its presence subscribers' resources whose XEP-0115 caps carry node+notify (caps are
/// learned from the sessions and verified, <see cref="EntityCaps"/>). A resource that comes online with +notify gets
/// the last item of each node it may see. Items can be read back, retracted and deleted; nodes configured and
/// deleted by the owner. This is what OMEMO device lists and bundles, avatars, nicknames and XEP-0402 bookmarks use.
/// </summary>
public sealed class PepModule(IStorage storage, RosterStore roster, SessionRegistry sessions, Blocklists blocklists, Addresses addresses, IqTracker tracker) : IModule
{
    private const int MaxItemsCap = 1000;
    private const int MaxItemBytes = 256 * 1024;
    private const char Separator = '\u001f';            // not an XML character, so never part of a node name
    private readonly IMapStore _nodes = storage.Map("pep.nodes");
    private readonly IMapStore _items = storage.Map("pep.items");
    private readonly EntityCaps _caps = new();
    private long _sequence = DateTimeOffset.UtcNow.UtcTicks;

    private sealed record NodeConfig(string Access, int MaxItems, bool Persist, string SendLast);

    private static readonly NodeConfig Defaults = new("presence", 1, true, "on_sub_and_presence");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("pep", Xeps: [163, 60, 223]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.AccountIdentity("pubsub", "pep");
        foreach (var f in new[]
                 {
                     "", "#publish", "#publish-options", "#auto-create", "#auto-subscribe", "#access-presence", "#access-open",
                     "#access-roster", "#access-whitelist", "#filtered-notifications", "#last-published", "#retrieve-items",
                     "#retract-items", "#delete-items", "#delete-nodes", "#config-node", "#persistent-items", "#item-ids",
                 })
            m.AccountFeature(Ns.PubSub + f);
        m.OnIq<PubSubRequest>(IqType.Set, IqTarget.Self, SetAsync);
        m.OnIq<PubSubRequest>(IqType.Get, IqTarget.Self, GetAsync);
        m.OnIq<PubSubRequest>(IqType.Get, IqTarget.Account, GetAsync);
        m.OnIq<PubSubOwnerRequest>(IqType.Set, IqTarget.Self, OwnerAsync);
        m.OnIq<PubSubOwnerRequest>(IqType.Get, IqTarget.Self, OwnerAsync);
        m.Hook<PresenceBroadcast>(OnPresenceAsync);
        m.Hook<SessionClosed>((e, _) =>
        {
            _caps.Forget(e.Session);
            return ValueTask.CompletedTask;
        });
        m.Hook<AccountDeleted>(async (e, ct) =>
        {
            await _nodes.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
            await _items.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
        });
        m.AccountItems(VisibleNodesAsync);
        // XEP-0402 §5.3: bookmarks in PEP and in private XML storage (XEP-0049 / XEP-0048) are one list.
        m.OwnAccountFeature(Bookmarks + "#compat");
        m.Hook<PrivateXmlStored>((e, ct) => e.Item.Name == LegacyBookmarks ? new ValueTask(FromPrivateAsync(e.Account, e.Item, ct)) : ValueTask.CompletedTask);
        m.Hook<PrivateXmlRead>(async (e, ct) =>
        {
            if (e.Wanted.Name == LegacyBookmarks && await ConfigAsync(e.Account, Bookmarks, ct).ConfigureAwait(false) is not null)
                e.Result = await ToPrivateAsync(e.Account, e.Stored, ct).ConfigureAwait(false);
        });
    }

    // ---- XEP-0402 §5.3 bookmark unification ----

    private const string Bookmarks = "urn:xmpp:bookmarks:1";
    private static readonly QName LegacyBookmarks = new("storage:bookmarks", "storage");
    private static readonly NodeConfig BookmarksConfig = new("whitelist", MaxItemsCap, true, "never");

    // §5.3.2: a list stored the old way updates the PEP items one by one, notifying only what changed.
    private async Task FromPrivateAsync(Jid owner, Element storage, CancellationToken ct)
    {
        var config = await ConfigAsync(owner, Bookmarks, ct).ConfigureAwait(false);
        if (config is null)
        {
            config = BookmarksConfig;
            await _nodes.SetAsync(owner, Bookmarks, ToElement(config), ct).ConfigureAwait(false);
        }
        var existing = new Dictionary<string, Element>(StringComparer.Ordinal);
        foreach (var item in await NodeItemsAsync(owner, Bookmarks, ct).ConfigureAwait(false)) existing[item.GetAttribute("id")!] = item;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var conference in storage.Children)
        {
            if (conference.LocalName != "conference" || !Jid.TryParse(conference.GetAttribute("jid"), out var room)) continue;
            var id = room.ToString();
            listed.Add(id);
            var payload = new Element("conference", Bookmarks);
            if (conference.GetAttribute("name") is { } name) payload.SetAttribute("name", name);
            payload.SetAttribute("autojoin", conference.GetAttribute("autojoin") is "true" or "1" ? "true" : "false");
            if (conference.ChildText("nick", "storage:bookmarks") is { } nick) payload.Add(new Element("nick", Bookmarks).AddText(nick));
            if (conference.ChildText("password", "storage:bookmarks") is { } password) payload.Add(new Element("password", Bookmarks).AddText(password));
            if (existing.TryGetValue(id, out var old) && old.FirstChild()?.ToString() == payload.ToString()) continue;
            var stored = new Element("item", Ns.PubSub).SetAttribute("id", id)
                .SetAttribute("seq", Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture)).Add(payload);
            await _items.SetAsync(owner, Bookmarks + Separator + id, stored, ct).ConfigureAwait(false);
            await NotifyAsync(owner, Bookmarks, config, new Element("items", Ns.PubSubEvent).SetAttribute("node", Bookmarks).Add(Public(stored, Ns.PubSubEvent)), ct).ConfigureAwait(false);
        }
        foreach (var id in existing.Keys)
        {
            if (listed.Contains(id)) continue;
            await _items.SetAsync(owner, Bookmarks + Separator + id, null, ct).ConfigureAwait(false);
            await NotifyAsync(owner, Bookmarks, config, new Element("items", Ns.PubSubEvent).SetAttribute("node", Bookmarks).Add(new Element("retract", Ns.PubSubEvent).SetAttribute("id", id)), ct).ConfigureAwait(false);
        }
    }

    // §5.3.1: the PEP items shown as one storage:bookmarks element (keeping the stored copy's other children, such as urls).
    private async Task<Element> ToPrivateAsync(Jid owner, Element? stored, CancellationToken ct)
    {
        var storage = new Element("storage", "storage:bookmarks");
        if (stored is not null)
            foreach (var child in stored.Children)
                if (child.LocalName != "conference") storage.Add(child.Clone());
        foreach (var item in await NodeItemsAsync(owner, Bookmarks, ct).ConfigureAwait(false))
        {
            if (item.FirstChild() is not { LocalName: "conference" } c) continue;
            var conference = new Element("conference", "storage:bookmarks").SetAttribute("jid", item.GetAttribute("id"));
            if (c.GetAttribute("name") is { } name) conference.SetAttribute("name", name);
            conference.SetAttribute("autojoin", c.GetAttribute("autojoin") is "true" or "1" ? "true" : "false");
            if (c.ChildText("nick", Bookmarks) is { } nick) conference.Add(new Element("nick", "storage:bookmarks").AddText(nick));
            if (c.ChildText("password", Bookmarks) is { } password) conference.Add(new Element("password", "storage:bookmarks").AddText(password));
            storage.Add(conference);
        }
        return storage;
    }

    // ---- publish and retract (XEP-0060 §7.1, §7.2) ----

    private async ValueTask<IqReply> SetAsync(IqRequest<PubSubRequest> iq, CancellationToken ct)
    {
        var owner = iq.From.Bare;
        var pubsub = iq.Payload.Element;
        if (pubsub.Child("publish", Ns.PubSub) is { } publish) return await PublishAsync(owner, publish, pubsub.Child("publish-options", Ns.PubSub), ct).ConfigureAwait(false);
        if (pubsub.Child("retract", Ns.PubSub) is { } retract) return await RetractAsync(owner, retract, ct).ConfigureAwait(false);
        return Unsupported(pubsub.FirstChild()?.LocalName ?? "unknown");
    }

    private async ValueTask<IqReply> PublishAsync(Jid owner, Element publish, Element? publishOptions, CancellationToken ct)
    {
        var node = publish.GetAttribute("node");
        if (string.IsNullOrEmpty(node)) return PubSubError(StanzaError.BadRequest("A publish names its node"), "nodeid-required");
        var item = publish.Child("item", Ns.PubSub);
        if (item is null || publish.ChildCount != 1 || item.ChildCount > 1) return PubSubError(StanzaError.BadRequest("Publish exactly one item with one payload"), "invalid-payload");
        if (System.Text.Encoding.UTF8.GetByteCount(item.ToString()) > MaxItemBytes) return PubSubError(StanzaError.NotAcceptable("The item is too large"), "payload-too-big");
        var requested = publishOptions?.Child("x", Ns.DataForms) is { } form ? ParseConfig(form, Defaults, out var bad) : null;
        if (publishOptions is not null && requested is null) return PubSubError(StanzaError.BadRequest("Unreadable publish-options"), "invalid-options");
        var existing = await ConfigAsync(owner, node, ct).ConfigureAwait(false);
        NodeConfig config;
        if (existing is null)
        {
            // §7.1.4 / XEP-0163: the node is created with the options asked for.
            config = requested ?? Defaults;
            await _nodes.SetAsync(owner, node, ToElement(config), ct).ConfigureAwait(false);
        }
        else
        {
            // XEP-0223 §3: options that differ from the node's configuration are a failed precondition.
            if (requested is not null && requested != existing)
                return PubSubError(StanzaError.Conflict("The node's configuration differs from the publish-options"), "precondition-not-met");
            config = existing;
        }
        var id = item.GetAttribute("id");
        if (string.IsNullOrEmpty(id)) id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var stored = new Element("item", Ns.PubSub).SetAttribute("id", id)
            .SetAttribute("seq", Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture));
        if (item.FirstChild() is { } payload) stored.Add(payload.Clone());
        await _items.SetAsync(owner, node + Separator + id, stored, ct).ConfigureAwait(false);
        await TrimAsync(owner, node, config.MaxItems, ct).ConfigureAwait(false);
        await NotifyAsync(owner, node, config, new Element("items", Ns.PubSubEvent).SetAttribute("node", node).Add(Public(stored, Ns.PubSubEvent)), ct).ConfigureAwait(false);
        return IqReply.Ok(new PubSubRequest(new Element("pubsub", Ns.PubSub)
            .Add(new Element("publish", Ns.PubSub).SetAttribute("node", node).Add(new Element("item", Ns.PubSub).SetAttribute("id", id)))));
    }

    private async ValueTask<IqReply> RetractAsync(Jid owner, Element retract, CancellationToken ct)
    {
        var node = retract.GetAttribute("node");
        if (string.IsNullOrEmpty(node)) return PubSubError(StanzaError.BadRequest("A retract names its node"), "nodeid-required");
        var config = await ConfigAsync(owner, node, ct).ConfigureAwait(false);
        if (config is null) return StanzaError.ItemNotFound("No such node");
        var ids = new List<string>();
        foreach (var item in retract.Children)
            if (item.LocalName == "item" && item.GetAttribute("id") is { Length: > 0 } id) ids.Add(id);
        if (ids.Count == 0) return PubSubError(StanzaError.BadRequest("Name the items to retract"), "item-required");
        var all = await _items.GetAllAsync(owner, ct).ConfigureAwait(false);
        foreach (var id in ids)
            if (!all.ContainsKey(node + Separator + id)) return StanzaError.ItemNotFound("No such item");
        foreach (var id in ids) await _items.SetAsync(owner, node + Separator + id, null, ct).ConfigureAwait(false);
        if (retract.GetAttribute("notify") is "true" or "1")
        {
            var items = new Element("items", Ns.PubSubEvent).SetAttribute("node", node);
            foreach (var id in ids) items.Add(new Element("retract", Ns.PubSubEvent).SetAttribute("id", id));
            await NotifyAsync(owner, node, config, items, ct).ConfigureAwait(false);
        }
        return IqReply.Empty;
    }

    // ---- retrieval (XEP-0060 §6.5) ----

    private async ValueTask<IqReply> GetAsync(IqRequest<PubSubRequest> iq, CancellationToken ct)
    {
        var owner = iq.To.Bare;
        var items = iq.Payload.Element.Child("items", Ns.PubSub);
        if (items is null) return Unsupported(iq.Payload.Element.FirstChild()?.LocalName ?? "unknown");
        if (await storage.Accounts.GetAsync(owner, ct).ConfigureAwait(false) is null) return StanzaError.ServiceUnavailable;
        var node = items.GetAttribute("node");
        if (string.IsNullOrEmpty(node)) return PubSubError(StanzaError.BadRequest("Name the node"), "nodeid-required");
        var config = await ConfigAsync(owner, node, ct).ConfigureAwait(false);
        if (config is null) return StanzaError.ItemNotFound("No such node");
        if (await AccessErrorAsync(owner, iq.From.Bare, config, ct).ConfigureAwait(false) is { } denied) return denied;
        var stored = await NodeItemsAsync(owner, node, ct).ConfigureAwait(false);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in items.Children)
            if (i.LocalName == "item" && i.GetAttribute("id") is { } id) wanted.Add(id);
        var result = new Element("items", Ns.PubSub).SetAttribute("node", node);
        var max = int.TryParse(items.GetAttribute("max_items"), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : int.MaxValue;
        var start = wanted.Count == 0 ? Math.Max(0, stored.Count - max) : 0;
        for (var i = start; i < stored.Count; i++)
            if (wanted.Count == 0 || wanted.Contains(stored[i].GetAttribute("id")!)) result.Add(Public(stored[i], Ns.PubSub));
        return IqReply.Ok(new PubSubRequest(new Element("pubsub", Ns.PubSub).Add(result)));
    }

    // ---- owner use cases (XEP-0060 §8.2, §8.4) ----

    private async ValueTask<IqReply> OwnerAsync(IqRequest<PubSubOwnerRequest> iq, CancellationToken ct)
    {
        var owner = iq.From.Bare;
        var request = iq.Payload.Element.FirstChild();
        var node = request?.GetAttribute("node");
        if (request is null || string.IsNullOrEmpty(node)) return PubSubError(StanzaError.BadRequest("Name the node"), "nodeid-required");
        var config = await ConfigAsync(owner, node, ct).ConfigureAwait(false);
        if (config is null) return StanzaError.ItemNotFound("No such node");
        switch (request.LocalName, iq.Stanza.IqType)
        {
            case ("configure", IqType.Get):
                return IqReply.Ok(new PubSubOwnerRequest(new Element("pubsub", Ns.PubSubOwner)
                    .Add(new Element("configure", Ns.PubSubOwner).SetAttribute("node", node).Add(ConfigForm(config)))));
            case ("configure", IqType.Set):
                if (request.Child("x", Ns.DataForms) is not { } form) return StanzaError.BadRequest("Submit a configuration form");
                if (form.GetAttribute("type") == "cancel") return IqReply.Empty;
                var updated = ParseConfig(form, config, out var why);
                if (updated is null) return StanzaError.NotAcceptable(why);
                await _nodes.SetAsync(owner, node, ToElement(updated), ct).ConfigureAwait(false);
                await TrimAsync(owner, node, updated.MaxItems, ct).ConfigureAwait(false);
                return IqReply.Empty;
            case ("delete", IqType.Set):
                foreach (var item in await NodeItemsAsync(owner, node, ct).ConfigureAwait(false))
                    await _items.SetAsync(owner, node + Separator + item.GetAttribute("id"), null, ct).ConfigureAwait(false);
                await _nodes.SetAsync(owner, node, null, ct).ConfigureAwait(false);
                await NotifyAsync(owner, node, config, new Element("delete", Ns.PubSubEvent).SetAttribute("node", node), ct).ConfigureAwait(false);
                return IqReply.Empty;
            case ("purge", IqType.Set):
                foreach (var item in await NodeItemsAsync(owner, node, ct).ConfigureAwait(false))
                    await _items.SetAsync(owner, node + Separator + item.GetAttribute("id"), null, ct).ConfigureAwait(false);
                await NotifyAsync(owner, node, config, new Element("purge", Ns.PubSubEvent).SetAttribute("node", node), ct).ConfigureAwait(false);
                return IqReply.Empty;
            default:
                return Unsupported(request.LocalName);
        }
    }

    // ---- notifications (XEP-0163 §4.3, §4.4) ----

    // The owner's resources and those of contacts the access model lets see the node, each only if its caps ask
    // for node+notify; never across a block.
    private async Task NotifyAsync(Jid owner, string node, NodeConfig config, Element payload, CancellationToken ct)
    {
        var recipients = new List<Jid> { owner };
        if (config.Access != "whitelist")
        {
            foreach (var (key, item) in await roster.GetAllAsync(owner, ct).ConfigureAwait(false))
            {
                if (!Jid.TryParse(key, out var contact) || !addresses.IsLocal(contact)) continue;
                var sub = item.GetAttribute("subscription");
                if (config.Access == "roster" || sub is "from" or "both") recipients.Add(contact);
            }
        }
        foreach (var account in recipients)
        {
            if (account != owner && await blocklists.EitherBlocksAsync(owner, account, ct).ConfigureAwait(false)) continue;
            foreach (var session in sessions.Resources(account))
            {
                if (!session.Presence.IsAvailable || !_caps.WantsNotify(session, node)) continue;
                session.TryDeliver(Event(owner, session.Jid, payload.Clone()));
            }
        }
    }

    private static Element Event(Jid owner, Jid to, Element payload) =>
        new Element("message", Ns.Client).SetAttribute("from", owner.ToString()).SetAttribute("to", to.ToString()).SetAttribute("type", "headline")
            .Add(new Element("event", Ns.PubSubEvent).Add(payload));

    // A session's presence may carry new caps: learn them (verified), then send the last items it asked for.
    private ValueTask OnPresenceAsync(PresenceBroadcast e, CancellationToken ct)
    {
        if (e.Presence.GetAttribute("type") is not null) return ValueTask.CompletedTask;
        var session = e.Session;
        var c = e.Presence.Child("c", Ns.Caps);
        if (c?.GetAttribute("ver") is not { } ver || c.GetAttribute("node") is not { } capsNode)
            return e.Initial && _caps.Features(session) is not null ? new ValueTask(SendLastItemsAsync(session, ct)) : ValueTask.CompletedTask;
        var hash = c.GetAttribute("hash") ?? "sha-1";
        if (_caps.TryGetVerified(ver, out var known))
        {
            var changed = !ReferenceEquals(_caps.Features(session), known);
            _caps.Set(session, known);
            return changed || e.Initial ? new ValueTask(SendLastItemsAsync(session, ct)) : ValueTask.CompletedTask;
        }
        // Learned in the background: the presence goes on meanwhile.
        _ = LearnAsync(session, capsNode + "#" + ver, ver, hash);
        return ValueTask.CompletedTask;
    }

    private async Task LearnAsync(IClientSession session, string node, string ver, string hash)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var id = "caps-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            var reply = tracker.Expect(id, session.Jid, timeout.Token);
            session.TryDeliver(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", id)
                .SetAttribute("from", addresses.Domain).SetAttribute("to", session.Jid.ToString())
                .Add(new Element("query", Ns.DiscoInfo).SetAttribute("node", node)));
            var result = await reply.ConfigureAwait(false);
            if (result.Type != "result" || result.Element.Child("query", Ns.DiscoInfo) is not { } query) return;
            var features = EntityCaps.FeaturesOf(query);
            if (EntityCaps.Ver(query, hash) == ver) _caps.Cache(ver, features);
            _caps.Set(session, features);
            await SendLastItemsAsync(session, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client never answered: it gets no notifications until it announces caps again.
        }
    }

    // XEP-0163 §4.3.3: on presence, the last item of each node the session asked for, from its own account and
    // from every account it is subscribed to.
    private async Task SendLastItemsAsync(IClientSession session, CancellationToken ct)
    {
        var account = session.Jid.Bare;
        var owners = new List<Jid> { account };
        foreach (var (key, item) in await roster.GetAllAsync(account, ct).ConfigureAwait(false))
            if (item.GetAttribute("subscription") is "to" or "both" && Jid.TryParse(key, out var contact) && addresses.IsLocal(contact))
                owners.Add(contact);
        foreach (var owner in owners)
        {
            if (owner != account && await blocklists.EitherBlocksAsync(owner, account, ct).ConfigureAwait(false)) continue;
            foreach (var (node, configElement) in await _nodes.GetAllAsync(owner, ct).ConfigureAwait(false))
            {
                if (!_caps.WantsNotify(session, node)) continue;
                var config = ParseStored(configElement);
                if (config.SendLast == "never" || (owner != account && await AccessErrorAsync(owner, account, config, ct).ConfigureAwait(false) is not null)) continue;
                var items = await NodeItemsAsync(owner, node, ct).ConfigureAwait(false);
                if (items.Count == 0) continue;
                session.TryDeliver(Event(owner, session.Jid, new Element("items", Ns.PubSubEvent).SetAttribute("node", node).Add(Public(items[^1], Ns.PubSubEvent))));
            }
        }
    }

    // ---- access models (XEP-0060 §4.5, §6.5.9) ----

    private async Task<StanzaError?> AccessErrorAsync(Jid owner, Jid requester, NodeConfig config, CancellationToken ct)
    {
        if (requester == owner || config.Access == "open") return null;
        if (await blocklists.EitherBlocksAsync(owner, requester, ct).ConfigureAwait(false)) return StanzaError.ItemNotFound("No such node");
        var item = config.Access is "presence" or "roster" ? await roster.GetAsync(owner, requester, ct).ConfigureAwait(false) : null;
        return config.Access switch
        {
            "presence" when item?.GetAttribute("subscription") is "from" or "both" => null,
            "presence" => PubSubError(StanzaError.NotAuthorized("A presence subscription is required"), "presence-subscription-required"),
            "roster" when item is not null => null,
            "roster" => PubSubError(StanzaError.NotAuthorized("Only contacts in the roster may see this node"), "not-in-roster-group"),
            _ => PubSubError(StanzaError.NotAllowed("This node is private"), "closed-node"),
        };
    }

    private async Task<IReadOnlyList<Element>> VisibleNodesAsync(Jid owner, Jid requester, CancellationToken ct)
    {
        var list = new List<Element>();
        foreach (var (node, configElement) in await _nodes.GetAllAsync(owner, ct).ConfigureAwait(false))
            if (await AccessErrorAsync(owner, requester.Bare, ParseStored(configElement), ct).ConfigureAwait(false) is null)
                list.Add(new Element("item", Ns.DiscoItems).SetAttribute("jid", owner.ToString()).SetAttribute("node", node));
        return list;
    }

    // ---- storage ----

    private async Task<NodeConfig?> ConfigAsync(Jid owner, string node, CancellationToken ct) =>
        await _nodes.GetAsync(owner, node, ct).ConfigureAwait(false) is { } e ? ParseStored(e) : null;

    // The node's items, oldest first.
    private async Task<List<Element>> NodeItemsAsync(Jid owner, string node, CancellationToken ct)
    {
        var prefix = node + Separator;
        var list = new List<Element>();
        foreach (var (key, item) in await _items.GetAllAsync(owner, ct).ConfigureAwait(false))
            if (key.StartsWith(prefix, StringComparison.Ordinal)) list.Add(item);
        list.Sort((a, b) => Seq(a).CompareTo(Seq(b)));
        return list;
    }

    private async Task TrimAsync(Jid owner, string node, int max, CancellationToken ct)
    {
        var items = await NodeItemsAsync(owner, node, ct).ConfigureAwait(false);
        for (var i = 0; i < items.Count - max; i++)
            await _items.SetAsync(owner, node + Separator + items[i].GetAttribute("id"), null, ct).ConfigureAwait(false);
    }

    private static long Seq(Element item) => long.TryParse(item.GetAttribute("seq"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;

    private static Element Public(Element stored, string ns) => PubSubErrors.PublicItem(stored, ns);

    private static Element ToElement(NodeConfig c) =>
        new Element("node", "urn:parley:pep").SetAttribute("access", c.Access).SetAttribute("max", c.MaxItems.ToString(CultureInfo.InvariantCulture))
            .SetAttribute("persist", c.Persist ? "true" : "false").SetAttribute("sendlast", c.SendLast);

    private static NodeConfig ParseStored(Element e) => new(
        e.GetAttribute("access") ?? Defaults.Access,
        int.TryParse(e.GetAttribute("max"), NumberStyles.None, CultureInfo.InvariantCulture, out var max) ? max : Defaults.MaxItems,
        e.GetAttribute("persist") != "false",
        e.GetAttribute("sendlast") ?? Defaults.SendLast);

    private static Element ConfigForm(NodeConfig c) =>
        DataForm.Create("form", null, Ns.PubSub + "#node_config",
            DataForm.Field("pubsub#access_model", "list-single", null, false, c.Access),
            DataForm.Field("pubsub#max_items", "text-single", null, false, c.MaxItems.ToString(CultureInfo.InvariantCulture)),
            DataForm.Field("pubsub#persist_items", "boolean", null, false, c.Persist ? "true" : "false"),
            DataForm.Field("pubsub#send_last_published_item", "list-single", null, false, c.SendLast));

    // A node_config or publish-options form over a base configuration; null (with the reason) when a value is not supported.
    private static NodeConfig? ParseConfig(Element form, NodeConfig basis, out string why)
    {
        why = "";
        var config = basis;
        foreach (var (field, value) in DataForm.FirstValues(form))
        {
            switch (field)
            {
                case "pubsub#access_model":
                    if (value is not ("presence" or "open" or "roster" or "whitelist")) { why = "Unsupported access model " + value; return null; }
                    config = config with { Access = value };
                    break;
                case "pubsub#max_items":
                    if (!PubSubErrors.TryMaxItems(value, MaxItemsCap, out var max)) { why = "max_items must be a positive number or 'max'"; return null; }
                    config = config with { MaxItems = max };
                    break;
                case "pubsub#persist_items":
                    config = config with { Persist = value is "1" or "true" };
                    break;
                case "pubsub#send_last_published_item":
                    if (value is not ("never" or "on_sub" or "on_sub_and_presence")) { why = "Unsupported send_last_published_item " + value; return null; }
                    config = config with { SendLast = value };
                    break;
            }
        }
        return config;
    }

    private static StanzaError PubSubError(StanzaError error, string condition) => PubSubErrors.With(error, condition);

    private static StanzaError Unsupported(string feature) => PubSubErrors.Unsupported(feature, "on PEP");
}

/// <summary>XEP-0060 &lt;pubsub/&gt; (read as an element).</summary>
public sealed record PubSubRequest(Element Element) : IPayload<PubSubRequest>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.PubSub, "pubsub");

    /// <inheritdoc />
    public static PubSubRequest Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}

/// <summary>XEP-0060 §8 &lt;pubsub xmlns='…#owner'/&gt; (read as an element).</summary>
public sealed record PubSubOwnerRequest(Element Element) : IPayload<PubSubOwnerRequest>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.PubSubOwner, "pubsub");

    /// <inheritdoc />
    public static PubSubOwnerRequest Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}
