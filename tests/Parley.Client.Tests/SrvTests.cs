using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Client.Tests;

/// <summary>RFC 6120 §3.2.1 and XEP-0368: finding the server through DNS SRV, against a scripted name server on loopback.</summary>
public sealed class SrvTests
{
    private static XmppClientOptions Options(IPEndPoint dns) => new()
    {
        Jid = Jid.Parse("alice@example.test"),
        Password = "pw",
        RequireTls = false,
        Port = 1,     // never used: SRV gives the port
        DnsServers = [dns],
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task Rfc6120_3_2_1_the_client_connects_where_the_srv_records_say_trying_targets_in_priority_order()
    {
        await using var server = new ScriptedServer();
        // A dead port with the best priority, then the scripted server: the first refuses, the second is used.
        using var dead = new TcpListener(IPAddress.Loopback, 0);
        dead.Start();
        var deadPort = (ushort)((IPEndPoint)dead.LocalEndpoint).Port;
        dead.Stop();
        await using var dns = new TestDns().Service("_xmpp-client._tcp.example.test", (20, 0, (ushort)server.Port, "localhost."), (10, 0, deadPort, "127.0.0.1."));
        await using var client = new XmppClient(Options(dns.EndPoint));
        await client.ConnectAsync();
        Assert.Equal(new ConnectTarget("localhost", server.Port, false), client.ConnectedTarget);
        Assert.Equal("alice@example.test/scripted", client.BoundJid.ToString());
        // XEP-0368: the direct TLS service is asked for too.
        Assert.Contains("SRV _xmpps-client._tcp.example.test", dns.Asked);
    }

    [Fact]
    public void Rfc2782_targets_go_by_priority_and_within_one_by_weight_with_weight_0_first_only_when_the_draw_is_0()
    {
        static SrvTarget T(string host) => new(host, 5269, false);
        var random = new Random(2782);        // seeded: the same draws every run
        var first = new Dictionary<string, int>();
        for (var i = 0; i < 3000; i++)
        {
            var order = SrvResolver.Order([(10, 60, T("heavy")), (10, 0, T("zero")), (20, 100, T("last")), (10, 20, T("light")), (5, 7, T("best"))], random);
            Assert.Equal("best", order[0].Host);
            Assert.Equal("last", order[^1].Host);
            first[order[1].Host] = first.GetValueOrDefault(order[1].Host) + 1;
        }
        // Draws of 0..80 over the running sums 0 (zero), 60 (heavy), 80 (light): 1/81, 60/81 and 20/81.
        Assert.InRange(first.GetValueOrDefault("zero"), 15, 70);
        Assert.InRange(first["heavy"], 2100, 2350);
        Assert.InRange(first["light"], 630, 860);
    }

    [Fact]
    public void Rfc2782_a_target_of_dot_means_no_service_and_compressed_names_are_read()
    {
        // Header, question "_xmpp-client._tcp.example.test" SRV IN, one answer pointing back at it, target ".".
        var question = new List<byte>();
        foreach (var label in "_xmpp-client._tcp.example.test".Split('.'))
        {
            question.Add((byte)label.Length);
            question.AddRange(Encoding.ASCII.GetBytes(label));
        }
        question.AddRange([0, 0, 33, 0, 1]);
        byte[] header = [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        byte[] answer = [0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 7, 0, 0, 0, 0, 0x14, 0x66, 0];
        var records = SrvResolver.ParseAnswers([.. header, .. question, .. answer]);
        var record = Assert.Single(records);
        Assert.Equal(((ushort)0, (ushort)0, (ushort)5222, "."), record);
        // Truncated or looping input reads as no records, never an exception.
        Assert.Empty(SrvResolver.ParseAnswers([.. header, .. question, 0xC0]));
        byte[] loop = [.. header, 0xC0, 12];
        Assert.Empty(SrvResolver.ParseAnswers(loop));
    }
}
