using Parley.Protocol;

namespace Parley.Server.Storage.Sql;

/// <summary>The map shape in SQLite's kv table, one store name per instance.</summary>
internal sealed class SqliteMapStore(SqliteStorage storage, string store) : IMapStore
{
    public async Task<Element?> GetAsync(Jid account, string key, CancellationToken ct)
    {
        using var session = storage.Rent();
        var command = session.Command("SELECT value FROM kv WHERE store = $s AND account = $a AND key = $k;",
            ("$s", store), ("$a", account.Bare.ToString()), ("$k", key));
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string xml ? ElementCodec.Decode(xml) : null;
    }

    public async Task<IReadOnlyDictionary<string, Element>> GetAllAsync(Jid account, CancellationToken ct)
    {
        using var session = storage.Rent();
        var command = session.Command("SELECT key, value FROM kv WHERE store = $s AND account = $a;", ("$s", store), ("$a", account.Bare.ToString()));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new Dictionary<string, Element>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result[reader.GetString(0)] = ElementCodec.Decode(reader.GetString(1));
        return result;
    }

    public async Task SetAsync(Jid account, string key, Element? value, CancellationToken ct)
    {
        await storage.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = storage.Rent();
            var command = value is null
                ? session.Command("DELETE FROM kv WHERE store = $s AND account = $a AND key = $k;",
                    ("$s", store), ("$a", account.Bare.ToString()), ("$k", key))
                : session.Command("INSERT INTO kv (store, account, key, value) VALUES ($s, $a, $k, $v) ON CONFLICT (store, account, key) DO UPDATE SET value = excluded.value;",
                    ("$s", store), ("$a", account.Bare.ToString()), ("$k", key), ("$v", ElementCodec.Encode(value)));
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }

    public async Task<int> CountAsync(Jid account, CancellationToken ct)
    {
        using var session = storage.Rent();
        var command = session.Command("SELECT COUNT(*) FROM kv WHERE store = $s AND account = $a;", ("$s", store), ("$a", account.Bare.ToString()));
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    // The primary key (store, account, key) makes this a scan of one store's index range.
    public async Task<long> CountAllAsync(CancellationToken ct)
    {
        using var session = storage.Rent();
        var command = session.Command("SELECT COUNT(*) FROM kv WHERE store = $s;", ("$s", store));
        return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    public async Task DeleteAllAsync(Jid account, CancellationToken ct)
    {
        await storage.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = storage.Rent();
            var command = session.Command("DELETE FROM kv WHERE store = $s AND account = $a;", ("$s", store), ("$a", account.Bare.ToString()));
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }
}
