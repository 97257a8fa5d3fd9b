using Parley.Protocol;

namespace Parley.Server.Storage.Sql;

/// <summary>The map shape in SQLite's kv table, one store name per instance.</summary>
internal sealed class SqliteMapStore(SqliteStorage storage, string store) : IMapStore
{
    public async Task<Element?> GetAsync(Jid account, string key, CancellationToken ct)
    {
        await using var connection = await storage.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM kv WHERE store = $s AND account = $a AND key = $k;";
        command.Parameters.AddWithValue("$s", store);
        command.Parameters.AddWithValue("$a", account.Bare.ToString());
        command.Parameters.AddWithValue("$k", key);
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is string xml ? ElementCodec.Decode(xml) : null;
    }

    public async Task<IReadOnlyDictionary<string, Element>> GetAllAsync(Jid account, CancellationToken ct)
    {
        await using var connection = await storage.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, value FROM kv WHERE store = $s AND account = $a;";
        command.Parameters.AddWithValue("$s", store);
        command.Parameters.AddWithValue("$a", account.Bare.ToString());
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
            await using var connection = await storage.OpenAsync(ct).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = value is null
                ? "DELETE FROM kv WHERE store = $s AND account = $a AND key = $k;"
                : "INSERT INTO kv (store, account, key, value) VALUES ($s, $a, $k, $v) ON CONFLICT (store, account, key) DO UPDATE SET value = excluded.value;";
            command.Parameters.AddWithValue("$s", store);
            command.Parameters.AddWithValue("$a", account.Bare.ToString());
            command.Parameters.AddWithValue("$k", key);
            if (value is not null) command.Parameters.AddWithValue("$v", ElementCodec.Encode(value));
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }

    public async Task<int> CountAsync(Jid account, CancellationToken ct)
    {
        await using var connection = await storage.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM kv WHERE store = $s AND account = $a;";
        command.Parameters.AddWithValue("$s", store);
        command.Parameters.AddWithValue("$a", account.Bare.ToString());
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    // The primary key (store, account, key) makes this a scan of one store's index range.
    public async Task<long> CountAllAsync(CancellationToken ct)
    {
        await using var connection = await storage.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM kv WHERE store = $s;";
        command.Parameters.AddWithValue("$s", store);
        return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    public async Task DeleteAllAsync(Jid account, CancellationToken ct)
    {
        await storage.WriteLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await using var connection = await storage.OpenAsync(ct).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM kv WHERE store = $s AND account = $a;";
            command.Parameters.AddWithValue("$s", store);
            command.Parameters.AddWithValue("$a", account.Bare.ToString());
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            storage.WriteLock.Release();
        }
    }
}
