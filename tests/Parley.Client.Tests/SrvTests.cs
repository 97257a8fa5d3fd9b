using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>RFC 6120 §3.2.1 and XEP-0368: finding the server through DNS SRV, against a scripted name server on loopback.</summary>
public sealed class SrvTests
{
    // Answers SRV questions from a table (name → (priority, weight, port, target)); anything else is NXDOMAIN.
    private sealed class FakeDns : IAsyncDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));
        private readonly Task _run;

        public FakeDns(Dictionary<string, (ushort, ushort, ushort, string)[]> records)
        {
            _run = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; i < 50; i++)
                    {
                        var query = await _udp.ReceiveAsync(_stop.Token);
                        var (name, end) = Question(query.Buffer);
                        Asked.Enqueue(name);
                        await _udp.SendAsync(Answer(query.Buffer, end, records.GetValueOrDefault(name)), query.RemoteEndPoint, _stop.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        public ConcurrentQueue<string> Asked { get; } = new();

        public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

        private static (string, int) Question(byte[] q)
        {
            var labels = new List<string>();
            var p = 12;
            while (q[p] != 0)
            {
                labels.Add(Encoding.ASCII.GetString(q, p + 1, q[p]));
                p += 1 + q[p];
            }
            return (string.Join('.', labels), p + 5);
        }

        private static byte[] Answer(byte[] query, int questionEnd, (ushort Priority, ushort Weight, ushort Port, string Target)[]? answers)
        {
            var m = new List<byte>(query[..questionEnd]);
            m[2] = 0x81;
            m[3] = (byte)(answers is null ? 0x83 : 0x80);   // response; NXDOMAIN when unknown
            m[6] = 0;
            m[7] = (byte)(answers?.Length ?? 0);
            foreach (var (priority, weight, port, target) in answers ?? [])
            {
                var rdata = new List<byte>();
                foreach (var v in new[] { priority, weight, port }) rdata.AddRange([(byte)(v >> 8), (byte)v]);
                foreach (var label in target.Split('.', StringSplitOptions.RemoveEmptyEntries))
                {
                    rdata.Add((byte)label.Length);
                    rdata.AddRange(Encoding.ASCII.GetBytes(label));
                }
                rdata.Add(0);
                // Owner name by compression pointer to the question (offset 12), type SRV, class IN, TTL 60.
                m.AddRange([0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60, (byte)(rdata.Count >> 8), (byte)rdata.Count]);
                m.AddRange(rdata);
            }
            return [.. m];
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            _udp.Dispose();
            _stop.Dispose();
        }
    }

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
        await using var dns = new FakeDns(new()
        {
            ["_xmpp-client._tcp.example.test"] = [(20, 0, (ushort)server.Port, "localhost."), (10, 0, deadPort, "127.0.0.1.")],
        });
        await using var client = new XmppClient(Options(dns.EndPoint));
        await client.ConnectAsync();
        Assert.Equal(new ConnectTarget("localhost", server.Port, false), client.ConnectedTarget);
        Assert.Equal("alice@example.test/scripted", client.BoundJid.ToString());
        // XEP-0368: the direct TLS service is asked for too.
        Assert.Contains("_xmpps-client._tcp.example.test", dns.Asked);
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
