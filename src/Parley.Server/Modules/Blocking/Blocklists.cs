using System.Collections.Concurrent;
using Parley.Protocol;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Blocking;

/// <summary>
/// The accounts' block lists (XEP-0191), cached in memory, shared by the blocking module (which changes them and
/// enforces them on routed stanzas) and the presence modules (which must not send presence across a block on an
/// account's behalf). While the blocking module is disabled nothing counts as blocked.
/// </summary>
public sealed class Blocklists(IStorage storage)
{
    private readonly IMapStore _store = storage.Map("blocklist");
    private readonly ConcurrentDictionary<Jid, HashSet<string>> _cache = new();

    /// <summary>Set by the blocking module when it is registered.</summary>
    internal bool Enabled { get; set; }

    /// <summary>Whether <paramref name="account"/> blocks <paramref name="other"/> (by full JID, bare JID or domain).</summary>
    public async ValueTask<bool> BlocksAsync(Jid account, Jid other, CancellationToken ct)
    {
        if (!Enabled) return false;
        var set = await LoadAsync(account.Bare, ct).ConfigureAwait(false);
        lock (set)
        {
            if (set.Count == 0) return false;
            return set.Contains(other.ToString()) || set.Contains(other.Bare.ToString()) || set.Contains(other.Domain);
        }
    }

    /// <summary>Whether either party blocks the other (only local accounts have block lists here).</summary>
    public async ValueTask<bool> EitherBlocksAsync(Jid a, Jid b, CancellationToken ct) =>
        Enabled && (await BlocksAsync(a, b, ct).ConfigureAwait(false) || await BlocksAsync(b, a, ct).ConfigureAwait(false));

    /// <summary>The blocked JIDs of an account.</summary>
    public async ValueTask<List<string>> ListAsync(Jid account, CancellationToken ct)
    {
        var set = await LoadAsync(account.Bare, ct).ConfigureAwait(false);
        lock (set) return [.. set];
    }

    /// <summary>Adds or removes items; returns those that changed.</summary>
    public async ValueTask<List<string>> ChangeAsync(Jid account, IReadOnlyList<string> jids, bool block, CancellationToken ct)
    {
        var set = await LoadAsync(account.Bare, ct).ConfigureAwait(false);
        var changed = new List<string>(jids.Count);
        foreach (var jid in jids)
        {
            bool did;
            lock (set) did = block ? set.Add(jid) : set.Remove(jid);
            if (!did) continue;
            changed.Add(jid);
            await _store.SetAsync(account.Bare, jid, block ? new Element("item", Ns.Blocking).SetAttribute("jid", jid) : null, ct).ConfigureAwait(false);
        }
        return changed;
    }

    /// <summary>Empties an account's list; returns what it held.</summary>
    public async ValueTask<List<string>> ClearAsync(Jid account, CancellationToken ct)
    {
        var set = await LoadAsync(account.Bare, ct).ConfigureAwait(false);
        List<string> was;
        lock (set)
        {
            was = [.. set];
            set.Clear();
        }
        await _store.DeleteAllAsync(account.Bare, ct).ConfigureAwait(false);
        return was;
    }

    /// <summary>Forgets a deleted account's list.</summary>
    public async Task DeleteAsync(Jid account, CancellationToken ct)
    {
        _cache.TryRemove(account.Bare, out _);
        await _store.DeleteAllAsync(account.Bare, ct).ConfigureAwait(false);
    }

    private async ValueTask<HashSet<string>> LoadAsync(Jid account, CancellationToken ct)
    {
        if (_cache.TryGetValue(account, out var cached)) return cached;
        var stored = await _store.GetAllAsync(account, ct).ConfigureAwait(false);
        return _cache.GetOrAdd(account, _ => new HashSet<string>(stored.Keys, StringComparer.Ordinal));
    }
}
