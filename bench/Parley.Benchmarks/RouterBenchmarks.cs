using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server;
using Parley.Server.Routing;

namespace Parley.Benchmarks;

/// <summary>
/// <see cref="Router.RouteAsync"/> in a running server (memory storage, the modules compare.sh runs: all but mam,
/// pubsub, pep, push, upload and extdisco), between two sessions that are registered and available but have no
/// connection, so the figure is routing and the modules' hooks without parsing, writing or sockets: a chat message
/// to a full JID, one to a bare JID (resource selection, RFC 6121 §8.5.2.1.1), and a ping to the server answered by
/// its module (XEP-0199). Each operation makes the <see cref="Stanza"/> from its element, as the ingress does.
/// </summary>
[MemoryDiagnoser]
public class RouterBenchmarks
{
    private const string Domain = "bench.test";
    private string _data = "";
    private ParleyServer _server = null!;
    private Router _router = null!;
    private BenchSession _alice = null!;
    private BenchSession _bob = null!;
    private Element _toFull = null!;
    private Element _toBare = null!;
    private Element _ping = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = Path.Combine(Path.GetTempPath(), "parley-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_data);
        var values = new Dictionary<string, string?>
        {
            ["Domain"] = Domain,
            ["DataDirectory"] = _data,
            ["Storage"] = "memory",
            ["C2s:Address"] = "127.0.0.1",
            ["C2s:Port"] = "0",
            ["C2sDirectTls:Enabled"] = "false",
            ["WebSocket:Enabled"] = "false",
            ["Bosh:Enabled"] = "false",
            ["WebClient:Enabled"] = "false",
            ["S2s:Enabled"] = "false",
            ["Upload:Address"] = "127.0.0.1",
            ["Upload:Port"] = "0",
            ["DisabledModules:0"] = "mam",
            ["DisabledModules:1"] = "pubsub",
            ["DisabledModules:2"] = "pep",
            ["DisabledModules:3"] = "push",
            ["DisabledModules:4"] = "upload",
            ["DisabledModules:5"] = "extdisco",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        _server = ParleyServer.Create(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        _server.StartAsync().GetAwaiter().GetResult();
        _router = _server.Services.GetRequiredService<Router>();
        var sessions = _server.Services.GetRequiredService<SessionRegistry>();
        _alice = new BenchSession($"alice@{Domain}/phone");
        _bob = new BenchSession($"bob@{Domain}/laptop");
        sessions.TryAdd(_alice, 10, out _);
        sessions.TryAdd(_bob, 10, out _);
        // Initial presence through the router, as a client sends it (RFC 6121 §4.2): both become available.
        foreach (var session in new[] { _alice, _bob })
            _router.RouteAsync(Stanza.Create(new Element("presence", Ns.Client).SetAttribute("from", session.Jid.ToString())), session, CancellationToken.None)
                .AsTask().GetAwaiter().GetResult();

        _toFull = Message(_bob.Jid.ToString());
        _toBare = Message(_bob.Jid.Bare.ToString());
        _ping = new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "ping-1")
            .SetAttribute("from", _alice.Jid.ToString()).SetAttribute("to", Domain).Add(new Element("ping", Ns.Ping));
        foreach (var element in new[] { _toFull, _toBare, _ping }) Route(element).AsTask().GetAwaiter().GetResult();
        if (_bob.Delivered < 2 || _alice.Delivered < 1) throw new InvalidOperationException("The warm-up stanzas were not delivered");
    }

    private Element Message(string to) =>
        new Element("message", Ns.Client).SetAttribute("type", "chat").SetAttribute("id", "m-1")
            .SetAttribute("from", _alice.Jid.ToString()).SetAttribute("to", to)
            .Add(new Element("body", Ns.Client).AddText("Sure, 12:30 at the usual place."))
            .Add(new Element("active", "http://jabber.org/protocol/chatstates"));

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    private ValueTask Route(Element element) => _router.RouteAsync(Stanza.Create(element), _alice, CancellationToken.None);

    [Benchmark(Baseline = true)]
    public ValueTask Message_to_full_jid() => Route(_toFull);

    [Benchmark]
    public ValueTask Message_to_bare_jid() => Route(_toBare);

    [Benchmark]
    public ValueTask Iq_ping_to_server() => Route(_ping);

    /// <summary>A bound session with no connection: it counts what it is given.</summary>
    private sealed class BenchSession(string jid) : IClientSession
    {
        public long Delivered;
        public Jid Jid { get; } = Jid.Parse(jid);
        public string StreamId => "bench";
        public DateTimeOffset BoundAt { get; } = DateTimeOffset.UtcNow;
        public SessionPresence Presence { get; } = new();
        public bool TryDeliver(Element stanza)
        {
            Delivered++;
            return true;
        }

        public ValueTask CloseAsync(StreamError error, CancellationToken ct) => ValueTask.CompletedTask;
    }
}
