using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server;
using Parley.Server.Federation;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Interop.Tests.Federation;

/// <summary>
/// Federation with another server on loopback (RFC 6120 §10.4, RFC 6121, XEP-0220): a Parley user and a user of the
/// other server become contacts, chat and see each other's presence, and each discovers the other's server. Parley
/// listens for s2s on a loopback address of its own at port 5269, which the other server finds through a hosts file
/// of its own; Parley reaches the other server through a static route. Without certificates both sides use
/// self-signed ones and authenticate by dialback; with them, a test CA that both trust issues both, for SASL EXTERNAL.
/// </summary>
public abstract class RemoteServerFederationTests : IAsyncLifetime
{
    protected const string Domain = "parley.example";
    private const string Password = "federation-secret";

    private readonly bool _certificates;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "parley-federation-" + Guid.NewGuid().ToString("N"));
    // The other server looks for Parley at the default s2s port (RFC 6120 §3.2.2), on an address of its own.
    private readonly IPAddress _address = Loopback.AddressWithFreePort(5269);
    private TestCa? _ca;
    private ParleyServer? _parley;

    private ParleyServer LocalServer => _parley ?? throw new InvalidOperationException("Parley has not started");

    protected RemoteServerFederationTests(bool certificates) => _certificates = certificates;

    /// <summary>The other server's domain.</summary>
    protected abstract string RemoteDomain { get; }

    /// <summary>The other server's s2s port on 127.0.0.1.</summary>
    protected abstract int RemoteS2sPort { get; }

    /// <summary>The bare JID of the other server's user, and the resource <see cref="RemoteUser"/> binds.</summary>
    protected abstract (string Bare, string Resource) RemoteAccount { get; }

    /// <summary>
    /// Starts the other server, which must resolve <see cref="Domain"/> to <paramref name="parley"/> (port 5269) and,
    /// with a CA, present a certificate it issued and trust it.
    /// </summary>
    protected abstract Task StartRemoteAsync(IPAddress parley, TestCa? ca);

    protected abstract Task StopRemoteAsync();

    /// <summary>A client of the other server's user (raw: it hands every stanza to the test).</summary>
    protected abstract XmppClient RemoteUser();

    /// <summary>The other server's log, for failure messages.</summary>
    protected abstract string RemoteLog();

    public async Task InitializeAsync()
    {
        try
        {
            await StartBothAsync();
        }
        catch
        {
            // xunit does not dispose a test class whose InitializeAsync failed: never leave the other server running.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartBothAsync()
    {
        Directory.CreateDirectory(_data);
        _ca = _certificates ? new TestCa(Path.Combine(_data, "ca")) : null;
        await StartRemoteAsync(_address, _ca);
        var settings = new Dictionary<string, string?>
        {
            ["Domain"] = Domain,
            ["DataDirectory"] = _data,
            ["Storage"] = "memory",
            ["C2s:Address"] = "127.0.0.1",
            ["C2s:Port"] = "0",
            ["C2sDirectTls:Enabled"] = "false",
            ["Upload:Enabled"] = "false",
            // BOSH still opens the HTTPS listener: on a free port, since several of these run at once.
            ["Upload:Address"] = "127.0.0.1",
            ["Upload:Port"] = "0",
            ["WebSocket:Enabled"] = "false",
            ["AdminSocket:Enabled"] = "false",
            ["S2s:Address"] = _address.ToString(),
            ["S2s:Port"] = "5269",
            ["S2s:ConnectTimeoutSeconds"] = "20",
            ["S2s:Routes:" + RemoteDomain] = "127.0.0.1:" + RemoteS2sPort,
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
        try
        {
            if (_parley is not null)
            {
                await _parley.StopAsync();
                await _parley.DisposeAsync();
            }
        }
        finally
        {
            await StopRemoteAsync();
            _ca?.Dispose();
            if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
        }
    }

    private XmppClient Alice() => new(new XmppClientOptions
    {
        Jid = Jid.Create("alice", Domain, "parley"),
        Password = Password,
        Host = "127.0.0.1",
        Port = LocalServer.Port("c2s"),
        CertificateValidation = (_, c, _, _) => c is not null && c.GetRawCertData().AsSpan().SequenceEqual(
            LocalServer.Services.GetRequiredService<Parley.Server.Connections.TlsCertificateProvider>().Certificate.RawData),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(20),
        Raw = true,
    });

    // Everything a client received that the test has not looked for yet: stanzas from two servers come in any order.
    private sealed class Inbox(XmppClient client, Func<string> log)
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
                throw new TimeoutException($"No {waitingFor}; had: {string.Join("\n", _backlog)}\nThe other server's log:\n{log()}");
            }
        }
    }

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

    private async Task<Element> DiscoInfoAsync(XmppClient client, string server)
    {
        try
        {
            return await client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "disco-" + server)
                .SetAttribute("to", server).Add(new Element("query", Ns.DiscoInfo)));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"No disco#info reply from {server}; the other server's log:\n{RemoteLog()}", e);
        }
    }

    [Fact]
    public async Task Rfc6121_3_a_parley_user_and_a_remote_user_subscribe_chat_and_see_presence()
    {
        var (remoteJid, remoteResource) = RemoteAccount;
        var remoteFull = remoteJid + "/" + remoteResource;
        await using var alice = Alice();
        await using var bob = RemoteUser();
        await alice.ConnectAsync();
        await bob.ConnectAsync();
        var atAlice = new Inbox(alice, RemoteLog);
        var atBob = new Inbox(bob, RemoteLog);
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence(show: "away"));

        // XEP-0030 both ways: each user asks the other's server who it is.
        var remoteInfo = await DiscoInfoAsync(alice, RemoteDomain);
        Assert.True(remoteInfo.GetAttribute("type") == "result", remoteInfo + "\n" + RemoteLog());
        Assert.Equal("server", remoteInfo.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!.GetAttribute("category"));
        var parleyInfo = await DiscoInfoAsync(bob, Domain);
        Assert.True(parleyInfo.GetAttribute("type") == "result", parleyInfo + "\n" + RemoteLog());
        Assert.Equal("server", parleyInfo.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!.GetAttribute("category"));

        // RFC 6121 §3.1: the handshake, both directions.
        await alice.SendAsync(Presence("subscribe", remoteJid));
        await atBob.NextAsync("presence", p => p.GetAttribute("type") == "subscribe", "subscription request at the other server");
        await bob.SendAsync(Presence("subscribed", "alice@" + Domain));
        await bob.SendAsync(Presence("subscribe", "alice@" + Domain));
        await atAlice.NextAsync("presence", p => p.GetAttribute("type") == "subscribe", "subscription request at Parley");
        await alice.SendAsync(Presence("subscribed", remoteJid));
        Assert.Equal("both", await SubscriptionAsync(alice, remoteJid));
        Assert.Equal("both", await SubscriptionAsync(bob, "alice@" + Domain));

        // RFC 6121 §4: presence crosses, with its show.
        var bobsPresence = await atAlice.NextAsync("presence", p => p.GetAttribute("from") == remoteFull && p.GetAttribute("type") is null, "the remote user's presence");
        Assert.Equal("away", bobsPresence.ChildText("show", Ns.Client));
        await atBob.NextAsync("presence", p => p.GetAttribute("from") == "alice@" + Domain + "/parley" && p.GetAttribute("type") is null, "Parley user's presence");

        // Messages both ways.
        await alice.SendAsync(Chat(remoteJid, "hello remote"));
        var m1 = await atBob.NextAsync("message", m => m.ChildText("body", Ns.Client) == "hello remote", "message at the other server");
        Assert.Equal("alice@" + Domain + "/parley", m1.GetAttribute("from"));
        await bob.SendAsync(Chat("alice@" + Domain, "hello parley"));
        var m2 = await atAlice.NextAsync("message", m => m.ChildText("body", Ns.Client) == "hello parley", "message at Parley");
        Assert.Equal(remoteFull, m2.GetAttribute("from"));

        // Presence going: the remote user leaves and Alice hears it.
        await bob.SendAsync(Presence("unavailable"));
        await atAlice.NextAsync("presence", p => p.GetAttribute("from") == remoteFull && p.GetAttribute("type") == "unavailable", "unavailable presence");

        Assert.Equal(_certificates ? "SASL EXTERNAL" : "dialback", LocalServer.Services.GetRequiredService<S2sPool>().Mechanism(Domain, RemoteDomain));
    }
}
