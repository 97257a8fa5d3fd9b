using System.Net;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Server.Tests.Federation;

/// <summary>
/// RFC 6120 §3.2 and XEP-0368 for server-to-server streams, end to end without the system resolver: a.example finds
/// b.example only through a scripted name server on loopback (S2s:DnsServers), which answers SRV and A questions and
/// records them. b.example reaches a.example by a static route (for dialback's verification).
/// </summary>
public sealed class SrvFederationTests
{
    private const string A = "a.example";
    private const string B = "b.example";

    private static async Task<(TestServer A, TestServer B)> PairAsync(TestDns dns, Dictionary<string, string?>? settingsB = null)
    {
        var a = await TestServer.StartAsync(new()
        {
            ["Domain"] = A, ["S2s:Enabled"] = "true", ["S2s:ConnectTimeoutSeconds"] = "10", ["S2s:DnsServers:0"] = dns.EndPoint.ToString(),
        });
        var b = await TestServer.StartAsync(new(settingsB ?? []) { ["Domain"] = B, ["S2s:Enabled"] = "true", ["S2s:ConnectTimeoutSeconds"] = "10" });
        b.Server.Options.S2s.Routes[A] = "127.0.0.1:" + a.S2sPort;
        return (a, b);
    }

    private static async Task MessageArrivesAsync(TestServer a, TestServer b)
    {
        await using var alice = await a.LoginAsync("alice", "phone");
        await using var bob = await b.LoginAsync("bob", "desk");
        await alice.SendAsync(Chat(b.Jid("bob", "desk").ToString(), "found you"));
        var message = await NextAsync(bob, "message");
        Assert.Equal("alice@a.example/phone", message.GetAttribute("from"));
    }

    // The questions asked, in order, without the AAAA ones (asked beside each A).
    private static List<string> Asked(TestDns dns) => dns.Asked.Where(q => !q.StartsWith("28 ", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task Rfc6120_3_2_1_srv_targets_are_tried_in_priority_order_and_their_addresses_come_from_the_configured_name_server()
    {
        await using var dns = new TestDns();
        var (a, b) = await PairAsync(dns);
        await using var _a = a;
        await using var _b = b;
        // Listed worst first: the resolver sorts. The better target refuses connections; the next one is b.example.
        dns.Service("_xmpp-server._tcp." + B, (20, 0, (ushort)b.S2sPort, "xmpp." + B), (10, 0, (ushort)Loopback.ClosedPort(), "down." + B))
            .Address("xmpp." + B, IPAddress.Loopback)
            .Address("down." + B, IPAddress.Loopback);

        await MessageArrivesAsync(a, b);

        // XEP-0368's direct TLS service first, then STARTTLS; then each target's address, by priority.
        Assert.Equal(["SRV _xmpps-server._tcp.b.example", "SRV _xmpp-server._tcp.b.example", "A down.b.example", "A xmpp.b.example"], Asked(dns));
    }

    [Fact]
    public async Task Rfc6120_3_2_2_without_srv_records_the_domain_itself_is_tried_at_port_5269()
    {
        await using var dns = new TestDns();
        var address = Loopback.AddressWithFreePort(5269);
        var (a, b) = await PairAsync(dns, new() { ["S2s:Address"] = address.ToString(), ["S2s:Port"] = "5269" });
        await using var _a = a;
        await using var _b = b;
        dns.Address(B, address);

        await MessageArrivesAsync(a, b);

        Assert.Equal(["SRV _xmpps-server._tcp.b.example", "SRV _xmpp-server._tcp.b.example", "A b.example"], Asked(dns));
    }

    [Fact]
    public async Task Xep0368_an_xmpps_server_record_leads_to_the_direct_tls_port_where_tls_comes_first()
    {
        await using var dns = new TestDns();
        var (a, b) = await PairAsync(dns, new() { ["S2s:DirectTlsPort"] = "0" });
        await using var _a = a;
        await using var _b = b;
        // Only the direct TLS service: a plaintext stream header on that port would fail the handshake.
        dns.Service("_xmpps-server._tcp." + B, (0, 0, (ushort)b.Server.Port("s2s-direct-tls"), "xmpp." + B))
            .Address("xmpp." + B, IPAddress.Loopback);

        await MessageArrivesAsync(a, b);

        Assert.Equal(["SRV _xmpps-server._tcp.b.example", "SRV _xmpp-server._tcp.b.example", "A xmpp.b.example"], Asked(dns));
    }
}
