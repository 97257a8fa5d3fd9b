using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Interop.Tests.ClientLibrary;
using Parley.Protocol;
using Parley.Server;
using Parley.Server.Federation;

namespace Parley.Interop.Tests.Federation;

/// <summary>
/// Federation with Debian's prosody on loopback (RFC 6120 §10.4, XEP-0220): a Parley user and a prosody user become
/// contacts, chat and see each other's presence, and each discovers the other's server. Parley listens for s2s on a
/// loopback address of its own at port 5269 that prosody finds through its hosts file; Parley reaches prosody through a
/// static route. Authentication is by dialback (self-signed certificates on both sides).
/// </summary>
public class ProsodyFederationTests : IAsyncLifetime
{
    private readonly bool _certificates;
    private Parley.Server.Tests.Infrastructure.TestCa? _ca;

    public ProsodyFederationTests() : this(certificates: false)
    {
    }

    /// <summary>With certificates from a test CA on both sides, trusted by both: SASL EXTERNAL instead of dialback.</summary>
    protected ProsodyFederationTests(bool certificates) => _certificates = certificates;

    private const string Domain = "parley.example";
    private const string Password = "federation-secret";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "parley-federation-" + Guid.NewGuid().ToString("N"));
    private readonly IPAddress _address = FreeLoopbackAddress();
    private ProsodyTarget _prosody = null!;
    private ParleyServer _parley = null!;

    // A 127.x.y.z address whose port 5269 is free: prosody looks for Parley at the default s2s port (no SRV).
    private static IPAddress FreeLoopbackAddress()
    {
        for (var i = 0; i < 50; i++)
        {
            var address = new IPAddress([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(2, 255)]);
            try
            {
                using var probe = new TcpListener(address, 5269);
                probe.Start();
                return address;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("No loopback address with a free port 5269");
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        _ca = _certificates ? new Parley.Server.Tests.Infrastructure.TestCa(Path.Combine(_data, "ca")) : null;
        _prosody = new ProsodyTarget(new ProsodyFederation([(_address.ToString(), Domain)], SecureAuth: _certificates,
            Issue: _ca is null ? null : _ca.Issue, CaFile: _ca?.CertificatePath));
        await _prosody.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Domain"] = Domain,
            ["DataDirectory"] = _data,
            ["Storage"] = "memory",
            ["C2s:Address"] = "127.0.0.1",
            ["C2s:Port"] = "0",
            ["C2sDirectTls:Enabled"] = "false",
            ["Upload:Enabled"] = "false",
            ["WebSocket:Enabled"] = "false",
            ["AdminSocket:Enabled"] = "false",
            ["S2s:Address"] = _address.ToString(),
            ["S2s:Port"] = "5269",
            ["S2s:ConnectTimeoutSeconds"] = "20",
            ["S2s:Routes:" + _prosody.Domain] = "127.0.0.1:" + _prosody.S2sPort,
        };
        if (_ca is not null)
        {
            var (cert, key) = _ca.Issue(Domain);
            settings["Tls:CertificatePath"] = cert;
            settings["Tls:KeyPath"] = key;
            settings["S2s:TrustedCaPaths:0"] = _ca.CertificatePath;
        }
        _parley = ParleyServer.Create(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        await _parley.StartAsync();
        await _parley.Services.GetRequiredService<Accounts>().CreateAsync(Jid.Create("alice", Domain), Password, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _parley.StopAsync();
        await _parley.DisposeAsync();
        await _prosody.DisposeAsync();
        _ca?.Dispose();
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    private XmppClient Alice() => new(new XmppClientOptions
    {
        Jid = Jid.Create("alice", Domain, "parley"),
        Password = Password,
        Host = "127.0.0.1",
        Port = _parley.Port("c2s"),
        CertificateValidation = (_, c, _, _) => c is not null && c.GetRawCertData().AsSpan().SequenceEqual(
            _parley.Services.GetRequiredService<Parley.Server.Connections.TlsCertificateProvider>().Certificate.RawData),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(20),
        Raw = true,
    });

    private XmppClient ProsodyUser()
    {
        var options = _prosody.Options("suba", "prosody");
        return new XmppClient(options with { Raw = true, IqTimeout = TimeSpan.FromSeconds(20) });
    }

    // Everything a client received that the test has not looked for yet: stanzas from two servers come in any order.
    private sealed class Inbox(XmppClient client)
    {
        private readonly List<Element> _backlog = [];

        public async Task<Element> NextAsync(string localName, Func<Element, bool> match, string waitingFor)
        {
            var i = _backlog.FindIndex(e => e.LocalName == localName && match(e));
            if (i >= 0)
            {
                var found = _backlog[i];
                _backlog.RemoveAt(i);
                return found;
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                while (true)
                {
                    var e = await client.ReceiveAsync(timeout.Token);
                    if (e.LocalName == localName && match(e)) return e;
                    _backlog.Add(e);
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No {waitingFor}; had: {string.Join("\n", _backlog)}");
            }
        }
    }

    private static Element Presence(string? type = null, string? to = null, string? show = null)
    {
        var p = new Element("presence", Ns.Client);
        if (type is not null) p.SetAttribute("type", type);
        if (to is not null) p.SetAttribute("to", to);
        if (show is not null) p.Add(new Element("show", Ns.Client).AddText(show));
        return p;
    }

    private static Element Chat(string to, string body) =>
        new Element("message", Ns.Client).SetAttribute("to", to).SetAttribute("type", "chat").SetAttribute("id", Guid.NewGuid().ToString("N"))
            .Add(new Element("body", Ns.Client).AddText(body));

    private static async Task<string?> SubscriptionAsync(XmppClient client, string contact)
    {
        for (var i = 0; i < 100; i++)
        {
            var roster = await client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "r" + i)
                .Add(new Element("query", Ns.Roster)));
            foreach (var item in roster.Child("query", Ns.Roster)!.Children)
                if (item.GetAttribute("jid") == contact && item.GetAttribute("subscription") == "both") return "both";
            await Task.Delay(100);
        }
        return null;
    }

    private static Task<Element> DiscoInfoAsync(XmppClient client, string server) =>
        client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "disco-" + server).SetAttribute("to", server)
            .Add(new Element("query", Ns.DiscoInfo)));

    [Fact]
    public async Task Rfc6121_3_a_parley_user_and_a_prosody_user_subscribe_chat_and_see_presence()
    {
        var prosodyJid = "suba@" + _prosody.Domain;
        await using var alice = Alice();
        await using var bob = ProsodyUser();
        await alice.ConnectAsync();
        await bob.ConnectAsync();
        var atAlice = new Inbox(alice);
        var atBob = new Inbox(bob);
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence(show: "away"));

        // XEP-0030 both ways: each user asks the other's server who it is.
        var prosodyInfo = await DiscoInfoAsync(alice, _prosody.Domain);
        Assert.True(prosodyInfo.GetAttribute("type") == "result", prosodyInfo + "\n" + _prosody.Log());
        Assert.Equal("server", prosodyInfo.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!.GetAttribute("category"));
        var parleyInfo = await DiscoInfoAsync(bob, Domain);
        Assert.True(parleyInfo.GetAttribute("type") == "result", parleyInfo + "\n" + _prosody.Log());
        Assert.Equal("server", parleyInfo.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!.GetAttribute("category"));

        // RFC 6121 §3.1: the handshake, both directions.
        await alice.SendAsync(Presence("subscribe", prosodyJid));
        await atBob.NextAsync("presence", p => p.GetAttribute("type") == "subscribe", "subscription request at prosody");
        await bob.SendAsync(Presence("subscribed", "alice@" + Domain));
        await bob.SendAsync(Presence("subscribe", "alice@" + Domain));
        await atAlice.NextAsync("presence", p => p.GetAttribute("type") == "subscribe", "subscription request at Parley");
        await alice.SendAsync(Presence("subscribed", prosodyJid));
        Assert.Equal("both", await SubscriptionAsync(alice, prosodyJid));
        Assert.Equal("both", await SubscriptionAsync(bob, "alice@" + Domain));

        // RFC 6121 §4: presence crosses, with its show.
        var bobsPresence = await atAlice.NextAsync("presence", p => p.GetAttribute("from") == prosodyJid + "/prosody" && p.GetAttribute("type") is null, "prosody user's presence");
        Assert.Equal("away", bobsPresence.ChildText("show", Ns.Client));
        await atBob.NextAsync("presence", p => p.GetAttribute("from") == "alice@" + Domain + "/parley" && p.GetAttribute("type") is null, "Parley user's presence");

        // Messages both ways.
        await alice.SendAsync(Chat(prosodyJid, "hello prosody"));
        var m1 = await atBob.NextAsync("message", m => m.ChildText("body", Ns.Client) == "hello prosody", "message at prosody");
        Assert.Equal("alice@" + Domain + "/parley", m1.GetAttribute("from"));
        await bob.SendAsync(Chat("alice@" + Domain, "hello parley"));
        var m2 = await atAlice.NextAsync("message", m => m.ChildText("body", Ns.Client) == "hello parley", "message at Parley");
        Assert.Equal(prosodyJid + "/prosody", m2.GetAttribute("from"));

        // Presence going: the prosody user leaves and Alice hears it.
        await bob.SendAsync(Presence("unavailable"));
        await atAlice.NextAsync("presence", p => p.GetAttribute("from") == prosodyJid + "/prosody" && p.GetAttribute("type") == "unavailable", "unavailable presence");

        Assert.Equal(_certificates ? "SASL EXTERNAL" : "dialback", _parley.Services.GetRequiredService<S2sPool>().Mechanism(Domain, _prosody.Domain));
    }
}

/// <summary>The same with certificates from a test CA (XEP-0178): prosody with s2s_secure_auth, SASL EXTERNAL both ways.</summary>
public sealed class ProsodyFederationWithCertificatesTests : ProsodyFederationTests
{
    public ProsodyFederationWithCertificatesTests() : base(certificates: true)
    {
    }
}
