using System.Globalization;
using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.PubSub;

/// <summary>
/// A generic XEP-0060 publish-subscribe service on pubsub.&lt;Domain&gt;, with the use cases clients use:
/// accounts of this server create nodes (and own them); owners configure (access model open or whitelist,
/// publish model publishers or open, max_items), purge and delete nodes and manage affiliations and see
/// subscriptions; anyone the access model lets in subscribes (a bare or full JID of their own) and unsubscribes,
/// lists its subscriptions and affiliations and retrieves items; publishers publish and retract, and every
/// subscriber is notified (with the last item on subscribing). Nodes are listed in disco#items.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "A semaphore without a wait handle holds nothing to free; the module lives as long as the server.")]
public sealed class PubSubServiceModule(IStorage storage, ComponentRegistry components, Addresses addresses, IServiceProvider services) : IModule, IComponent
{
    private const char Separator = '\u001f';
    private const int MaxItemsCap = 1000;
    private const string Meta = "urn:parley:pubsub";
    private readonly IMapStore _nodes = storage.Map("pubsub.nodes");
    private readonly IMapStore _items = storage.Map("pubsub.items");
    private readonly IMapStore _subscriptions = storage.Map("pubsub.subscriptions");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Jid _service;
    private Router? _router;
    private long _sequence = DateTimeOffset.UtcNow.UtcTicks;

    private Router Router => _router ??= (Router)services.GetService(typeof(Router))!;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("pubsub", Xeps: [60]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        _service = Jid.Create(null, "pubsub." + addresses.Domain);
        components.TryAdd(_service.Domain, this);
        m.ServiceItem(_service.ToString(), "Publish-subscribe");
    }

    /// <inheritdoc />
    public async ValueTask HandleAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        if (stanza.Kind != StanzaKind.Iq || stanza.IqType is not (IqType.Get or IqType.Set) || stanza.From is not { } from) return;
        var payload = stanza.Element.FirstChild();
        IqReply reply;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            reply = (payload?.Namespace, payload?.LocalName) switch
            {
                (Ns.DiscoInfo, "query") when stanza.IqType == IqType.Get => await InfoAsync(payload!.GetAttribute("node"), ct).ConfigureAwait(false),
                (Ns.DiscoItems, "query") when stanza.IqType == IqType.Get => await ItemsListAsync(payload!.GetAttribute("node"), ct).ConfigureAwait(false),
                (Ns.PubSub, "pubsub") => await PubSubAsync(stanza.IqType.Value, payload!, from, ct).ConfigureAwait(false),
                (Ns.PubSubOwner, "pubsub") => await OwnerAsync(stanza.IqType.Value, payload!, from, ct).ConfigureAwait(false),
                _ => StanzaError.ServiceUnavailable,
            };
        }
        finally
        {
            _gate.Release();
        }
        var response = reply.Error is { } error
            ? stanza.CreateErrorReply(error)
            : new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", stanza.Id)
                .SetAttribute("from", _service.ToString()).SetAttribute("to", from.ToString());
        if (reply.Error is null && reply.Payload is { } p) response.Add(p);
        origin.TryDeliver(response);
    }

    private sealed record Node(string Name, string Access, string PublishModel, int MaxItems, Dictionary<Jid, string> Affiliations)
    {
        public string Affiliation(Jid jid) => Affiliations.TryGetValue(jid.Bare, out var a) ? a : "none";

        public bool CanPublish(Jid jid) => PublishModel == "open" || Affiliation(jid) is "owner" or "publisher";

        public bool CanSee(Jid jid) => Access == "open" || Affiliation(jid) is "owner" or "publisher" or "member";
    }

    // ---- XEP-0060 §5: discovery ----

    private async Task<IqReply> InfoAsync(string? node, CancellationToken ct)
    {
        var query = new Element("query", Ns.DiscoInfo);
        if (node is null)
        {
            query.Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "pubsub").SetAttribute("type", "service").SetAttribute("name", "Publish-subscribe"));
            foreach (var f in new[] { Ns.DiscoInfo, Ns.DiscoItems, Ns.PubSub })
                query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", f));
            foreach (var f in new[] { "create-nodes", "instant-nodes", "config-node", "delete-nodes", "purge-nodes", "publish", "retract-items",
                                      "retrieve-items", "subscribe", "retrieve-subscriptions", "retrieve-affiliations", "manage-subscriptions",
                                      "modify-affiliations", "access-open", "access-whitelist", "item-ids", "persistent-items", "last-published" })
                query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.PubSub + "#" + f));
            return IqReply.Ok(query);
        }
        if (await LoadAsync(node, ct).ConfigureAwait(false) is null) return StanzaError.ItemNotFound("No such node");
        query.SetAttribute("node", node).Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "pubsub").SetAttribute("type", "leaf"))
            .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.PubSub));
        return IqReply.Ok(query);
    }

    private async Task<IqReply> ItemsListAsync(string? node, CancellationToken ct)
    {
        var query = new Element("query", Ns.DiscoItems);
        if (node is null)
        {
            foreach (var (name, _) in await _nodes.GetAllAsync(_service, ct).ConfigureAwait(false))
                query.Add(new Element("item", Ns.DiscoItems).SetAttribute("jid", _service.ToString()).SetAttribute("node", name));
            return IqReply.Ok(query);
        }
        if (await LoadAsync(node, ct).ConfigureAwait(false) is null) return StanzaError.ItemNotFound("No such node");
        query.SetAttribute("node", node);
        foreach (var item in await NodeItemsAsync(node, ct).ConfigureAwait(false))
            query.Add(new Element("item", Ns.DiscoItems).SetAttribute("jid", _service.ToString()).SetAttribute("name", item.GetAttribute("id")));
        return IqReply.Ok(query);
    }

    // ---- XEP-0060 §6 and §7: subscriber and publisher use cases ----

    private async Task<IqReply> PubSubAsync(IqType type, Element pubsub, Jid from, CancellationToken ct)
    {
        var request = pubsub.FirstChild();
        if (request is null) return StanzaError.BadRequest("Empty pubsub request");
        var nodeName = request.GetAttribute("node");
        switch (request.LocalName, type)
        {
            case ("create", IqType.Set):
                return await CreateAsync(nodeName, pubsub.Child("configure", Ns.PubSub)?.Child("x", Ns.DataForms), from, ct).ConfigureAwait(false);
            case ("subscriptions", IqType.Get):
            {
                var list = new Element("subscriptions", Ns.PubSub);
                foreach (var (key, sub) in await _subscriptions.GetAllAsync(_service, ct).ConfigureAwait(false))
                    if (Jid.TryParse(sub.GetAttribute("jid"), out var j) && j.Bare == from.Bare && (nodeName is null || sub.GetAttribute("node") == nodeName))
                        list.Add(Subscription(sub));
                return Ok(Ns.PubSub, list);
            }
            case ("affiliations", IqType.Get):
            {
                var list = new Element("affiliations", Ns.PubSub);
                foreach (var (name, element) in await _nodes.GetAllAsync(_service, ct).ConfigureAwait(false))
                {
                    var node = Parse(name, element);
                    if (node.Affiliation(from) is var a && a != "none" && (nodeName is null || name == nodeName))
                        list.Add(new Element("affiliation", Ns.PubSub).SetAttribute("node", name).SetAttribute("affiliation", a));
                }
                return Ok(Ns.PubSub, list);
            }
        }
        if (string.IsNullOrEmpty(nodeName)) return PubSubErrors.With(StanzaError.BadRequest("Name the node"), "nodeid-required");
        var target = await LoadAsync(nodeName, ct).ConfigureAwait(false);
        if (target is null) return StanzaError.ItemNotFound("No such node");
        return (request.LocalName, type) switch
        {
            ("publish", IqType.Set) => await PublishAsync(target, request, from, ct).ConfigureAwait(false),
            ("retract", IqType.Set) => await RetractAsync(target, request, from, ct).ConfigureAwait(false),
            ("subscribe", IqType.Set) => await SubscribeAsync(target, request, from, ct).ConfigureAwait(false),
            ("unsubscribe", IqType.Set) => await UnsubscribeAsync(target, request, from, ct).ConfigureAwait(false),
            ("items", IqType.Get) => await GetItemsAsync(target, request, from, ct).ConfigureAwait(false),
            _ => PubSubErrors.Unsupported(request.LocalName, "by this service"),
        };
    }

    private async Task<IqReply> CreateAsync(string? name, Element? form, Jid from, CancellationToken ct)
    {
        // Only accounts of this server create nodes.
        if (!addresses.IsLocal(from) || from.Local is null) return StanzaError.Forbidden("Only accounts of this server may create nodes");
        var instant = string.IsNullOrEmpty(name);
        if (instant) name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        if (await LoadAsync(name!, ct).ConfigureAwait(false) is not null) return StanzaError.Conflict("The node exists");
        var node = new Node(name!, "open", "publishers", 10, new Dictionary<Jid, string> { [from.Bare] = "owner" });
        if (form is not null)
        {
            node = Configure(node, form, out var why);
            if (node is null) return StanzaError.NotAcceptable(why);
        }
        await SaveAsync(node, ct).ConfigureAwait(false);
        return instant ? Ok(Ns.PubSub, new Element("create", Ns.PubSub).SetAttribute("node", name)) : IqReply.Empty;
    }

    private async Task<IqReply> PublishAsync(Node node, Element publish, Jid from, CancellationToken ct)
    {
        if (!node.CanPublish(from)) return StanzaError.Forbidden("Only publishers may publish to this node");
        var item = publish.Child("item", Ns.PubSub);
        if (item is null || item.ChildCount > 1) return PubSubErrors.With(StanzaError.BadRequest("Publish one item with at most one payload"), "invalid-payload");
        var id = item.GetAttribute("id");
        if (string.IsNullOrEmpty(id)) id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var stored = new Element("item", Ns.PubSub).SetAttribute("id", id).SetAttribute("seq", Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture));
        if (item.FirstChild() is { } payload) stored.Add(payload.Clone());
        await _items.SetAsync(_service, node.Name + Separator + id, stored, ct).ConfigureAwait(false);
        var items = await NodeItemsAsync(node.Name, ct).ConfigureAwait(false);
        for (var i = 0; i < items.Count - node.MaxItems; i++)
            await _items.SetAsync(_service, node.Name + Separator + items[i].GetAttribute("id"), null, ct).ConfigureAwait(false);
        await NotifyAsync(node.Name, new Element("items", Ns.PubSubEvent).SetAttribute("node", node.Name).Add(PubSubErrors.PublicItem(stored, Ns.PubSubEvent)), ct).ConfigureAwait(false);
        return Ok(Ns.PubSub, new Element("publish", Ns.PubSub).SetAttribute("node", node.Name).Add(new Element("item", Ns.PubSub).SetAttribute("id", id)));
    }

    private async Task<IqReply> RetractAsync(Node node, Element retract, Jid from, CancellationToken ct)
    {
        if (!node.CanPublish(from)) return StanzaError.Forbidden("Only publishers may retract");
        var id = retract.Child("item", Ns.PubSub)?.GetAttribute("id");
        if (string.IsNullOrEmpty(id)) return PubSubErrors.With(StanzaError.BadRequest("Name the item"), "item-required");
        if (await _items.GetAsync(_service, node.Name + Separator + id, ct).ConfigureAwait(false) is null) return StanzaError.ItemNotFound("No such item");
        await _items.SetAsync(_service, node.Name + Separator + id, null, ct).ConfigureAwait(false);
        if (retract.GetAttribute("notify") is "true" or "1")
            await NotifyAsync(node.Name, new Element("items", Ns.PubSubEvent).SetAttribute("node", node.Name).Add(new Element("retract", Ns.PubSubEvent).SetAttribute("id", id)), ct).ConfigureAwait(false);
        return IqReply.Empty;
    }

    private async Task<IqReply> SubscribeAsync(Node node, Element subscribe, Jid from, CancellationToken ct)
    {
        // §6.1.3.1: one may only subscribe oneself (a bare or full JID of one's own).
        if (!Jid.TryParse(subscribe.GetAttribute("jid"), out var jid) || jid.Bare != from.Bare)
            return PubSubErrors.With(StanzaError.BadRequest("Subscribe your own JID"), "invalid-jid");
        if (!node.CanSee(from)) return PubSubErrors.With(StanzaError.NotAllowed("This node is for its members only"), "closed-node");
        var key = node.Name + Separator + jid;
        var sub = await _subscriptions.GetAsync(_service, key, ct).ConfigureAwait(false)
                  ?? new Element("subscription", Meta).SetAttribute("node", node.Name).SetAttribute("jid", jid.ToString())
                      .SetAttribute("subid", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        await _subscriptions.SetAsync(_service, key, sub, ct).ConfigureAwait(false);
        // §6.1.7: the last published item goes to the new subscriber.
        var items = await NodeItemsAsync(node.Name, ct).ConfigureAwait(false);
        if (items.Count > 0)
            await SendAsync(jid, new Element("items", Ns.PubSubEvent).SetAttribute("node", node.Name).Add(PubSubErrors.PublicItem(items[^1], Ns.PubSubEvent)), ct).ConfigureAwait(false);
        return Ok(Ns.PubSub, Subscription(sub));
    }

    private async Task<IqReply> UnsubscribeAsync(Node node, Element unsubscribe, Jid from, CancellationToken ct)
    {
        if (!Jid.TryParse(unsubscribe.GetAttribute("jid"), out var jid) || (jid.Bare != from.Bare && node.Affiliation(from) != "owner"))
            return StanzaError.Forbidden("You may only unsubscribe yourself");
        var key = node.Name + Separator + jid;
        if (await _subscriptions.GetAsync(_service, key, ct).ConfigureAwait(false) is null)
            return PubSubErrors.With(StanzaError.UnexpectedRequest("Not subscribed"), "not-subscribed");
        await _subscriptions.SetAsync(_service, key, null, ct).ConfigureAwait(false);
        return IqReply.Empty;
    }

    private async Task<IqReply> GetItemsAsync(Node node, Element request, Jid from, CancellationToken ct)
    {
        if (!node.CanSee(from)) return PubSubErrors.With(StanzaError.NotAllowed("This node is for its members only"), "closed-node");
        var stored = await NodeItemsAsync(node.Name, ct).ConfigureAwait(false);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in request.Children)
            if (i.LocalName == "item" && i.GetAttribute("id") is { } id) wanted.Add(id);
        var max = int.TryParse(request.GetAttribute("max_items"), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : int.MaxValue;
        var result = new Element("items", Ns.PubSub).SetAttribute("node", node.Name);
        for (var i = wanted.Count == 0 ? Math.Max(0, stored.Count - max) : 0; i < stored.Count; i++)
            if (wanted.Count == 0 || wanted.Contains(stored[i].GetAttribute("id")!)) result.Add(PubSubErrors.PublicItem(stored[i], Ns.PubSub));
        return Ok(Ns.PubSub, result);
    }

    // ---- XEP-0060 §8: owner use cases ----

    private async Task<IqReply> OwnerAsync(IqType type, Element pubsub, Jid from, CancellationToken ct)
    {
        var request = pubsub.FirstChild();
        var name = request?.GetAttribute("node");
        if (request is null || string.IsNullOrEmpty(name)) return PubSubErrors.With(StanzaError.BadRequest("Name the node"), "nodeid-required");
        var node = await LoadAsync(name, ct).ConfigureAwait(false);
        if (node is null) return StanzaError.ItemNotFound("No such node");
        if (node.Affiliation(from) != "owner") return StanzaError.Forbidden("Only the node's owners may do this");
        switch (request.LocalName, type)
        {
            case ("configure", IqType.Get):
                return Ok(Ns.PubSubOwner, new Element("configure", Ns.PubSubOwner).SetAttribute("node", name).Add(ConfigForm(node)));
            case ("configure", IqType.Set):
            {
                if (request.Child("x", Ns.DataForms) is not { } form) return StanzaError.BadRequest("Submit a configuration form");
                if (form.GetAttribute("type") == "cancel") return IqReply.Empty;
                var updated = Configure(node, form, out var why);
                if (updated is null) return StanzaError.NotAcceptable(why);
                await SaveAsync(updated, ct).ConfigureAwait(false);
                return IqReply.Empty;
            }
            case ("delete", IqType.Set):
                await NotifyAsync(name, new Element("delete", Ns.PubSubEvent).SetAttribute("node", name), ct).ConfigureAwait(false);
                await PurgeItemsAsync(name, ct).ConfigureAwait(false);
                foreach (var (key, sub) in await _subscriptions.GetAllAsync(_service, ct).ConfigureAwait(false))
                    if (sub.GetAttribute("node") == name) await _subscriptions.SetAsync(_service, key, null, ct).ConfigureAwait(false);
                await _nodes.SetAsync(_service, name, null, ct).ConfigureAwait(false);
                return IqReply.Empty;
            case ("purge", IqType.Set):
                await PurgeItemsAsync(name, ct).ConfigureAwait(false);
                await NotifyAsync(name, new Element("purge", Ns.PubSubEvent).SetAttribute("node", name), ct).ConfigureAwait(false);
                return IqReply.Empty;
            case ("subscriptions", IqType.Get):
            {
                var list = new Element("subscriptions", Ns.PubSubOwner).SetAttribute("node", name);
                foreach (var (_, sub) in await _subscriptions.GetAllAsync(_service, ct).ConfigureAwait(false))
                    if (sub.GetAttribute("node") == name)
                        list.Add(new Element("subscription", Ns.PubSubOwner).SetAttribute("jid", sub.GetAttribute("jid")).SetAttribute("subscription", "subscribed"));
                return Ok(Ns.PubSubOwner, list);
            }
            case ("affiliations", IqType.Get):
            {
                var list = new Element("affiliations", Ns.PubSubOwner).SetAttribute("node", name);
                foreach (var (jid, a) in node.Affiliations)
                    list.Add(new Element("affiliation", Ns.PubSubOwner).SetAttribute("jid", jid.ToString()).SetAttribute("affiliation", a));
                return Ok(Ns.PubSubOwner, list);
            }
            case ("affiliations", IqType.Set):
            {
                var affiliations = new Dictionary<Jid, string>(node.Affiliations);
                foreach (var a in request.Children)
                {
                    if (a.LocalName != "affiliation") continue;
                    if (!Jid.TryParse(a.GetAttribute("jid"), out var jid) || a.GetAttribute("affiliation") is not ("owner" or "publisher" or "member" or "none" or "outcast") || a.GetAttribute("affiliation") is not { } value)
                        return StanzaError.BadRequest("Each affiliation needs a jid and one of owner, publisher, member, none, outcast");
                    if (value == "none") affiliations.Remove(jid.Bare);
                    else affiliations[jid.Bare] = value;
                }
                // §8.9.2.4: a node keeps at least one owner.
                if (!affiliations.ContainsValue("owner")) return StanzaError.NotAcceptable("A node needs an owner");
                await SaveAsync(node with { Affiliations = affiliations }, ct).ConfigureAwait(false);
                return IqReply.Empty;
            }
            default:
                return PubSubErrors.Unsupported(request.LocalName, "by this service");
        }
    }

    // ---- notifications ----

    private async Task NotifyAsync(string node, Element payload, CancellationToken ct)
    {
        foreach (var (_, sub) in await _subscriptions.GetAllAsync(_service, ct).ConfigureAwait(false))
            if (sub.GetAttribute("node") == node && Jid.TryParse(sub.GetAttribute("jid"), out var jid))
                await SendAsync(jid, payload.Clone(), ct).ConfigureAwait(false);
    }

    private async Task SendAsync(Jid to, Element payload, CancellationToken ct)
    {
        var message = new Element("message", Ns.Client).SetAttribute("from", _service.ToString()).SetAttribute("to", to.ToString())
            .SetAttribute("type", "headline").Add(new Element("event", Ns.PubSubEvent).Add(payload));
        await Router.RouteAsync(Stanza.Create(message), new ServiceOrigin(_service), ct).ConfigureAwait(false);
    }

    // Errors about notifications (a subscriber gone) need no answer.
    private sealed class ServiceOrigin(Jid service) : ISession
    {
        public Jid Jid => service;

        public bool TryDeliver(Element stanza) => true;
    }

    // ---- storage and configuration ----

    private static IqReply Ok(string ns, Element content) => IqReply.Ok(new Element("pubsub", ns).Add(content));

    private static Element Subscription(Element sub) =>
        new Element("subscription", Ns.PubSub).SetAttribute("node", sub.GetAttribute("node")).SetAttribute("jid", sub.GetAttribute("jid"))
            .SetAttribute("subid", sub.GetAttribute("subid")).SetAttribute("subscription", "subscribed");

    private async Task<Node?> LoadAsync(string name, CancellationToken ct) =>
        await _nodes.GetAsync(_service, name, ct).ConfigureAwait(false) is { } e ? Parse(name, e) : null;

    private Task SaveAsync(Node node, CancellationToken ct)
    {
        var e = new Element("node", Meta).SetAttribute("access", node.Access).SetAttribute("publish", node.PublishModel)
            .SetAttribute("max", node.MaxItems.ToString(CultureInfo.InvariantCulture));
        foreach (var (jid, a) in node.Affiliations) e.Add(new Element("affiliation", Meta).SetAttribute("jid", jid.ToString()).SetAttribute("affiliation", a));
        return _nodes.SetAsync(_service, node.Name, e, ct);
    }

    private static Node Parse(string name, Element e)
    {
        var affiliations = new Dictionary<Jid, string>();
        foreach (var a in e.Children)
            if (Jid.TryParse(a.GetAttribute("jid"), out var jid) && a.GetAttribute("affiliation") is { } value) affiliations[jid] = value;
        return new Node(name, e.GetAttribute("access") ?? "open", e.GetAttribute("publish") ?? "publishers",
            int.TryParse(e.GetAttribute("max"), NumberStyles.None, CultureInfo.InvariantCulture, out var max) ? max : 10, affiliations);
    }

    private async Task<List<Element>> NodeItemsAsync(string node, CancellationToken ct)
    {
        var prefix = node + Separator;
        var list = new List<Element>();
        foreach (var (key, item) in await _items.GetAllAsync(_service, ct).ConfigureAwait(false))
            if (key.StartsWith(prefix, StringComparison.Ordinal)) list.Add(item);
        list.Sort((a, b) => Seq(a).CompareTo(Seq(b)));
        return list;
    }

    private async Task PurgeItemsAsync(string node, CancellationToken ct)
    {
        foreach (var item in await NodeItemsAsync(node, ct).ConfigureAwait(false))
            await _items.SetAsync(_service, node + Separator + item.GetAttribute("id"), null, ct).ConfigureAwait(false);
    }

    private static long Seq(Element item) => long.TryParse(item.GetAttribute("seq"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;

    private static Element ConfigForm(Node node) =>
        DataForm.Create("form", null, Ns.PubSub + "#node_config",
            DataForm.Field("pubsub#access_model", "list-single", null, false, node.Access),
            DataForm.Field("pubsub#publish_model", "list-single", null, false, node.PublishModel),
            DataForm.Field("pubsub#max_items", "text-single", null, false, node.MaxItems.ToString(CultureInfo.InvariantCulture)));

    private static Node? Configure(Node node, Element form, out string why)
    {
        why = "";
        foreach (var (field, value) in DataForm.FirstValues(form))
        {
            switch (field)
            {
                case "pubsub#access_model":
                    if (value is not ("open" or "whitelist")) { why = "Access models here: open, whitelist"; return null; }
                    node = node with { Access = value };
                    break;
                case "pubsub#publish_model":
                    if (value is not ("publishers" or "open")) { why = "Publish models here: publishers, open"; return null; }
                    node = node with { PublishModel = value };
                    break;
                case "pubsub#max_items":
                    if (!PubSubErrors.TryMaxItems(value, MaxItemsCap, out var max)) { why = "max_items must be a positive number or 'max'"; return null; }
                    node = node with { MaxItems = max };
                    break;
            }
        }
        return node;
    }
}
