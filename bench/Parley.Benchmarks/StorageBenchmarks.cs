using BenchmarkDotNet.Attributes;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Storage;
using Parley.Server.Storage.Sql;

namespace Parley.Benchmarks;

/// <summary>
/// The two SQLite reads every login makes: the account with its SCRAM credentials (SASL), and one element of a map
/// store (the roster, private XML, last activity...). Both rows exist; what is measured is the cost of one call,
/// connection handling and statement preparation included.
/// </summary>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    private static readonly Jid Alice = Jid.Parse("alice@example.org");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-bench-storage-" + Guid.NewGuid().ToString("N"));
    private SqliteStorage _storage = null!;
    private IMapStore _roster = null!;

    [GlobalSetup]
    public void Setup()
    {
        _storage = new SqliteStorage(_directory);
        _storage.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        var account = new Account(Alice, [ScramCredential.Create(ScramHash.Sha1, "pw", 4096), ScramCredential.Create(ScramHash.Sha256, "pw", 4096)], DateTimeOffset.UtcNow);
        _storage.Accounts.CreateAsync(account, CancellationToken.None).GetAwaiter().GetResult();
        _roster = _storage.Map("roster");
        var item = new Element("item", "jabber:iq:roster").SetAttribute("jid", "bob@example.org").SetAttribute("name", "Bob")
            .Add(new Element("group", "jabber:iq:roster").AddText("Friends"));
        _roster.SetAsync(Alice, "bob@example.org", item, CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>SASL's lookup: the account and its credentials (a join, two rows).</summary>
    [Benchmark]
    public int Account_get() => _storage.Accounts.GetAsync(Alice, CancellationToken.None).GetAwaiter().GetResult()!.Credentials.Count;

    /// <summary>One roster item by key.</summary>
    [Benchmark]
    public string? Map_get() => _roster.GetAsync(Alice, "bob@example.org", CancellationToken.None).GetAwaiter().GetResult()!.GetAttribute("name");
}
