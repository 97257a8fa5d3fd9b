using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Storage.Memory;

/// <summary>The archive in memory (tests): a list per account, scanned.</summary>
internal sealed class MemoryArchiveStore : IArchiveStore
{
    private readonly ConcurrentDictionary<Jid, List<ArchivedMessage>> _archives = new();

    public Task AppendAsync(Jid account, ArchivedMessage message, CancellationToken ct)
    {
        var list = _archives.GetOrAdd(account.Bare, _ => []);
        lock (list) list.Add(message);
        return Task.CompletedTask;
    }

    public Task<ArchivePage?> QueryAsync(Jid account, ArchiveQuery q, CancellationToken ct)
    {
        ArchivedMessage[] all;
        var list = _archives.GetOrAdd(account.Bare, _ => []);
        lock (list) all = [.. list];
        int Position(string? id) => id is null ? -2 : Array.FindIndex(all, m => m.Id == id);
        var afterId = Position(q.AfterId);
        var beforeId = Position(q.BeforeId);
        var pageAfter = Position(q.PageAfter);
        var pageBefore = Position(q.PageBefore);
        if (afterId == -1 || beforeId == -1 || pageAfter == -1 || pageBefore == -1) return Task.FromResult<ArchivePage?>(null);
        if (q.Ids is not null)
            foreach (var id in q.Ids)
                if (Position(id) < 0) return Task.FromResult<ArchivePage?>(null);

        var matching = new List<int>();
        for (var i = 0; i < all.Length; i++)
        {
            var m = all[i];
            if (q.With is { } with && (with.Resource is null ? m.With.Bare != with : m.With != with)) continue;
            if (q.Start is { } start && m.Timestamp < start) continue;
            if (q.End is { } end && m.Timestamp > end) continue;
            if (afterId >= 0 && i <= afterId) continue;
            if (beforeId >= 0 && i >= beforeId) continue;
            if (q.Ids is not null && !q.Ids.Contains(m.Id)) continue;
            matching.Add(i);
        }
        var window = matching.FindAll(i => (pageAfter < 0 || i > pageAfter) && (pageBefore < 0 || i < pageBefore));
        List<int> page;
        bool complete;
        if (q.FromEnd)
        {
            page = window.Count > q.Max ? window.GetRange(window.Count - q.Max, q.Max) : window;
            complete = window.Count <= q.Max;
        }
        else
        {
            page = window.Count > q.Max ? window.GetRange(0, q.Max) : window;
            complete = window.Count <= q.Max;
        }
        var firstIndex = page.Count == 0 ? 0 : matching.IndexOf(page[0]);
        var items = page.ConvertAll(i => all[i]);
        return Task.FromResult<ArchivePage?>(new ArchivePage(items, matching.Count, complete, firstIndex));
    }

    public Task<(ArchivedMessage? First, ArchivedMessage? Last)> BoundsAsync(Jid account, CancellationToken ct)
    {
        var list = _archives.GetOrAdd(account.Bare, _ => []);
        lock (list) return Task.FromResult(list.Count == 0 ? ((ArchivedMessage?)null, (ArchivedMessage?)null) : (list[0], list[^1]));
    }

    public Task<bool> ReplaceAsync(Jid account, string id, Element message, CancellationToken ct)
    {
        var list = _archives.GetOrAdd(account.Bare, _ => []);
        lock (list)
        {
            var i = list.FindIndex(m => m.Id == id);
            if (i < 0) return Task.FromResult(false);
            list[i] = list[i] with { Message = message.Clone() };
            return Task.FromResult(true);
        }
    }

    public Task<long> CountAllAsync(CancellationToken ct)
    {
        long count = 0;
        foreach (var list in _archives.Values)
            lock (list) count += list.Count;
        return Task.FromResult(count);
    }

    public Task DeleteAllAsync(Jid account, CancellationToken ct)
    {
        _archives.TryRemove(account.Bare, out _);
        return Task.CompletedTask;
    }

    public Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        var removed = 0;
        foreach (var list in _archives.Values)
            lock (list) removed += list.RemoveAll(m => m.Timestamp < cutoff);
        return Task.FromResult(removed);
    }
}
