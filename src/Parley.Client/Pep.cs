using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// Personal eventing (XEP-0163): publishing to the account's own nodes, reading anyone's, and notifications of the
/// nodes this client subscribes to through XEP-0115 "+notify" features.
/// </summary>
public sealed class Pep
{
    private readonly XmppClient _client;

    internal Pep(XmppClient client) => _client = client;

    /// <summary>Raised for each published item notified to this client.</summary>
    public event EventHandler<PepItem>? ItemPublished;

    /// <summary>Raised for each retracted item notified to this client (the payload is null).</summary>
    public event EventHandler<PepItem>? ItemRetracted;

    /// <summary>
    /// Asks for notifications of <paramref name="node"/> (XEP-0163 §4.4 "+notify"). It changes this client's caps:
    /// send presence again for the server to see it.
    /// </summary>
    public void Subscribe(string node) => _client.Feature(node + "+notify");

    /// <summary>
    /// Publishes an item to one of the account's nodes (§3), creating it as needed. <paramref name="options"/> are
    /// XEP-0223 publish-options (e.g. pubsub#access_model = open); returns the item id.
    /// </summary>
    public async Task<string?> PublishAsync(string node, Element payload, string? itemId = null, IReadOnlyDictionary<string, string>? options = null, CancellationToken ct = default)
    {
        var item = new Element("item", Ns.PubSub).Add(payload);
        if (itemId is not null) item.SetAttribute("id", itemId);
        var pubsub = new Element("pubsub", Ns.PubSub).Add(new Element("publish", Ns.PubSub).SetAttribute("node", node).Add(item));
        if (options is not null)
        {
            var form = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
                .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").SetAttribute("type", "hidden")
                    .Add(new Element("value", Ns.DataForms).AddText(Ns.PubSub + "#publish-options")));
            foreach (var (var, value) in options)
                form.Add(new Element("field", Ns.DataForms).SetAttribute("var", var).Add(new Element("value", Ns.DataForms).AddText(value)));
            pubsub.Add(new Element("publish-options", Ns.PubSub).Add(form));
        }
        var result = await _client.IqAsync(IqType.Set, null, pubsub, ct).ConfigureAwait(false);
        return result?.Child("publish", Ns.PubSub)?.Child("item", Ns.PubSub)?.GetAttribute("id") ?? itemId;
    }

    /// <summary>Retracts an item from one of the account's nodes (XEP-0060 §7.2), notifying subscribers.</summary>
    public Task RetractAsync(string node, string itemId, CancellationToken ct = default) =>
        _client.IqAsync(IqType.Set, null, new Element("pubsub", Ns.PubSub).Add(new Element("retract", Ns.PubSub)
            .SetAttribute("node", node).SetAttribute("notify", "true").Add(new Element("item", Ns.PubSub).SetAttribute("id", itemId))), ct);

    /// <summary>The items of a node of <paramref name="owner"/> (XEP-0060 §6.5), newest first as the service returns them.</summary>
    public async Task<IReadOnlyList<PepItem>> GetItemsAsync(Jid owner, string node, int? max = null, CancellationToken ct = default)
    {
        var items = new Element("items", Ns.PubSub).SetAttribute("node", node);
        if (max is { } m) items.SetAttribute("max_items", m.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = await _client.IqAsync(IqType.Get, owner.Bare, new Element("pubsub", Ns.PubSub).Add(items), ct).ConfigureAwait(false);
        var list = new List<PepItem>();
        if (result?.Child("items", Ns.PubSub) is { } found)
            foreach (var item in found.Children)
                if (item.LocalName == "item") list.Add(new PepItem(owner.Bare, node, item.GetAttribute("id"), item.FirstChild()));
        return list;
    }

    internal void Deliver(Element message, Element pubsubEvent)
    {
        var publisher = JidText.Parse(message.GetAttribute("from"));
        if (pubsubEvent.Child("items", Ns.PubSubEvent) is not { } items || items.GetAttribute("node") is not { } node) return;
        foreach (var child in items.Children)
        {
            if (child.LocalName == "item") ItemPublished?.Invoke(this, new PepItem(publisher, node, child.GetAttribute("id"), child.FirstChild()));
            else if (child.LocalName == "retract") ItemRetracted?.Invoke(this, new PepItem(publisher, node, child.GetAttribute("id"), null));
        }
    }
}
