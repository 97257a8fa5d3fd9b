using System.Runtime.InteropServices;
using System.Text;
using Parley.Protocol;

namespace Parley.Server.Storage.Sql;

/// <summary>
/// The archive in SQLite's archive table. Order is the row number (seq); indexes on (account, seq), (account,
/// with, seq), (account, ts) and (account, id) keep every query a range scan of one account's rows, so a page or
/// a count over a large archive touches only what it returns (docs/performance.md has the figures).
/// </summary>
internal sealed class SqliteArchiveStore(SqliteStorage storage) : IArchiveStore
{
    // The size of each account's whole archive, once counted: most queries (a client's newest page) filter nothing,
    // and counting 100,000 index entries costs milliseconds. Kept up to date by this process's writes.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _totals = new(StringComparer.Ordinal);

    public async Task AppendAsync(Jid account, ArchivedMessage message, CancellationToken ct)
    {
        await storage.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = storage.Rent();
            var command = session.Command("""
                INSERT INTO archive (account, id, ts, with_bare, with_resource, message)
                VALUES ($a, $id, $ts, $wb, $wr, $m);
                """, ("$a", account.Bare.ToString()), ("$id", message.Id), ("$ts", message.Timestamp.ToUnixTimeMilliseconds()),
                ("$wb", message.With.Bare.ToString()), ("$wr", message.With.Resource ?? ""), ("$m", ElementCodec.Encode(message.Message)));
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            var key = account.Bare.ToString();
            if (_totals.TryGetValue(key, out var total)) _totals.TryUpdate(key, total + 1, total);
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }

    public async Task<ArchivePage?> QueryAsync(Jid account, ArchiveQuery q, CancellationToken ct)
    {
        using var session = storage.Rent();
        var a = account.Bare.ToString();
        long? afterId = null, beforeId = null, pageAfter = null, pageBefore = null;
        foreach (var (id, set) in new (string?, Action<long>)[]
                 {
                     (q.AfterId, v => afterId = v), (q.BeforeId, v => beforeId = v),
                     (q.PageAfter, v => pageAfter = v), (q.PageBefore, v => pageBefore = v),
                 })
        {
            if (id is null) continue;
            var seq = await SeqAsync(session, a, id, ct).ConfigureAwait(false);
            if (seq is null) return null;
            set(seq.Value);
        }
        if (q.Ids is not null)
            foreach (var id in q.Ids)
                if (await SeqAsync(session, a, id, ct).ConfigureAwait(false) is null) return null;

        // The result set: every filter of the form, none of the paging.
        var filter = new StringBuilder("account = $a");
        var parameters = new List<(string, object?)> { ("$a", a) };
        if (q.With is { } with)
        {
            filter.Append(" AND with_bare = $wb");
            parameters.Add(("$wb", with.Bare.ToString()));
            if (with.Resource is not null)
            {
                filter.Append(" AND with_resource = $wr");
                parameters.Add(("$wr", with.Resource));
            }
        }
        if (q.Start is { } start)
        {
            filter.Append(" AND ts >= $start");
            parameters.Add(("$start", start.ToUnixTimeMilliseconds()));
        }
        if (q.End is { } end)
        {
            filter.Append(" AND ts <= $end");
            parameters.Add(("$end", end.ToUnixTimeMilliseconds()));
        }
        if (afterId is { } af)
        {
            filter.Append(" AND seq > $afterId");
            parameters.Add(("$afterId", af));
        }
        if (beforeId is { } bf)
        {
            filter.Append(" AND seq < $beforeId");
            parameters.Add(("$beforeId", bf));
        }
        if (q.Ids is not null)
        {
            filter.Append(" AND id IN (");
            for (var i = 0; i < q.Ids.Count; i++)
            {
                if (i > 0) filter.Append(", ");
                filter.Append("$id").Append(i);
                parameters.Add(("$id" + i, q.Ids[i]));
            }
            filter.Append(')');
        }
        var unfiltered = parameters.Count == 1;
        int count;
        if (!unfiltered || !_totals.TryGetValue(a, out count))
        {
            count = (int)(long)(await ScalarAsync(session, "SELECT COUNT(*) FROM archive WHERE " + filter, parameters, ct).ConfigureAwait(false))!;
            if (unfiltered) _totals[a] = count;
        }
        if (q.Max <= 0) return new ArchivePage([], count, count == 0, 0);

        var window = new StringBuilder(filter.ToString());
        if (pageAfter is { } pa)
        {
            window.Append(" AND seq > $pageAfter");
            parameters.Add(("$pageAfter", pa));
        }
        if (pageBefore is { } pb)
        {
            window.Append(" AND seq < $pageBefore");
            parameters.Add(("$pageBefore", pb));
        }
        var items = new List<(long Seq, ArchivedMessage Message)>(Math.Min(q.Max + 1, 1024));
        // The counts below ignore the parameters their text does not name ($limit, the page bounds).
        parameters.Add(("$limit", q.Max + 1));
        {
            var command = session.Command($"SELECT seq, id, ts, with_bare, with_resource, message FROM archive WHERE {window} ORDER BY seq {(q.FromEnd ? "DESC" : "ASC")} LIMIT $limit;",
                CollectionsMarshal.AsSpan(parameters));
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var bare = Jid.Parse(reader.GetString(3));
                var resource = reader.GetString(4);
                var withJid = resource.Length == 0 ? bare : bare.WithResource(resource);
                items.Add((reader.GetInt64(0), new ArchivedMessage(reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), withJid, ElementCodec.Decode(reader.GetString(5)))));
            }
        }
        var complete = items.Count <= q.Max;
        if (!complete) items.RemoveAt(items.Count - 1);
        if (q.FromEnd) items.Reverse();
        var firstIndex = 0;
        if (items.Count > 0)
        {
            // Count the side of the page that is nearer: behind a backward page, in front of a forward one.
            if (q.FromEnd)
            {
                parameters.Add(("$lastSeq", items[^1].Seq));
                var after = (int)(long)(await ScalarAsync(session, "SELECT COUNT(*) FROM archive WHERE " + filter + " AND seq > $lastSeq", parameters, ct).ConfigureAwait(false))!;
                firstIndex = count - after - items.Count;
            }
            else
            {
                parameters.Add(("$firstSeq", items[0].Seq));
                firstIndex = (int)(long)(await ScalarAsync(session, "SELECT COUNT(*) FROM archive WHERE " + filter + " AND seq < $firstSeq", parameters, ct).ConfigureAwait(false))!;
            }
        }
        return new ArchivePage(items.ConvertAll(i => i.Message), count, complete, firstIndex);
    }

    public async Task<(ArchivedMessage? First, ArchivedMessage? Last)> BoundsAsync(Jid account, CancellationToken ct)
    {
        var first = await QueryAsync(account, new ArchiveQuery { Max = 1 }, ct).ConfigureAwait(false);
        var last = await QueryAsync(account, new ArchiveQuery { Max = 1, FromEnd = true }, ct).ConfigureAwait(false);
        return (first?.Items.Count > 0 ? first.Items[0] : null, last?.Items.Count > 0 ? last.Items[0] : null);
    }

    public async Task<bool> ReplaceAsync(Jid account, string id, Element message, CancellationToken ct)
    {
        await storage.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = storage.Rent();
            var command = session.Command("UPDATE archive SET message = $m WHERE account = $a AND id = $id;",
                ("$m", ElementCodec.Encode(message)), ("$a", account.Bare.ToString()), ("$id", id));
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }

    // A full scan of the smallest index: milliseconds per 100,000 rows, so callers cache it (metrics do).
    public async Task<long> CountAllAsync(CancellationToken ct)
    {
        using var session = storage.Rent();
        return (long)(await ScalarAsync(session, "SELECT COUNT(*) FROM archive;", [], ct).ConfigureAwait(false))!;
    }

    public async Task DeleteAllAsync(Jid account, CancellationToken ct)
    {
        await WriteAsync("DELETE FROM archive WHERE account = $a;", ("$a", account.Bare.ToString()), ct).ConfigureAwait(false);
        _totals.TryRemove(account.Bare.ToString(), out _);
    }

    public async Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        var removed = await WriteAsync("DELETE FROM archive WHERE ts < $cutoff;", ("$cutoff", cutoff.ToUnixTimeMilliseconds()), ct).ConfigureAwait(false);
        if (removed > 0) _totals.Clear();
        return removed;
    }

    private async Task<int> WriteAsync(string sql, (string Name, object? Value) parameter, CancellationToken ct)
    {
        await storage.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = storage.Rent();
            var command = session.Command(sql, parameter);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }

    private static async Task<long?> SeqAsync(SqliteSession session, string account, string id, CancellationToken ct)
    {
        var command = session.Command("SELECT seq FROM archive WHERE account = $a AND id = $id;", ("$a", account), ("$id", id));
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) as long?;
    }

    private static async Task<object?> ScalarAsync(SqliteSession session, string sql, List<(string, object?)> parameters, CancellationToken ct)
    {
        var command = session.Command(sql, CollectionsMarshal.AsSpan(parameters));
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }
}
