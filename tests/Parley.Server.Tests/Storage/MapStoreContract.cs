using Parley.Protocol;
using Parley.Server.Storage;
using Parley.Server.Storage.Memory;
using Parley.Server.Storage.Sql;

namespace Parley.Server.Tests.Storage;

/// <summary>What every map store must do; run against each back end.</summary>
public abstract class MapStoreContract : StorageFixture
{
    private static readonly Jid Alice = Jid.Parse("alice@example.test");

    private static Element Item(string jid, string name) =>
        new Element("item", "jabber:iq:roster").SetAttribute("jid", jid).SetAttribute("name", name)
            .Add(new Element("group", "jabber:iq:roster").AddText("Friends & «Family»"));

    [Fact]
    public async Task Elements_round_trip_with_text_attributes_and_children()
    {
        var map = Storage.Map("roster");
        await map.SetAsync(Alice, "bob@example.test", Item("bob@example.test", "Bob <B>"), CancellationToken.None);
        var read = await map.GetAsync(Alice.WithResource("phone"), "bob@example.test", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal("Bob <B>", read.GetAttribute("name"));
        Assert.Equal("Friends & «Family»", read.ChildText("group", "jabber:iq:roster"));
    }

    [Fact]
    public async Task Set_overwrites_null_deletes_and_stores_are_separate()
    {
        var roster = Storage.Map("roster");
        var other = Storage.Map("other");
        await roster.SetAsync(Alice, "k", Item("a@x.test", "one"), CancellationToken.None);
        await roster.SetAsync(Alice, "k", Item("a@x.test", "two"), CancellationToken.None);
        Assert.Equal("two", (await roster.GetAsync(Alice, "k", CancellationToken.None))!.GetAttribute("name"));
        Assert.Null(await other.GetAsync(Alice, "k", CancellationToken.None));
        await roster.SetAsync(Alice, "k", null, CancellationToken.None);
        Assert.Null(await roster.GetAsync(Alice, "k", CancellationToken.None));
    }

    [Fact]
    public async Task Get_all_count_and_delete_all_are_per_account()
    {
        var map = Storage.Map("roster");
        var bob = Jid.Parse("bob@example.test");
        for (var i = 0; i < 5; i++) await map.SetAsync(Alice, "c" + i, Item($"c{i}@x.test", "n"), CancellationToken.None);
        await map.SetAsync(bob, "c0", Item("c0@x.test", "n"), CancellationToken.None);
        Assert.Equal(5, (await map.GetAllAsync(Alice, CancellationToken.None)).Count);
        Assert.Equal(5, await map.CountAsync(Alice, CancellationToken.None));
        await map.DeleteAllAsync(Alice, CancellationToken.None);
        Assert.Equal(0, await map.CountAsync(Alice, CancellationToken.None));
        Assert.Equal(1, await map.CountAsync(bob, CancellationToken.None));
    }

    [Fact]
    public async Task Count_all_adds_up_every_account_of_one_store_only()
    {
        var offline = Storage.Map("offline");
        Assert.Equal(0, await offline.CountAllAsync(CancellationToken.None));
        await offline.SetAsync(Alice, "a", Item("a@x.test", "n"), CancellationToken.None);
        await offline.SetAsync(Alice, "b", Item("b@x.test", "n"), CancellationToken.None);
        await offline.SetAsync(Jid.Parse("bob@example.test"), "a", Item("a@x.test", "n"), CancellationToken.None);
        await Storage.Map("roster").SetAsync(Alice, "a", Item("a@x.test", "n"), CancellationToken.None);
        Assert.Equal(3, await offline.CountAllAsync(CancellationToken.None));
        await offline.SetAsync(Alice, "a", null, CancellationToken.None);
        Assert.Equal(2, await offline.CountAllAsync(CancellationToken.None));
    }
}

public sealed class MemoryMapStoreTests : MapStoreContract
{
    protected override IStorage CreateStorage() => new MemoryStorage();
}

public sealed class SqliteMapStoreTests : MapStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-sqlite-" + Guid.NewGuid().ToString("N"));

    protected override IStorage CreateStorage() => new SqliteStorage(_directory);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
