using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Storage;
using Parley.Server.Storage.Memory;
using Parley.Server.Storage.Sql;

namespace Parley.Server.Tests.Storage;

/// <summary>A storage back end opened for one test class.</summary>
public abstract class StorageFixture : IAsyncLifetime
{
    protected IStorage Storage { get; private set; } = null!;

    protected abstract IStorage CreateStorage();

    public async Task InitializeAsync()
    {
        Storage = CreateStorage();
        await Storage.InitializeAsync(CancellationToken.None);
    }

    public virtual async Task DisposeAsync() => await Storage.DisposeAsync();
}

/// <summary>What every account store must do; run against each back end.</summary>
public abstract class AccountStoreContract : StorageFixture
{
    private static Account NewAccount(string jid) => new(Jid.Parse(jid),
        [ScramCredential.Create(ScramHash.Sha1, "pw", 4096), ScramCredential.Create(ScramHash.Sha256, "pw", 4096), ScramCredential.Create(ScramHash.Sha512, "pw", 4096)],
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    [Fact]
    public async Task Creating_twice_returns_false_the_second_time()
    {
        Assert.True(await Storage.Accounts.CreateAsync(NewAccount("alice@example.test"), CancellationToken.None));
        Assert.False(await Storage.Accounts.CreateAsync(NewAccount("alice@example.test"), CancellationToken.None));
    }

    [Fact]
    public async Task Credentials_round_trip_byte_for_byte()
    {
        var account = NewAccount("alice@example.test");
        await Storage.Accounts.CreateAsync(account, CancellationToken.None);
        var read = await Storage.Accounts.GetAsync(Jid.Parse("alice@example.test"), CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(account.CreatedAt, read.CreatedAt);
        Assert.Equal(3, read.Credentials.Count);
        foreach (var expected in account.Credentials)
        {
            var actual = Assert.Single(read.Credentials, c => c.Hash == expected.Hash);
            Assert.Equal(expected.Salt, actual.Salt);
            Assert.Equal(expected.Iterations, actual.Iterations);
            Assert.Equal(expected.StoredKey, actual.StoredKey);
            Assert.Equal(expected.ServerKey, actual.ServerKey);
        }
    }

    [Fact]
    public async Task Lookups_use_the_bare_jid()
    {
        await Storage.Accounts.CreateAsync(NewAccount("alice@example.test"), CancellationToken.None);
        Assert.NotNull(await Storage.Accounts.GetAsync(Jid.Parse("alice@example.test/phone"), CancellationToken.None));
        Assert.Null(await Storage.Accounts.GetAsync(Jid.Parse("bob@example.test"), CancellationToken.None));
    }

    [Fact]
    public async Task Setting_credentials_replaces_them_and_needs_an_existing_account()
    {
        await Storage.Accounts.CreateAsync(NewAccount("alice@example.test"), CancellationToken.None);
        var replacement = new[] { ScramCredential.Create(ScramHash.Sha256, "new", 4096) };
        Assert.True(await Storage.Accounts.SetCredentialsAsync(Jid.Parse("alice@example.test"), replacement, CancellationToken.None));
        var read = await Storage.Accounts.GetAsync(Jid.Parse("alice@example.test"), CancellationToken.None);
        Assert.Equal(replacement[0].StoredKey, Assert.Single(read!.Credentials).StoredKey);
        Assert.False(await Storage.Accounts.SetCredentialsAsync(Jid.Parse("nobody@example.test"), replacement, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_list_and_count_agree()
    {
        foreach (var u in new[] { "carol", "alice", "bob" })
            await Storage.Accounts.CreateAsync(NewAccount(u + "@example.test"), CancellationToken.None);
        await Storage.Accounts.CreateAsync(NewAccount("zed@other.test"), CancellationToken.None);
        Assert.Equal(["alice@example.test", "bob@example.test", "carol@example.test"],
            (await Storage.Accounts.ListAsync("example.test", CancellationToken.None)).Select(j => j.ToString()));
        Assert.Equal(3, await Storage.Accounts.CountAsync("example.test", CancellationToken.None));
        Assert.True(await Storage.Accounts.DeleteAsync(Jid.Parse("bob@example.test"), CancellationToken.None));
        Assert.False(await Storage.Accounts.DeleteAsync(Jid.Parse("bob@example.test"), CancellationToken.None));
        Assert.Null(await Storage.Accounts.GetAsync(Jid.Parse("bob@example.test"), CancellationToken.None));
        Assert.Equal(2, await Storage.Accounts.CountAsync("example.test", CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_creates_of_distinct_accounts_all_succeed()
    {
        var tasks = Enumerable.Range(0, 40).Select(i => Storage.Accounts.CreateAsync(NewAccount($"user{i}@example.test"), CancellationToken.None));
        Assert.All(await Task.WhenAll(tasks), Assert.True);
        Assert.Equal(40, await Storage.Accounts.CountAsync("example.test", CancellationToken.None));
    }
}

public sealed class MemoryAccountStoreTests : AccountStoreContract
{
    protected override IStorage CreateStorage() => new MemoryStorage();
}

public sealed class SqliteAccountStoreTests : AccountStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-sqlite-" + Guid.NewGuid().ToString("N"));

    protected override IStorage CreateStorage() => new SqliteStorage(_directory);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task What_was_written_survives_a_reopen()
    {
        await Storage.Accounts.CreateAsync(new Account(Jid.Parse("alice@example.test"), [ScramCredential.Create(ScramHash.Sha256, "pw", 4096)], DateTimeOffset.UtcNow), CancellationToken.None);
        await Storage.DisposeAsync();
        await using var reopened = new SqliteStorage(_directory);
        await reopened.InitializeAsync(CancellationToken.None);
        Assert.NotNull(await reopened.Accounts.GetAsync(Jid.Parse("alice@example.test"), CancellationToken.None));
    }

    [Fact]
    public async Task Migrations_bring_an_empty_database_to_the_current_version_and_rerunning_is_a_no_op()
    {
        Assert.Equal(SqliteStorage.SchemaVersion, await UserVersionAsync());
        await Storage.InitializeAsync(CancellationToken.None);
        Assert.Equal(SqliteStorage.SchemaVersion, await UserVersionAsync());
    }

    [Fact]
    public async Task A_database_newer_than_the_code_is_refused_naming_both_versions()
    {
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "parley.db")};Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {SqliteStorage.SchemaVersion + 5};";
            await command.ExecuteNonQueryAsync();
        }
        await using var newer = new SqliteStorage(_directory);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => newer.InitializeAsync(CancellationToken.None));
        Assert.Contains($"schema version {SqliteStorage.SchemaVersion + 5}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"this Parley's {SqliteStorage.SchemaVersion}", e.Message, StringComparison.Ordinal);
    }

    private async Task<long> UserVersionAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "parley.db")};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
