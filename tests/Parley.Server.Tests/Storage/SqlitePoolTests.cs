using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Storage;
using Parley.Server.Storage.Sql;

namespace Parley.Server.Tests.Storage;

/// <summary>The SQLite connections kept open with their prepared statements (SqlitePool, SqliteSession).</summary>
public sealed class SqlitePoolTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly Jid Alice = Jid.Parse("alice@example.test");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-sqlite-pool-" + Guid.NewGuid().ToString("N"));
    private SqliteStorage _storage = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_storage is not null) await _storage.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<SqliteStorage> OpenAsync(int maxConnections)
    {
        _storage = new SqliteStorage(_directory, maxConnections);
        await _storage.InitializeAsync(CancellationToken.None);
        return _storage;
    }

    private static Element Value(string text) => new Element("value", "urn:test").AddText(text);

    [Fact]
    public async Task Concurrent_reads_and_writes_from_many_tasks_each_see_their_own_latest_write()
    {
        var storage = await OpenAsync(maxConnections: 4);
        var map = storage.Map("test");
        await storage.Accounts.CreateAsync(new Account(Alice, [ScramCredential.Create(ScramHash.Sha256, "pw", 4096)], DateTimeOffset.UtcNow), CancellationToken.None);

        var tasks = Enumerable.Range(0, 32).Select(t => Task.Run(async () =>
        {
            var account = Jid.Parse($"user{t}@example.test");
            for (var i = 0; i < 20; i++)
            {
                await map.SetAsync(account, "k" + (i % 3), Value($"{t}.{i}"), CancellationToken.None);
                Assert.Equal($"{t}.{i}", (await map.GetAsync(account, "k" + (i % 3), CancellationToken.None))!.Text);
                Assert.Single((await storage.Accounts.GetAsync(Alice, CancellationToken.None))!.Credentials);
            }
            var all = await map.GetAllAsync(account, CancellationToken.None);
            Assert.Equal([$"{t}.18", $"{t}.19", $"{t}.17"], new[] { "k0", "k1", "k2" }.Select(k => all[k].Text));
        }));
        await Task.WhenAll(tasks).WaitAsync(Bound);

        Assert.Equal(32 * 3, await map.CountAllAsync(CancellationToken.None));
        Assert.InRange(storage.Pool.IdleCount, 1, 4);
        Assert.Equal(storage.Pool.IdleCount, storage.Pool.OpenCount);
    }

    [Fact]
    public async Task A_read_on_a_connection_that_was_open_before_a_write_sees_the_write()
    {
        var storage = await OpenAsync(maxConnections: 4);
        var map = storage.Map("test");
        await map.SetAsync(Alice, "k", Value("old"), CancellationToken.None);
        // Four connections, each with the read prepared and run once, all idle.
        await ReadOnFourConnectionsAsync(storage, "old");
        Assert.Equal(4, storage.Pool.IdleCount);

        await map.SetAsync(Alice, "k", Value("new"), CancellationToken.None);

        await ReadOnFourConnectionsAsync(storage, "new");
        Assert.Equal(4, storage.Pool.OpenCount);
    }

    private static async Task ReadOnFourConnectionsAsync(SqliteStorage storage, string expected)
    {
        var sessions = Enumerable.Range(0, 4).Select(_ => storage.Rent()).ToList();
        Assert.Equal(4, sessions.Distinct().Count());
        foreach (var session in sessions)
        {
            var command = session.Command("SELECT value FROM kv WHERE store = $s AND account = $a AND key = $k;",
                ("$s", "test"), ("$a", Alice.ToString()), ("$k", "k"));
            Assert.Equal(expected, ElementCodec.Decode((string)(await command.ExecuteScalarAsync())!).Text);
        }
        foreach (var session in sessions) session.Dispose();
    }

    [Fact]
    public async Task The_pool_keeps_no_more_than_its_maximum_and_more_at_once_open_their_own()
    {
        var storage = await OpenAsync(maxConnections: 3);
        var sessions = Enumerable.Range(0, 10).Select(_ => storage.Rent()).ToList();
        Assert.Equal(10, storage.Pool.OpenCount);
        Assert.Equal(0, storage.Pool.IdleCount);
        foreach (var session in sessions) session.Dispose();
        Assert.Equal(3, storage.Pool.IdleCount);
        Assert.Equal(3, storage.Pool.OpenCount);

        sessions[0].Dispose();                  // a second dispose hands nothing back twice
        Assert.Equal(3, storage.Pool.IdleCount);
        using var a = storage.Rent();
        using var b = storage.Rent();
        Assert.NotSame(a, b);
    }

    [Fact]
    public async Task A_statement_is_prepared_once_and_reused_and_one_use_ones_beyond_the_limit_are_not_kept()
    {
        var storage = await OpenAsync(maxConnections: 1);
        var map = storage.Map("test");
        await map.SetAsync(Alice, "k", Value("v"), CancellationToken.None);
        for (var i = 0; i < 10; i++)
            Assert.Equal("v", (await map.GetAsync(Alice, "k", CancellationToken.None))!.Text);
        using (var session = storage.Rent())
        {
            Assert.Equal(1, storage.Pool.OpenCount);
            Assert.Equal(2, session.PreparedCount);           // the upsert and the read
        }

        using (var session = storage.Rent())
        {
            for (var i = 0; i < SqliteSession.MaxStatements + 10; i++)
                Assert.Equal((long)i, await session.Command($"SELECT {i} + $zero;", ("$zero", 0)).ExecuteScalarAsync());
            Assert.Equal(SqliteSession.MaxStatements, session.PreparedCount);
        }
        Assert.Equal("v", (await map.GetAsync(Alice, "k", CancellationToken.None))!.Text);
    }

    [Fact]
    public async Task Parameters_from_an_earlier_use_of_a_statement_are_never_bound_again()
    {
        var storage = await OpenAsync(maxConnections: 1);
        using var session = storage.Rent();
        const string Sql = "SELECT coalesce($a, 'none') || coalesce($b, 'none');";
        Assert.Equal("12", await session.Command(Sql, ("$a", "1"), ("$b", "2")).ExecuteScalarAsync());
        Assert.Equal("3none", await session.Command(Sql, ("$a", "3"), ("$b", null)).ExecuteScalarAsync());
        // Other names (or order): the collection is replaced, so the missing $b is an error, not yesterday's value.
        Assert.Throws<InvalidOperationException>(() => session.Command(Sql, ("$a", "4")).ExecuteScalar());
        Assert.Equal("65", await session.Command(Sql, ("$b", "5"), ("$a", "6")).ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_write_that_fails_inside_its_transaction_leaves_nothing_and_the_connection_serves_on()
    {
        var storage = await OpenAsync(maxConnections: 1);
        var twice = ScramCredential.Create(ScramHash.Sha256, "pw", 4096);
        // The same hash twice breaks the credentials primary key after the account row was inserted.
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() =>
            storage.Accounts.CreateAsync(new Account(Alice, [twice, twice], DateTimeOffset.UtcNow), CancellationToken.None));
        Assert.Null(await storage.Accounts.GetAsync(Alice, CancellationToken.None));
        Assert.Equal(1, storage.Pool.IdleCount);

        Assert.True(await storage.Accounts.CreateAsync(new Account(Alice, [twice], DateTimeOffset.UtcNow), CancellationToken.None));
        Assert.True(await storage.Accounts.SetCredentialsAsync(Alice, [ScramCredential.Create(ScramHash.Sha1, "pw", 4096), twice], CancellationToken.None));
        Assert.Equal(2, (await storage.Accounts.GetAsync(Alice, CancellationToken.None))!.Credentials.Count);
        Assert.Equal(1, storage.Pool.OpenCount);
    }

    [Fact]
    public async Task Disposal_closes_every_connection_and_a_lent_one_when_it_comes_back()
    {
        var storage = await OpenAsync(maxConnections: 4);
        await storage.Map("test").SetAsync(Alice, "k", Value("v"), CancellationToken.None);
        var lent = storage.Rent();
        using (storage.Rent()) { }
        Assert.Equal(2, storage.Pool.OpenCount);

        await storage.DisposeAsync();
        Assert.Equal(1, storage.Pool.OpenCount);
        lent.Dispose();
        Assert.Equal(0, storage.Pool.OpenCount);
        // SQLite checkpoints and removes the write-ahead log when the last connection to the database closes.
        Assert.False(File.Exists(Path.Combine(_directory, "parley.db-wal")));

        await using var reopened = new SqliteStorage(_directory);
        await reopened.InitializeAsync(CancellationToken.None);
        Assert.Equal("v", (await reopened.Map("test").GetAsync(Alice, "k", CancellationToken.None))!.Text);
    }
}
