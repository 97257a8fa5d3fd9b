using Parley.Protocol;
using Parley.Server.Storage;
using Parley.Server.Storage.Memory;
using Parley.Server.Storage.Sql;

namespace Parley.Server.Tests.Storage;

/// <summary>What every archive store must do (XEP-0313 filters, XEP-0059 paging); run against each back end.</summary>
public abstract class ArchiveStoreContract : StorageFixture
{
    private static readonly Jid Alice = Jid.Parse("alice@example.test");
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    // Ten messages m0..m9, a minute apart, alternating between bob/desk and carol/phone.
    private async Task FillAsync()
    {
        for (var i = 0; i < 10; i++)
        {
            var with = Jid.Parse(i % 2 == 0 ? "bob@example.test/desk" : "carol@example.test/phone");
            var message = new Element("message", Ns.Client).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText("body " + i));
            await Storage.Archive.AppendAsync(Alice, new ArchivedMessage("m" + i, T0.AddMinutes(i), with, message), CancellationToken.None);
        }
    }

    private static List<string> Ids(ArchivePage page) => page.Items.Select(m => m.Id).ToList();

    private Task<ArchivePage?> QueryAsync(ArchiveQuery q) => Storage.Archive.QueryAsync(Alice, q, CancellationToken.None);

    [Fact]
    public async Task Pages_forward_with_count_first_index_and_complete()
    {
        await FillAsync();
        var first = (await QueryAsync(new ArchiveQuery { Max = 4 }))!;
        Assert.Equal(["m0", "m1", "m2", "m3"], Ids(first));
        Assert.Equal((10, 0, false), (first.Count, first.FirstIndex, first.Complete));
        Assert.Equal("body 0", first.Items[0].Message.ChildText("body", Ns.Client));
        Assert.Equal(T0, first.Items[0].Timestamp);
        var next = (await QueryAsync(new ArchiveQuery { Max = 4, PageAfter = "m7" }))!;
        Assert.Equal(["m8", "m9"], Ids(next));
        Assert.Equal((10, 8, true), (next.Count, next.FirstIndex, next.Complete));
    }

    [Fact]
    public async Task Pages_backward_from_the_end_and_before_an_id_oldest_first()
    {
        await FillAsync();
        var last = (await QueryAsync(new ArchiveQuery { Max = 3, FromEnd = true }))!;
        Assert.Equal(["m7", "m8", "m9"], Ids(last));
        Assert.Equal((7, false), (last.FirstIndex, last.Complete));
        var earlier = (await QueryAsync(new ArchiveQuery { Max = 3, FromEnd = true, PageBefore = "m2" }))!;
        Assert.Equal(["m0", "m1"], Ids(earlier));
        Assert.True(earlier.Complete);
    }

    [Fact]
    public async Task Filters_by_with_bare_or_full_by_time_and_by_ids()
    {
        await FillAsync();
        Assert.Equal(["m0", "m2", "m4", "m6", "m8"], Ids((await QueryAsync(new ArchiveQuery { Max = 50, With = Jid.Parse("bob@example.test") }))!));
        Assert.Empty(Ids((await QueryAsync(new ArchiveQuery { Max = 50, With = Jid.Parse("bob@example.test/other") }))!));
        Assert.Equal(5, (await QueryAsync(new ArchiveQuery { Max = 50, With = Jid.Parse("carol@example.test/phone") }))!.Count);
        Assert.Equal(["m3", "m4", "m5"], Ids((await QueryAsync(new ArchiveQuery { Max = 50, Start = T0.AddMinutes(3), End = T0.AddMinutes(5) }))!));
        Assert.Equal(["m1", "m6"], Ids((await QueryAsync(new ArchiveQuery { Max = 50, Ids = ["m6", "m1"] }))!));
    }

    [Fact]
    public async Task After_id_and_before_id_bound_the_result_set_and_unknown_ids_are_null()
    {
        await FillAsync();
        var between = (await QueryAsync(new ArchiveQuery { Max = 2, AfterId = "m2", BeforeId = "m7" }))!;
        Assert.Equal(["m3", "m4"], Ids(between));
        Assert.Equal((4, 0, false), (between.Count, between.FirstIndex, between.Complete));
        Assert.Null(await QueryAsync(new ArchiveQuery { Max = 2, AfterId = "nope" }));
        Assert.Null(await QueryAsync(new ArchiveQuery { Max = 2, PageBefore = "nope" }));
        Assert.Null(await QueryAsync(new ArchiveQuery { Max = 2, Ids = ["m1", "nope"] }));
    }

    [Fact]
    public async Task A_message_is_replaced_by_its_tombstone_in_place()
    {
        await FillAsync();
        var tombstone = new Element("message", Ns.Client).Add(new Element("retracted", "urn:xmpp:message-retract:1"));
        Assert.True(await Storage.Archive.ReplaceAsync(Alice, "m4", tombstone, CancellationToken.None));
        Assert.False(await Storage.Archive.ReplaceAsync(Alice, "nope", tombstone, CancellationToken.None));
        var page = (await QueryAsync(new ArchiveQuery { Max = 10, Ids = ["m4"] }))!;
        Assert.NotNull(page.Items[0].Message.Child("retracted", "urn:xmpp:message-retract:1"));
        Assert.Equal(T0.AddMinutes(4), page.Items[0].Timestamp);
    }

    [Fact]
    public async Task Max_zero_counts_bounds_retention_and_deletion()
    {
        await FillAsync();
        var count = (await QueryAsync(new ArchiveQuery { Max = 0 }))!;
        Assert.Equal((10, 0), (count.Count, count.Items.Count));
        var (first, last) = await Storage.Archive.BoundsAsync(Alice, CancellationToken.None);
        Assert.Equal(("m0", "m9"), (first!.Id, last!.Id));
        Assert.Equal(3, await Storage.Archive.DeleteOlderThanAsync(T0.AddMinutes(3), CancellationToken.None));
        Assert.Equal("m3", (await Storage.Archive.BoundsAsync(Alice, CancellationToken.None)).First!.Id);
        await Storage.Archive.DeleteAllAsync(Alice, CancellationToken.None);
        Assert.Equal(0, (await QueryAsync(new ArchiveQuery { Max = 5 }))!.Count);
    }

    [Fact]
    public async Task Count_all_adds_up_every_archive_and_follows_deletions()
    {
        Assert.Equal(0, await Storage.Archive.CountAllAsync(CancellationToken.None));
        await FillAsync();
        var room = Jid.Parse("room@conference.example.test");
        await Storage.Archive.AppendAsync(room, new ArchivedMessage("r0", T0, room.WithResource("nick"), new Element("message", Ns.Client)), CancellationToken.None);
        Assert.Equal(11, await Storage.Archive.CountAllAsync(CancellationToken.None));
        await Storage.Archive.DeleteOlderThanAsync(T0.AddMinutes(3), CancellationToken.None);
        Assert.Equal(7, await Storage.Archive.CountAllAsync(CancellationToken.None));
        await Storage.Archive.DeleteAllAsync(Alice, CancellationToken.None);
        Assert.Equal(0, await Storage.Archive.CountAllAsync(CancellationToken.None));
    }
}

public sealed class MemoryArchiveStoreTests : ArchiveStoreContract
{
    protected override IStorage CreateStorage() => new MemoryStorage();
}

public sealed class SqliteArchiveStoreTests : ArchiveStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-sqlite-" + Guid.NewGuid().ToString("N"));

    protected override IStorage CreateStorage() => new SqliteStorage(_directory);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
