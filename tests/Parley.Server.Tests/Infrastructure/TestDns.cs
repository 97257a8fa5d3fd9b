using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// A scripted name server on 127.0.0.1 (UDP, RFC 1035) for tests: answers SRV and A questions from its tables and
/// anything else with no records; a name it has no record of at all is NXDOMAIN. It records every question asked, in
/// order, as "TYPE name" ("SRV _xmpp-server._tcp.example.test", "A xmpp.example.test"). It answers at most 500
/// questions and stops after two minutes or when disposed: never a process that outlives its test.
/// </summary>
public sealed class TestDns : IAsyncDisposable
{
    private const ushort A = 1;
    private const ushort Srv = 33;
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(2));
    private readonly ConcurrentDictionary<string, (ushort Priority, ushort Weight, ushort Port, string Target)[]> _srv = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, IPAddress[]> _a = new(StringComparer.OrdinalIgnoreCase);
    private readonly Task _run;

    public TestDns() => _run = Task.Run(RunAsync);

    /// <summary>Every question asked so far, in order ("SRV name", "A name", or the numeric type).</summary>
    public ConcurrentQueue<string> Asked { get; } = new();

    public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    /// <summary>SRV records for a name such as "_xmpp-server._tcp.example.test" (a target of "." means no service).</summary>
    public TestDns Service(string name, params (ushort Priority, ushort Weight, ushort Port, string Target)[] records)
    {
        _srv[name.TrimEnd('.')] = records;
        return this;
    }

    /// <summary>IPv4 address records for a host name.</summary>
    public TestDns Address(string name, params IPAddress[] addresses)
    {
        _a[name.TrimEnd('.')] = addresses;
        return this;
    }

    private async Task RunAsync()
    {
        try
        {
            for (var i = 0; i < 500; i++)
            {
                var query = await _udp.ReceiveAsync(_stop.Token);
                if (Question(query.Buffer) is not var (name, type, end)) continue;
                Asked.Enqueue((type switch { A => "A", Srv => "SRV", _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture) }) + " " + name);
                await _udp.SendAsync(Answer(query.Buffer, end, name, type), query.RemoteEndPoint, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static (string Name, ushort Type, int End)? Question(byte[] q)
    {
        var labels = new List<string>();
        var p = 12;
        while (p < q.Length && q[p] != 0)
        {
            if (p + 1 + q[p] > q.Length) return null;
            labels.Add(Encoding.ASCII.GetString(q, p + 1, q[p]));
            p += 1 + q[p];
        }
        if (p + 5 > q.Length) return null;
        return (string.Join('.', labels), (ushort)((q[p + 1] << 8) | q[p + 2]), p + 5);
    }

    private byte[] Answer(byte[] query, int questionEnd, string name, ushort type)
    {
        var records = new List<(ushort Type, byte[] Data)>();
        if (type == Srv && _srv.TryGetValue(name, out var services))
        {
            foreach (var (priority, weight, port, target) in services)
            {
                var rdata = new List<byte>();
                foreach (var v in new[] { priority, weight, port }) rdata.AddRange([(byte)(v >> 8), (byte)v]);
                foreach (var label in target.Split('.', StringSplitOptions.RemoveEmptyEntries))
                {
                    rdata.Add((byte)label.Length);
                    rdata.AddRange(Encoding.ASCII.GetBytes(label));
                }
                rdata.Add(0);
                records.Add((Srv, [.. rdata]));
            }
        }
        if (type == A && _a.TryGetValue(name, out var addresses))
            foreach (var address in addresses) records.Add((A, address.GetAddressBytes()));
        var known = _srv.ContainsKey(name) || _a.ContainsKey(name);
        var m = new List<byte>(query[..questionEnd]);
        m[2] = 0x81;                                   // a response to a standard query, recursion desired
        m[3] = (byte)(known ? 0x80 : 0x83);            // recursion available; NXDOMAIN for a name it has nothing for
        m[6] = (byte)(records.Count >> 8);
        m[7] = (byte)records.Count;
        m[8] = m[9] = m[10] = m[11] = 0;
        foreach (var (recordType, data) in records)
        {
            // Owner name by compression pointer to the question (offset 12), class IN, TTL 60.
            m.AddRange([0xC0, 12, (byte)(recordType >> 8), (byte)recordType, 0, 1, 0, 0, 0, 60, (byte)(data.Length >> 8), (byte)data.Length]);
            m.AddRange(data);
        }
        return [.. m];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        await _run;
        _stop.Dispose();
    }
}
