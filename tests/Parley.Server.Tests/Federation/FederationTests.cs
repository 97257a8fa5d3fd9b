using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Federation;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Server.Tests.Federation;

/// <summary>
/// Two Parley servers in one process on loopback, with different domains and static routes to each other:
/// federation (RFC 6120 §10.4, XEP-0220) proven by what their users see.
/// </summary>
public sealed class FederationTests
{
    private const string A = "a.example";
    private const string B = "b.example";

    private static async Task<(TestServer A, TestServer B)> PairAsync(Dictionary<string, string?>? extraA = null, Dictionary<string, string?>? extraB = null)
    {
        var a = await TestServer.StartAsync(Settings(A, extraA));
        var b = await TestServer.StartAsync(Settings(B, extraB));
        // Each learns the other's (ephemeral) s2s port as a static route.
        a.Server.Options.S2s.Routes[B] = "127.0.0.1:" + b.S2sPort;
        b.Server.Options.S2s.Routes[A] = "127.0.0.1:" + a.S2sPort;
        return (a, b);
    }

    private static Dictionary<string, string?> Settings(string domain, Dictionary<string, string?>? extra)
    {
        var settings = new Dictionary<string, string?> { ["Domain"] = domain, ["S2s:Enabled"] = "true", ["S2s:ConnectTimeoutSeconds"] = "10" };
        if (extra is not null)
            foreach (var (k, v) in extra) settings[k] = v;
        return settings;
    }

    // What each client received and the test has not yet looked for: stanzas across servers may arrive in any order.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<XmppClient, List<Element>> Backlogs = new();

    private static async Task<Element> NextAsync(XmppClient client, string localName, Func<Element, bool>? match = null)
    {
        var backlog = Backlogs.GetOrCreateValue(client);
        bool Matches(Element e) => e.LocalName == localName && (match is null || match(e));
        var earlier = backlog.FindIndex(Matches);
        if (earlier >= 0)
        {
            var found = backlog[earlier];
            backlog.RemoveAt(earlier);
            return found;
        }
        using var timeout = new CancellationTokenSource(10000);
        while (true)
        {
            var e = await client.ReceiveAsync(timeout.Token);
            if (Matches(e)) return e;
            backlog.Add(e);
        }
    }

    private static Element Chat(Jid to, string body, string id) =>
        new Element("message", Ns.Client).SetAttribute("to", to.ToString()).SetAttribute("type", "chat").SetAttribute("id", id)
            .Add(new Element("body", Ns.Client).AddText(body));

    private static Element RosterGet() =>
        new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "r" + Guid.NewGuid().ToString("N")).Add(new Element("query", Ns.Roster));

    private static string? Subscription(Element roster, Jid contact)
    {
        foreach (var item in roster.Child("query", Ns.Roster)!.Children)
            if (item.GetAttribute("jid") == contact.Bare.ToString()) return item.GetAttribute("subscription");
        return null;
    }

    [Fact]
    public async Task Rfc6120_10_4_and_Xep0220_2_messages_cross_both_ways_after_dialback()
    {
        var (a, b) = await PairAsync();
        await using var _a = a;
        await using var _b = b;
        await using var alice = await a.LoginAsync("alice", "phone");
        await using var bob = await b.LoginAsync("bob", "desk");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence());

        await alice.SendAsync(Chat(b.Jid("bob", "desk"), "hello from a", "m1"));
        var atBob = await NextAsync(bob, "message");
        Assert.Equal("alice@a.example/phone", atBob.GetAttribute("from"));
        Assert.Equal("hello from a", atBob.ChildText("body", Ns.Client));

        await bob.SendAsync(Chat(a.Jid("alice", "phone"), "hello from b", "m2"));
        var atAlice = await NextAsync(alice, "message");
        Assert.Equal("bob@b.example/desk", atAlice.GetAttribute("from"));
        Assert.Equal("hello from b", atAlice.ChildText("body", Ns.Client));

        // By dialback (self-signed certificates prove nothing): b.example's stream to a.example, opened to verify the
        // key, authenticates too; its stanzas still go back on a.example's stream, which asked for bidi (XEP-0288).
        // The verifying stream sends db:verify as soon as it is secured (XEP-0220 §2.1.2) and its own db:result
        // completes after that, possibly after the messages above have crossed: wait for it, bounded.
        Assert.Equal("dialback", a.Services.GetRequiredService<S2sPool>().Mechanism(A, B));
        var poolB = b.Services.GetRequiredService<S2sPool>();
        for (var i = 0; i < 500 && poolB.Mechanism(B, A) != "dialback"; i++) await Task.Delay(20);
        Assert.Equal("dialback", poolB.Mechanism(B, A));
        Assert.True(poolB.UsesIncomingStream(B, A));
    }

    [Fact]
    public async Task Rfc6121_3_a_subscription_handshake_across_servers_ends_in_both_with_presence_and_4_5_unavailable()
    {
        var (a, b) = await PairAsync();
        await using var _a = a;
        await using var _b = b;
        await using var alice = await a.LoginAsync("alice", "phone");
        await using var bob = await b.LoginAsync("bob", "desk");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence(show: "away"));

        // §3.1: Alice asks; Bob's server delivers the request; Bob approves and asks back; Alice approves.
        await alice.SendAsync(Presence("subscribe", "bob@b.example"));
        var request = await NextAsync(bob, "presence", p => p.GetAttribute("type") == "subscribe");
        Assert.Equal("alice@a.example", request.GetAttribute("from"));
        await bob.SendAsync(Presence("subscribed", "alice@a.example"));
        await bob.SendAsync(Presence("subscribe", "alice@a.example"));
        await NextAsync(alice, "presence", p => p.GetAttribute("type") == "subscribe" && p.GetAttribute("from") == "bob@b.example");
        await alice.SendAsync(Presence("subscribed", "bob@b.example"));

        // §3.1.6 / §4.3.2: each now sees the other's presence, Bob's with its 'away'.
        var bobsPresence = await NextAsync(alice, "presence", p => p.GetAttribute("from") == "bob@b.example/desk" && p.GetAttribute("type") is null);
        Assert.Equal("away", bobsPresence.ChildText("show", Ns.Client));
        await NextAsync(bob, "presence", p => p.GetAttribute("from") == "alice@a.example/phone" && p.GetAttribute("type") is null);

        // The rosters on both servers say 'both' (the pushes may arrive before or after, so ask until they do).
        foreach (var (client, contact) in new[] { (alice, b.Jid("bob")), (bob, a.Jid("alice")) })
        {
            string? state = null;
            for (var i = 0; i < 50 && state != "both"; i++)
            {
                state = Subscription(await client.RequestAsync(RosterGet()), contact);
                if (state != "both") await Task.Delay(100);
            }
            Assert.Equal("both", state);
        }

        // §4.5: Bob goes offline; Alice hears it across the servers.
        await bob.SendAsync(Presence("unavailable"));
        await NextAsync(alice, "presence", p => p.GetAttribute("from") == "bob@b.example/desk" && p.GetAttribute("type") == "unavailable");
    }

    [Fact]
    public async Task Xep0030_disco_info_of_the_remote_server_is_answered_by_it()
    {
        var (a, b) = await PairAsync();
        await using var _a = a;
        await using var _b = b;
        await using var alice = await a.LoginAsync("alice");
        var result = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("id", "d1")
            .SetAttribute("to", B).Add(new Element("query", Ns.DiscoInfo)));
        Assert.Equal("result", result.GetAttribute("type"));
        Assert.Equal(B, result.GetAttribute("from"));
        var identity = result.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!;
        Assert.Equal("server", identity.GetAttribute("category"));
    }

    [Fact]
    public async Task Rfc6120_8_3_3_16_an_unreachable_remote_server_bounces_queued_stanzas_with_remote_server_not_found()
    {
        int dead;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            dead = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        await using var a = await TestServer.StartAsync(Settings(A, new() { ["S2s:Routes:nowhere.example"] = "127.0.0.1:" + dead }));
        await using var alice = await a.LoginAsync("alice");
        await alice.SendAsync(Chat(Jid.Parse("carol@nowhere.example"), "one", "n1"));
        await alice.SendAsync(Chat(Jid.Parse("carol@nowhere.example"), "two", "n2"));
        foreach (var id in new[] { "n1", "n2" })
        {
            var bounce = await NextAsync(alice, "message", m => m.GetAttribute("id") == id);
            Assert.Equal("error", bounce.GetAttribute("type"));
            Assert.NotNull(bounce.Child("error", Ns.Client)!.Child("remote-server-not-found", Ns.Stanzas));
        }
    }

    [Fact]
    public async Task Rfc6120_8_3_3_17_a_remote_server_that_never_answers_bounces_with_remote_server_timeout()
    {
        // A listener that accepts and then says nothing.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        await using var a = await TestServer.StartAsync(Settings(A, new()
        {
            ["S2s:Routes:silent.example"] = "127.0.0.1:" + port,
            ["S2s:ConnectTimeoutSeconds"] = "1",
        }));
        await using var alice = await a.LoginAsync("alice");
        await alice.SendAsync(Chat(Jid.Parse("carol@silent.example"), "anyone?", "t1"));
        var bounce = await NextAsync(alice, "message", m => m.GetAttribute("id") == "t1");
        Assert.NotNull(bounce.Child("error", Ns.Client)!.Child("remote-server-timeout", Ns.Stanzas));
    }

    [Fact]
    public async Task S2s_deny_list_refuses_a_domain_with_not_allowed()
    {
        var (a, b) = await PairAsync(extraA: new() { ["S2s:Deny:0"] = B });
        await using var _a = a;
        await using var _b = b;
        await using var alice = await a.LoginAsync("alice");
        await alice.SendAsync(Chat(b.Jid("bob"), "blocked", "x1"));
        var bounce = await NextAsync(alice, "message", m => m.GetAttribute("id") == "x1");
        Assert.NotNull(bounce.Child("error", Ns.Client)!.Child("not-allowed", Ns.Stanzas));
    }

    [Fact]
    public void Xep0220_2_1_1_the_dialback_key_of_example_1_is_reproduced()
    {
        var keys = new DialbackKeys("s3cr3tf0rd14lb4ck");
        Assert.Equal("b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3", keys.Key("montague.example", "capulet.example", "D60000229F"));
        Assert.True(keys.IsValid("montague.example", "capulet.example", "D60000229F", " b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3\n"));
        Assert.False(keys.IsValid("montague.example", "capulet.example", "D60000229G", "b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3"));
    }

    private const string S2sHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='{0}' to='{1}' version='1.0'>";

    private static async Task<(RawConnection Raw, string StreamId)> RawS2sAsync(TestServer server, string from)
    {
        var raw = await RawConnection.ConnectAsync(server.S2sPort);
        await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, S2sHeader, from, server.Host));
        await raw.ReadUntilAsync("</stream:features>");
        await raw.SendAsync("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        await raw.ReadUntilAsync("<proceed");
        await raw.StartTlsAsync(server.TrustServerCertificate());
        raw.ClearReceived();
        await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, S2sHeader, from, server.Host));
        var opened = await raw.ReadUntilAsync("</stream:features>");
        var id = System.Text.RegularExpressions.Regex.Match(opened, "id=['\"]([^'\"]+)['\"]").Groups[1].Value;
        Assert.Contains("urn:xmpp:features:dialback", opened, StringComparison.Ordinal);
        raw.ClearReceived();
        return (raw, id);
    }

    [Fact]
    public async Task Xep0220_2_2_2_the_authoritative_server_answers_db_verify_valid_or_invalid()
    {
        await using var a = await TestServer.StartAsync(Settings(A, null));
        var keys = a.Services.GetRequiredService<DialbackKeys>();
        var (raw, _) = await RawS2sAsync(a, B);
        await using var _raw = raw;
        var good = keys.Key(B, A, "417GAF25");
        await raw.SendAsync($"<db:verify from='{B}' to='{A}' id='417GAF25'>{good}</db:verify>");
        var answer = await raw.ReadUntilAsync("/>");
        Assert.Contains("type='valid'", answer, StringComparison.Ordinal);
        raw.ClearReceived();
        await raw.SendAsync($"<db:verify from='{B}' to='{A}' id='417GAF26'>{good}</db:verify>");
        Assert.Contains("type='invalid'", await raw.ReadUntilAsync("/>"), StringComparison.Ordinal);
        raw.ClearReceived();
        // §2.2.2: a domain not served here is a dialback error, not the end of the stream.
        await raw.SendAsync($"<db:verify from='{B}' to='c.example' id='417GAF27'>{good}</db:verify>");
        Assert.Contains("item-not-found", await raw.ReadUntilAsync("</db:verify>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc6120_4_9_3_9_a_stanza_from_a_domain_not_authenticated_on_the_stream_is_invalid_from()
    {
        // b.example is a real server here, so a's verification of the key with it succeeds.
        var (a, b) = await PairAsync();
        await using var _a = a;
        await using var _b = b;
        var (raw, id) = await RawS2sAsync(a, B);
        await using var _raw = raw;
        var key = b.Services.GetRequiredService<DialbackKeys>().Key(A, B, id);
        await raw.SendAsync($"<db:result from='{B}' to='{A}'>{key}</db:result>");
        Assert.Contains("type='valid'", await raw.ReadUntilAsync("/>", 10000), StringComparison.Ordinal);
        raw.ClearReceived();
        await raw.SendAsync($"<message from='mallory@evil.example' to='alice@{A}' type='chat'><body>spoof</body></message>");
        var closed = await raw.ReadToEndAsync();
        Assert.Contains("<invalid-from", closed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0220_2_4_a_second_domain_is_authenticated_by_piggybacking_on_the_same_stream_and_both_may_send()
    {
        // a receives one stream that first authenticates b.example, then c.example (§2.4 "multiplexing"); a checks each
        // key with that domain's own authoritative server, and stanzas from either domain are accepted on the stream.
        const string C = "c.example";
        var (a, b) = await PairAsync();
        await using var _a = a;
        await using var _b = b;
        await using var c = await TestServer.StartAsync(Settings(C, null));
        a.Server.Options.S2s.Routes[C] = "127.0.0.1:" + c.S2sPort;
        c.Server.Options.S2s.Routes[A] = "127.0.0.1:" + a.S2sPort;
        await using var alice = await a.LoginAsync("alice");
        await alice.SendAsync(new Element("presence", Ns.Client));

        var (raw, id) = await RawS2sAsync(a, B);
        await using var _raw = raw;
        await raw.SendAsync($"<db:result from='{B}' to='{A}'>{b.Services.GetRequiredService<DialbackKeys>().Key(A, B, id)}</db:result>");
        Assert.Contains("type='valid'", await raw.ReadUntilAsync("/>", 10000), StringComparison.Ordinal);
        raw.ClearReceived();
        await raw.SendAsync($"<db:result from='{C}' to='{A}'>{c.Services.GetRequiredService<DialbackKeys>().Key(A, C, id)}</db:result>");
        var second = await raw.ReadUntilAsync("/>", 10000);
        Assert.Contains($"from='{A}'", second, StringComparison.Ordinal);
        Assert.Contains($"to='{C}'", second, StringComparison.Ordinal);
        Assert.Contains("type='valid'", second, StringComparison.Ordinal);
        raw.ClearReceived();

        await raw.SendAsync($"<message from='carol@{C}/x' to='alice@{A}' type='chat' id='p1'><body>from c over b's stream</body></message>");
        await raw.SendAsync($"<message from='bob@{B}/x' to='alice@{A}' type='chat' id='p2'><body>from b</body></message>");
        var first = await NextAsync(alice, "message", m => m.GetAttribute("id") == "p1");
        Assert.Equal($"carol@{C}/x", first.GetAttribute("from"));
        var fromB = await NextAsync(alice, "message", m => m.GetAttribute("id") == "p2");
        Assert.Equal($"bob@{B}/x", fromB.GetAttribute("from"));

        // A third domain that never authenticated is still refused on the stream.
        await raw.SendAsync($"<message from='eve@d.example' to='alice@{A}' type='chat'><body>no</body></message>");
        Assert.Contains("<invalid-from", await raw.ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0220_2_2_1_a_key_the_authoritative_server_does_not_recognise_is_invalid_and_ends_the_stream()
    {
        var (a, b) = await PairAsync();
        await using var _a = a;
        await using var _b = b;
        var (raw, _) = await RawS2sAsync(a, B);
        await using var _raw = raw;
        await raw.SendAsync($"<db:result from='{B}' to='{A}'>{new string('0', 64)}</db:result>");
        var answer = await raw.ReadToEndAsync(10000);
        Assert.Contains("type='invalid'", answer, StringComparison.Ordinal);
        Assert.Contains("</stream:stream>", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc6120_5_3_1_stanzas_before_tls_and_authentication_are_refused()
    {
        await using var a = await TestServer.StartAsync(Settings(A, null));
        await using var raw = await RawConnection.ConnectAsync(a.S2sPort);
        await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, S2sHeader, B, A));
        var features = await raw.ReadUntilAsync("</stream:features>");
        Assert.Contains("<required/>", features, StringComparison.Ordinal);
        Assert.DoesNotContain("dialback", features.Replace("xmlns:db='jabber:server:dialback'", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await raw.SendAsync($"<message from='bob@{B}' to='alice@{A}'><body>early</body></message>");
        Assert.Contains("<not-authorized", await raw.ReadToEndAsync(), StringComparison.Ordinal);
    }

    // Both servers with certificates from one test CA that both trust (XEP-0178), plus any further settings.
    private static async Task WithTrustedCertificatesAsync(Dictionary<string, string?> extra, Func<TestServer, TestServer, Task> body)
    {
        var dir = Path.Combine(Path.GetTempPath(), "parley-ca-" + Guid.NewGuid().ToString("N"));
        using var ca = new TestCa(dir);
        try
        {
            Dictionary<string, string?> Settings(string domain)
            {
                var (cert, key) = ca.Issue(domain);
                var settings = new Dictionary<string, string?>(extra)
                {
                    ["Tls:CertificatePath"] = cert, ["Tls:KeyPath"] = key, ["S2s:TrustedCaPaths:0"] = ca.CertificatePath,
                };
                return settings;
            }
            var (a, b) = await PairAsync(Settings(A), Settings(B));
            await using var _a = a;
            await using var _b = b;
            await body(a, b);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task ChatBothWaysAsync(TestServer a, TestServer b)
    {
        await using var alice = await a.LoginAsync("alice", "phone");
        await using var bob = await b.LoginAsync("bob", "desk");
        await alice.SendAsync(Chat(b.Jid("bob", "desk"), "over external", "e1"));
        Assert.Equal("over external", (await NextAsync(bob, "message")).ChildText("body", Ns.Client));
        await bob.SendAsync(Chat(a.Jid("alice", "phone"), "and back", "e2"));
        Assert.Equal("and back", (await NextAsync(alice, "message")).ChildText("body", Ns.Client));
    }

    [Fact]
    public Task Xep0178_sasl_external_authenticates_servers_whose_certificates_come_from_a_trusted_ca() =>
        // Without XEP-0288 each server opens its own stream, and each authenticates with its certificate.
        WithTrustedCertificatesAsync(new() { ["S2s:Bidirectional"] = "false" }, async (a, b) =>
        {
            await ChatBothWaysAsync(a, b);
            Assert.Equal("SASL EXTERNAL", a.Services.GetRequiredService<S2sPool>().Mechanism(A, B));
            Assert.Equal("SASL EXTERNAL", b.Services.GetRequiredService<S2sPool>().Mechanism(B, A));
            Assert.False(b.Services.GetRequiredService<S2sPool>().UsesIncomingStream(B, A));
        });

    [Fact]
    public Task Xep0288_one_connection_carries_stanzas_both_ways_once_the_initiating_server_asks_for_bidi() =>
        WithTrustedCertificatesAsync([], async (a, b) =>
        {
            await ChatBothWaysAsync(a, b);
            var poolA = a.Services.GetRequiredService<S2sPool>();
            var poolB = b.Services.GetRequiredService<S2sPool>();
            // a.example connected and authenticated; b.example answered on that same stream and opened none.
            Assert.Equal("SASL EXTERNAL", poolA.Mechanism(A, B));
            Assert.True(poolB.UsesIncomingStream(B, A));
            Assert.Null(poolB.Mechanism(B, A));
            Assert.Equal(1, poolA.Count);
            Assert.Equal(1, poolB.Count);
        });
}
