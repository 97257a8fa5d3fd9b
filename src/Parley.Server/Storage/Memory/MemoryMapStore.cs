using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Storage.Memory;

/// <summary>A map store in memory. Elements are copied in and out so callers never share them.</summary>
internal sealed class MemoryMapStore : IMapStore
{
    private readonly ConcurrentDictionary<Jid, ConcurrentDictionary<string, Element>> _accounts = new();

    public Task<Element?> GetAsync(Jid account, string key, CancellationToken ct) =>
        Task.FromResult(_accounts.TryGetValue(account.Bare, out var map) && map.TryGetValue(key, out var e) ? e.Clone() : null);

    public Task<IReadOnlyDictionary<string, Element>> GetAllAsync(Jid account, CancellationToken ct)
    {
        var result = new Dictionary<string, Element>(StringComparer.Ordinal);
        if (_accounts.TryGetValue(account.Bare, out var map))
            foreach (var (k, v) in map) result[k] = v.Clone();
        return Task.FromResult<IReadOnlyDictionary<string, Element>>(result);
    }

    public Task SetAsync(Jid account, string key, Element? value, CancellationToken ct)
    {
        var map = _accounts.GetOrAdd(account.Bare, _ => new ConcurrentDictionary<string, Element>(StringComparer.Ordinal));
        if (value is null) map.TryRemove(key, out _);
        else map[key] = value.Clone();
        return Task.CompletedTask;
    }

    public Task<int> CountAsync(Jid account, CancellationToken ct) =>
        Task.FromResult(_accounts.TryGetValue(account.Bare, out var map) ? map.Count : 0);

    public Task<long> CountAllAsync(CancellationToken ct)
    {
        long count = 0;
        foreach (var map in _accounts.Values) count += map.Count;
        return Task.FromResult(count);
    }

    public Task DeleteAllAsync(Jid account, CancellationToken ct)
    {
        _accounts.TryRemove(account.Bare, out _);
        return Task.CompletedTask;
    }
}
