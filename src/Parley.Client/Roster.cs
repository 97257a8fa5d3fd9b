using System.Collections.Concurrent;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// The account's roster (RFC 6121 §2) kept current from pushes, with versioning (§2.6), subscription management
/// (§3) and the presence of contacts' resources.
/// </summary>
public sealed class Roster
{
    private readonly XmppClient _client;
    private readonly ConcurrentDictionary<Jid, RosterItem> _items = new();
    private readonly ConcurrentDictionary<Jid, ConcurrentDictionary<string, PresenceInfo>> _presence = new();

    internal Roster(XmppClient client) => _client = client;

    /// <summary>The roster version last received (§2.6); persist it with <see cref="Items"/> to load only changes.</summary>
    public string? Version { get; private set; }

    /// <summary>Whether the roster was requested on this session (so pushes arrive, §2.1.6).</summary>
    public bool Loaded { get; private set; }

    /// <summary>The items, as last loaded and pushed.</summary>
    public IReadOnlyCollection<RosterItem> Items => (IReadOnlyCollection<RosterItem>)_items.Values;

    /// <summary>Raised for every roster push (§2.1.6); a removed item has subscription "remove".</summary>
    public event EventHandler<RosterItem>? ItemChanged;

    /// <summary>Raised when a contact asks to subscribe to the user's presence (§3.1.3).</summary>
    public event EventHandler<PresenceInfo>? SubscriptionRequested;

    /// <summary>Seeds the roster with a version and items saved from an earlier session, before <see cref="LoadAsync"/>.</summary>
    public void Restore(string version, IEnumerable<RosterItem> items)
    {
        _items.Clear();
        foreach (var item in items) _items[item.Jid] = item;
        Version = version;
    }

    /// <summary>
    /// Retrieves the roster (§2.2). When the server supports versioning and a version is known, asks only for the
    /// changes: an empty result means the cached items are current, and changes arrive as pushes (§2.6.3).
    /// </summary>
    public async Task<IReadOnlyCollection<RosterItem>> LoadAsync(CancellationToken ct = default)
    {
        Loaded = true;
        var query = new Element("query", Ns.Roster);
        var versioning = _client.Features?.Child("ver", Ns.RosterVersioning) is not null;
        if (versioning) query.SetAttribute("ver", Version ?? "");
        var result = await _client.IqAsync(IqType.Get, null, query, ct).ConfigureAwait(false);
        if (result is null) return Items;
        _items.Clear();
        foreach (var child in result.Children)
            if (RosterItem.Parse(child) is { } item) _items[item.Jid] = item;
        Version = versioning ? result.GetAttribute("ver") : null;
        return Items;
    }

    /// <summary>Adds or updates an item (§2.3, §2.4).</summary>
    public Task SetAsync(Jid jid, string? name = null, IEnumerable<string>? groups = null, CancellationToken ct = default)
    {
        var item = new Element("item", Ns.Roster).SetAttribute("jid", jid.Bare.ToString());
        if (name is not null) item.SetAttribute("name", name);
        if (groups is not null)
            foreach (var g in groups) item.Add(new Element("group", Ns.Roster).AddText(g));
        return _client.IqAsync(IqType.Set, null, new Element("query", Ns.Roster).Add(item), ct);
    }

    /// <summary>Removes an item, which also cancels the subscriptions both ways (§2.5).</summary>
    public Task RemoveAsync(Jid jid, CancellationToken ct = default) =>
        _client.IqAsync(IqType.Set, null, new Element("query", Ns.Roster)
            .Add(new Element("item", Ns.Roster).SetAttribute("jid", jid.Bare.ToString()).SetAttribute("subscription", "remove")), ct);

    /// <summary>Asks to subscribe to a contact's presence (§3.1.1).</summary>
    public Task SubscribeAsync(Jid jid, CancellationToken ct = default) => SubscriptionAsync(jid, "subscribe", ct);

    /// <summary>Approves a contact's subscription request, or pre-approves one (§3.1.4, §3.4).</summary>
    public Task ApproveAsync(Jid jid, CancellationToken ct = default) => SubscriptionAsync(jid, "subscribed", ct);

    /// <summary>Denies a request or cancels the contact's subscription to the user (§3.2).</summary>
    public Task DenyAsync(Jid jid, CancellationToken ct = default) => SubscriptionAsync(jid, "unsubscribed", ct);

    /// <summary>Unsubscribes from a contact's presence (§3.3).</summary>
    public Task UnsubscribeAsync(Jid jid, CancellationToken ct = default) => SubscriptionAsync(jid, "unsubscribe", ct);

    private Task SubscriptionAsync(Jid jid, string type, CancellationToken ct) =>
        _client.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", jid.Bare.ToString()).SetAttribute("type", type), ct);

    /// <summary>The available resources of a contact, with their last presence.</summary>
    public IReadOnlyList<PresenceInfo> PresenceOf(Jid jid) =>
        _presence.TryGetValue(jid.Bare, out var resources) ? [.. resources.Values] : [];

    // §2.1.6: a push comes from the account itself (no 'from', or the bare JID); anything else is ignored.
    internal Element? HandlePush(Element iq)
    {
        if (!_client.IsFromOwnAccount(iq.GetAttribute("from")) || (iq.GetAttribute("from") is { } f && f.Contains('/', StringComparison.Ordinal)))
            throw new StanzaException(StanzaError.ServiceUnavailable);
        var query = iq.FirstChild()!;
        var count = 0;
        foreach (var child in query.Children)
        {
            if (++count > 1) throw new StanzaException(StanzaError.BadRequest("A roster push carries one item"));
            if (RosterItem.Parse(child) is not { } item) continue;
            if (item.Subscription == "remove") _items.TryRemove(item.Jid, out _);
            else _items[item.Jid] = item;
            if (query.GetAttribute("ver") is { } ver) Version = ver;
            ItemChanged?.Invoke(this, item);
        }
        return null;
    }

    internal void Observe(PresenceInfo presence)
    {
        if (presence.From is not { } from) return;
        switch (presence.Type)
        {
            case null when from.Resource is { } resource:
                _presence.GetOrAdd(from.Bare, _ => new ConcurrentDictionary<string, PresenceInfo>(StringComparer.Ordinal))[resource] = presence;
                break;
            case "unavailable":
                if (_presence.TryGetValue(from.Bare, out var resources))
                {
                    if (from.Resource is { } gone) resources.TryRemove(gone, out _);
                    else resources.Clear();
                }
                break;
            case "subscribe":
                SubscriptionRequested?.Invoke(this, presence);
                break;
        }
    }
}
