using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Server.Storage;
using Parley.Server.Storage.Sql;

namespace Parley.Benchmarks;

/// <summary>
/// XEP-0313 queries against one account's archive of 100,000 messages in SQLite (the embedded default), with 20
/// contacts and one message a minute: the pages clients ask for most (the newest page, paging on from the middle,
/// one contact's newest page, a day's messages) and the count alone.
/// </summary>
[MemoryDiagnoser]
public class ArchiveBenchmarks
{
    private const int Messages = 100_000;
    private static readonly Jid Alice = Jid.Parse("alice@example.org");
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-bench-archive-" + Guid.NewGuid().ToString("N"));
    private SqliteStorage _storage = null!;

    [GlobalSetup]
    public void Setup()
    {
        _storage = new SqliteStorage(_directory);
        _storage.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        // Bulk load in one transaction (the server appends one message at a time; that cost is not measured here).
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "parley.db")};Pooling=false");
        connection.Open();
        using var tx = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO archive (account, id, ts, with_bare, with_resource, message) VALUES ($a, $id, $ts, $wb, $wr, $m);";
        var a = insert.Parameters.Add("$a", SqliteType.Text);
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var ts = insert.Parameters.Add("$ts", SqliteType.Integer);
        var wb = insert.Parameters.Add("$wb", SqliteType.Text);
        var wr = insert.Parameters.Add("$wr", SqliteType.Text);
        var m = insert.Parameters.Add("$m", SqliteType.Text);
        a.Value = Alice.ToString();
        wr.Value = "phone";
        for (var i = 0; i < Messages; i++)
        {
            var contact = "contact" + (i % 20) + "@example.org";
            id.Value = "id" + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
            ts.Value = T0.AddMinutes(i).ToUnixTimeMilliseconds();
            wb.Value = contact;
            m.Value = $"<message xmlns='jabber:client' from='{contact}/phone' to='alice@example.org/phone' type='chat' id='m{i}'><body>Message number {i}, with a few words of text in it.</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='id{i:D6}'/></message>";
            insert.ExecuteNonQuery();
        }
        tx.Commit();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private int Run(ArchiveQuery query) => _storage.Archive.QueryAsync(Alice, query, CancellationToken.None).GetAwaiter().GetResult()!.Items.Count;

    /// <summary>The newest 50 (RSM &lt;before/&gt;): what a client fetches on login.</summary>
    [Benchmark]
    public int Newest_page_of_50() => Run(new ArchiveQuery { Max = 50, FromEnd = true });

    /// <summary>50 after a message in the middle (RSM &lt;after/&gt;): catching up.</summary>
    [Benchmark]
    public int Page_of_50_after_the_middle() => Run(new ArchiveQuery { Max = 50, PageAfter = "id050000" });

    /// <summary>One contact's newest 50 (with + &lt;before/&gt;): opening a conversation.</summary>
    [Benchmark]
    public int Newest_50_with_one_contact() => Run(new ArchiveQuery { Max = 50, FromEnd = true, With = Jid.Parse("contact7@example.org") });

    /// <summary>A day in the middle (start and end), first 50.</summary>
    [Benchmark]
    public int One_day_first_50() => Run(new ArchiveQuery { Max = 50, Start = T0.AddDays(30), End = T0.AddDays(31) });

    /// <summary>The count alone (max 0).</summary>
    [Benchmark]
    public int Count_only() => _storage.Archive.QueryAsync(Alice, new ArchiveQuery { Max = 0 }, CancellationToken.None).GetAwaiter().GetResult()!.Count;
}
