using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Server.Storage.Sql;

/// <summary>
/// SQLite in the data directory (parley.db), the embedded default. WAL journal with synchronous=FULL: a committed
/// write survives a power cut, and readers never block the writer. The schema is versioned (PRAGMA user_version)
/// and migrated forward at start-up; a database newer than this code is refused.
/// </summary>
public sealed class SqliteStorage : IStorage, IAccountStore
{
    private static readonly string[] Migrations =
    [
        // 1: accounts and their SCRAM credentials, one row per hash.
        """
        CREATE TABLE accounts (
            domain TEXT NOT NULL,
            local TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (domain, local)
        ) WITHOUT ROWID;
        CREATE TABLE credentials (
            domain TEXT NOT NULL,
            local TEXT NOT NULL,
            hash TEXT NOT NULL,
            salt BLOB NOT NULL,
            iterations INTEGER NOT NULL,
            stored_key BLOB NOT NULL,
            server_key BLOB NOT NULL,
            PRIMARY KEY (domain, local, hash),
            FOREIGN KEY (domain, local) REFERENCES accounts (domain, local) ON DELETE CASCADE
        ) WITHOUT ROWID;
        """,
        // 2: elements by (store, account, key) for the map shape.
        """
        CREATE TABLE kv (
            store TEXT NOT NULL,
            account TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (store, account, key)
        ) WITHOUT ROWID;
        """,
        // 3: the message archive (XEP-0313); seq orders it, the indexes keep queries to one account's range.
        """
        CREATE TABLE archive (
            seq INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            with_bare TEXT NOT NULL,
            with_resource TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE UNIQUE INDEX archive_id ON archive (account, id);
        CREATE INDEX archive_account ON archive (account, seq);
        CREATE INDEX archive_with ON archive (account, with_bare, seq);
        CREATE INDEX archive_ts ON archive (account, ts);
        """,
    ];

    /// <summary>Open connections kept with their prepared statements unless configured otherwise.</summary>
    public const int DefaultMaxConnections = 8;

    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SqliteMapStore> _maps = new(StringComparer.Ordinal);
    private readonly SqlitePool _pool;

    /// <summary>
    /// Uses parley.db in <paramref name="dataDirectory"/> (created if missing), keeping up to
    /// <paramref name="maxConnections"/> connections open with their prepared statements.
    /// </summary>
    public SqliteStorage(string dataDirectory, int maxConnections = DefaultMaxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        DataDirectory = dataDirectory;
        // SqlitePool keeps the connections (and, with them, the statements), so ADO.NET's pool is off: closing a
        // session really closes its connection.
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "parley.db"),
            Pooling = false,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
        _pool = new SqlitePool(connectionString, maxConnections);
    }

    /// <summary>The directory holding the database.</summary>
    public string DataDirectory { get; }

    /// <summary>The schema version this code writes.</summary>
    public static int SchemaVersion => Migrations.Length;

    /// <inheritdoc />
    public IAccountStore Accounts => this;

    /// <inheritdoc />
    public IArchiveStore Archive => _archive ??= new SqliteArchiveStore(this);

    private SqliteArchiveStore? _archive;

    /// <inheritdoc />
    public IMapStore Map(string name) => _maps.GetOrAdd(name, n => new SqliteMapStore(this, n));

    /// <summary>SQLite has one writer at a time; writes queue here instead of failing with SQLITE_BUSY.</summary>
    internal SemaphoreSlim WriteLock => _writer;

    /// <summary>The open connections (for tests).</summary>
    internal SqlitePool Pool => _pool;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(DataDirectory);
        using var session = Rent();
        var connection = session.Connection;
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", ct).ConfigureAwait(false);
        var version = Convert.ToInt32(await ScalarAsync(connection, "PRAGMA user_version;", ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Migrations.Length)
            throw new InvalidOperationException($"The database {Path.Combine(DataDirectory, "parley.db")} has schema version {version}, newer than this Parley's {Migrations.Length}; upgrade Parley.");
        for (var v = version; v < Migrations.Length; v++)
        {
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = tx;
                command.CommandText = Migrations[v] + $"\nPRAGMA user_version = {v + 1};";
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<bool> CreateAsync(Account account, CancellationToken ct)
    {
        var jid = account.Jid.Bare;
        await _writer.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = Rent();
            await using var tx = (SqliteTransaction)await session.Connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var insert = session.Command("INSERT INTO accounts (domain, local, created_at) VALUES ($d, $l, $c) ON CONFLICT DO NOTHING;", tx,
                ("$d", jid.Domain), ("$l", jid.Local), ("$c", account.CreatedAt.ToUnixTimeMilliseconds()));
            if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0) return false;
            await WriteCredentialsAsync(session, tx, jid, account.Credentials, ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <inheritdoc />
    public async Task<Account?> GetAsync(Jid account, CancellationToken ct)
    {
        var jid = account.Bare;
        if (jid.Local is null) return null;
        using var session = Rent();
        var command = session.Command("""
            SELECT a.created_at, c.hash, c.salt, c.iterations, c.stored_key, c.server_key
            FROM accounts a LEFT JOIN credentials c ON c.domain = a.domain AND c.local = a.local
            WHERE a.domain = $d AND a.local = $l;
            """, ("$d", jid.Domain), ("$l", jid.Local));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        long? created = null;
        var credentials = new List<ScramCredential>(3);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            created = reader.GetInt64(0);
            if (reader.IsDBNull(1) || !Enum.TryParse<ScramHash>(reader.GetString(1), out var hash)) continue;
            credentials.Add(new ScramCredential(hash, (byte[])reader[2], reader.GetInt32(3), (byte[])reader[4], (byte[])reader[5]));
        }
        return created is null ? null : new Account(jid, credentials, DateTimeOffset.FromUnixTimeMilliseconds(created.Value));
    }

    /// <inheritdoc />
    public async Task<bool> SetCredentialsAsync(Jid account, IReadOnlyList<ScramCredential> credentials, CancellationToken ct)
    {
        var jid = account.Bare;
        await _writer.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = Rent();
            await using var tx = (SqliteTransaction)await session.Connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var exists = session.Command("SELECT 1 FROM accounts WHERE domain = $d AND local = $l;", tx, ("$d", jid.Domain), ("$l", jid.Local));
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null) return false;
            var delete = session.Command("DELETE FROM credentials WHERE domain = $d AND local = $l;", tx, ("$d", jid.Domain), ("$l", jid.Local));
            await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await WriteCredentialsAsync(session, tx, jid, credentials, ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(Jid account, CancellationToken ct)
    {
        var jid = account.Bare;
        await _writer.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var session = Rent();
            var command = session.Command("DELETE FROM accounts WHERE domain = $d AND local = $l;", ("$d", jid.Domain), ("$l", jid.Local));
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) > 0;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Jid>> ListAsync(string domain, CancellationToken ct)
    {
        using var session = Rent();
        var command = session.Command("SELECT local FROM accounts WHERE domain = $d ORDER BY local;", ("$d", domain));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<Jid>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            if (Jid.TryCreate(reader.GetString(0), domain, null, out var jid)) list.Add(jid);
        return list;
    }

    /// <inheritdoc />
    public async Task<int> CountAsync(string domain, CancellationToken ct)
    {
        using var session = Rent();
        var command = session.Command("SELECT COUNT(*) FROM accounts WHERE domain = $d;", ("$d", domain));
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _pool.Dispose();
        _writer.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A connection with its prepared statements for one operation; dispose it to hand it back.</summary>
    internal SqliteSession Rent() => _pool.Rent();

    private static async Task WriteCredentialsAsync(SqliteSession session, SqliteTransaction tx, Jid jid, IReadOnlyList<ScramCredential> credentials, CancellationToken ct)
    {
        foreach (var c in credentials)
        {
            var command = session.Command("""
                INSERT INTO credentials (domain, local, hash, salt, iterations, stored_key, server_key)
                VALUES ($d, $l, $h, $s, $i, $sk, $vk);
                """, tx, ("$d", jid.Domain), ("$l", jid.Local), ("$h", c.Hash.ToString()), ("$s", c.Salt), ("$i", c.Iterations),
                ("$sk", c.StoredKey), ("$vk", c.ServerKey));
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }
}
