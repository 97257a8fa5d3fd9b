using System.Collections.Concurrent;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// Service discovery (XEP-0030) and a XEP-0115 capabilities cache: the features of an entity that announced caps
/// are fetched once per verification string, checked against the hash, and shared by every entity with that string.
/// </summary>
public sealed class Disco
{
    private readonly XmppClient _client;
    private readonly ConcurrentDictionary<string, DiscoInfo> _byVer = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Jid, (string Node, string Ver, string Hash)> _announced = new();

    internal Disco(XmppClient client) => _client = client;

    /// <summary>How many verified caps entries are cached.</summary>
    public int CachedCapsCount => _byVer.Count;

    /// <summary>disco#info of an entity (and node).</summary>
    public async Task<DiscoInfo> GetInfoAsync(Jid jid, string? node = null, CancellationToken ct = default)
    {
        var query = new Element("query", Ns.DiscoInfo);
        if (node is not null) query.SetAttribute("node", node);
        var result = await _client.IqAsync(IqType.Get, jid, query, ct).ConfigureAwait(false);
        return DiscoInfo.Parse(result ?? query);
    }

    /// <summary>disco#items of an entity (and node).</summary>
    public async Task<IReadOnlyList<DiscoItem>> GetItemsAsync(Jid jid, string? node = null, CancellationToken ct = default)
    {
        var query = new Element("query", Ns.DiscoItems);
        if (node is not null) query.SetAttribute("node", node);
        var result = await _client.IqAsync(IqType.Get, jid, query, ct).ConfigureAwait(false);
        var items = new List<DiscoItem>();
        if (result is not null)
            foreach (var item in result.Children)
                if (item.LocalName == "item" && Jid.TryParse(item.GetAttribute("jid"), out var j))
                    items.Add(new DiscoItem(j, item.GetAttribute("node"), item.GetAttribute("name")));
        return items;
    }

    /// <summary>
    /// The features of an entity that sent presence with XEP-0115 caps: from the cache when its verification string
    /// is known, otherwise asked for (node#ver) and cached if the answer hashes to that string (§5.4). Null when the
    /// entity announced no caps.
    /// </summary>
    public async Task<DiscoInfo?> GetCapsInfoAsync(Jid jid, CancellationToken ct = default)
    {
        if (!_announced.TryGetValue(jid, out var caps)) return null;
        if (_byVer.TryGetValue(caps.Ver, out var cached)) return cached;
        var info = await GetInfoAsync(jid, caps.Node + "#" + caps.Ver, ct).ConfigureAwait(false);
        if (CapsVerification.Ver(info.Element, caps.Hash) == caps.Ver) _byVer.TryAdd(caps.Ver, info);
        return info;
    }

    /// <summary>The first of the server and its items whose disco#info lists <paramref name="feature"/>.</summary>
    public async Task<Jid?> FindServiceAsync(string feature, CancellationToken ct = default)
    {
        var domain = Jid.Create(null, _client.BoundJid.Domain);
        if ((await GetInfoAsync(domain, null, ct).ConfigureAwait(false)).Supports(feature)) return domain;
        foreach (var item in await GetItemsAsync(domain, null, ct).ConfigureAwait(false))
        {
            try
            {
                if ((await GetInfoAsync(item.Jid, item.Node, ct).ConfigureAwait(false)).Supports(feature)) return item.Jid;
            }
            catch (XmppErrorException)
            {
                // An item that does not answer is not the service.
            }
        }
        return null;
    }

    internal void Observe(PresenceInfo presence)
    {
        if (presence.From is not { } from) return;
        if (presence.Type == "unavailable")
        {
            _announced.TryRemove(from, out _);
            return;
        }
        // XEP-0115 §4: the legacy format (no 'hash') carries no verifiable string and is not cached.
        if (presence.Type is null && presence.Element.Child("c", Ns.Caps) is { } c
            && c.GetAttribute("node") is { } node && c.GetAttribute("ver") is { } ver && c.GetAttribute("hash") is { } hash)
            _announced[from] = (node, ver, hash);
    }
}
