using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Protocol;

/// <summary>One SRV target: a host, a port, and whether TLS starts at once (XEP-0368).</summary>
internal readonly record struct SrvTarget(string Host, int Port, bool DirectTls);

/// <summary>
/// RFC 6120 §3.2.1 and XEP-0368: connection targets for a domain from DNS SRV records (the direct TLS service, such as
/// <c>_xmpps-client._tcp</c> or <c>_xmpps-server._tcp</c>, and the STARTTLS one, such as <c>_xmpp-client._tcp</c> or
/// <c>_xmpp-server._tcp</c>, merged and ordered by priority and weight per RFC 2782), asked over UDP of the configured
/// name servers (default: /etc/resolv.conf). A target of "." means the service is not offered there. It also asks
/// those servers for a host's A and AAAA records, for callers that must not fall back on the system resolver's view.
/// The one piece of network code in this assembly, shared by the client library and the server's federation.
/// </summary>
internal static class SrvResolver
{
    private const ushort SrvType = 33;
    private const ushort AType = 1;
    private const ushort AaaaType = 28;

    /// <summary>The client services of RFC 6120 §3.2.1 and XEP-0368.</summary>
    public static readonly (string DirectTls, string StartTls) ClientServices = ("_xmpps-client._tcp.", "_xmpp-client._tcp.");

    /// <summary>The server-to-server services of RFC 6120 §3.2.1 and XEP-0368.</summary>
    public static readonly (string DirectTls, string StartTls) ServerServices = ("_xmpps-server._tcp.", "_xmpp-server._tcp.");

    public static async Task<List<SrvTarget>> ResolveAsync(string domain, (string DirectTls, string StartTls) services, IReadOnlyList<IPEndPoint> servers, CancellationToken ct)
    {
        var records = new List<(ushort Priority, ushort Weight, SrvTarget Target)>();
        foreach (var (service, direct) in new[] { (services.DirectTls, true), (services.StartTls, false) })
        {
            var reply = await QueryAsync(service + domain, SrvType, servers, ct).ConfigureAwait(false);
            foreach (var (priority, weight, port, target) in reply is null ? [] : ParseAnswers(reply))
                if (target is not ("" or ".")) records.Add((priority, weight, new SrvTarget(target.TrimEnd('.'), port, direct)));
        }
        return Order(records, Random.Shared);
    }

    /// <summary>The IPv4 and IPv6 addresses of a host name (A and AAAA records) from the given name servers.</summary>
    public static async Task<List<IPAddress>> AddressesAsync(string host, IReadOnlyList<IPEndPoint> servers, CancellationToken ct)
    {
        var addresses = new List<IPAddress>();
        foreach (var type in new[] { AType, AaaaType })
        {
            if (await QueryAsync(host, type, servers, ct).ConfigureAwait(false) is not { } reply) continue;
            foreach (var (answerType, data) in Records(reply))
                if (answerType == type && data.Length == (type == AType ? 4 : 16)) addresses.Add(new IPAddress(data));
        }
        return addresses;
    }

    // RFC 2782: ascending priority; within a priority, a weighted random order, records of weight 0 placed first so
    // that they are picked only when the random number is 0.
    internal static List<SrvTarget> Order(List<(ushort Priority, ushort Weight, SrvTarget Target)> records, Random random)
    {
        var ordered = new List<SrvTarget>(records.Count);
        records.Sort((a, b) => a.Priority.CompareTo(b.Priority));
        var i = 0;
        while (i < records.Count)
        {
            var j = i;
            while (j < records.Count && records[j].Priority == records[i].Priority) j++;
            var group = records.GetRange(i, j - i);
            var zeros = group.FindAll(r => r.Weight == 0);
            group.RemoveAll(r => r.Weight == 0);
            group.InsertRange(0, zeros);
            while (group.Count > 0)
            {
                var total = 0;
                foreach (var r in group) total += r.Weight;
                var pick = total == 0 ? 0 : random.Next(total + 1);
                var k = 0;
                for (var running = 0; k < group.Count - 1; k++)
                {
                    running += group[k].Weight;
                    if (running >= pick) break;
                }
                ordered.Add(group[k].Target);
                group.RemoveAt(k);
            }
            i = j;
        }
        return ordered;
    }

    public static IReadOnlyList<IPEndPoint> SystemServers()
    {
        var servers = new List<IPEndPoint>();
        try
        {
            foreach (var line in File.ReadLines("/etc/resolv.conf"))
            {
                var parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1], out var address))
                    servers.Add(new IPEndPoint(address, 53));
            }
        }
        catch (IOException)
        {
            // No resolver configuration: no SRV lookups.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return servers;
    }

    // The first reply of the name servers to one question (UDP, two tries each); null when none answered.
    private static async Task<byte[]?> QueryAsync(string name, ushort type, IReadOnlyList<IPEndPoint> servers, CancellationToken ct)
    {
        var id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        var query = BuildQuery(id, name, type);
        foreach (var server in servers)
        {
            using var udp = new UdpClient(server.AddressFamily);
            for (var attempt = 0; attempt < 2; attempt++)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                try
                {
                    await udp.SendAsync(query, server, timeout.Token).ConfigureAwait(false);
                    while (true)
                    {
                        var reply = await udp.ReceiveAsync(timeout.Token).ConfigureAwait(false);
                        if (!reply.RemoteEndPoint.Equals(server) || reply.Buffer.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(reply.Buffer) != id) continue;
                        return reply.Buffer;
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Try again, then the next server.
                }
                catch (SocketException)
                {
                    break;
                }
            }
        }
        return null;
    }

    private static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        var buffer = new List<byte>(64);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], 0x0100);     // standard query, recursion desired
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);          // one question
        buffer.AddRange(header.ToArray());
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63) throw new ArgumentException("Not a DNS name: " + name, nameof(name));
            buffer.Add((byte)bytes.Length);
            buffer.AddRange(bytes);
        }
        buffer.Add(0);
        buffer.AddRange([(byte)(type >> 8), (byte)type, 0, 1]);         // the type, class IN
        return [.. buffer];
    }

    // RFC 1035 §4.1: the SRV answers of a reply.
    internal static List<(ushort Priority, ushort Weight, ushort Port, string Target)> ParseAnswers(byte[] message)
    {
        var list = new List<(ushort, ushort, ushort, string)>();
        foreach (var (type, offset, length) in RecordSpans(message))
        {
            if (type != SrvType || length < 7) continue;
            var p = offset + 6;
            if (ReadName(message, ref p) is { } target)
                list.Add((BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(offset)), BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(offset + 2)),
                    BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(offset + 4)), target));
        }
        return list;
    }

    private static IEnumerable<(ushort Type, byte[] Data)> Records(byte[] message)
    {
        foreach (var (type, offset, length) in RecordSpans(message))
            yield return (type, message.AsSpan(offset, length).ToArray());
    }

    // RFC 1035 §4.1: header, questions (skipped), answers (type and where its data is). An error rcode (such as
    // NXDOMAIN) or a malformed reply reads as no answers, or as those before the damage.
    private static List<(ushort Type, int Offset, int Length)> RecordSpans(byte[] message)
    {
        var list = new List<(ushort, int, int)>();
        if (message.Length < 12 || (message[3] & 0x0F) != 0) return list;
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(4));
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(6));
        var pos = 12;
        for (var q = 0; q < questions; q++)
        {
            if (ReadName(message, ref pos) is null || pos + 4 > message.Length) return list;
            pos += 4;
        }
        for (var a = 0; a < answers; a++)
        {
            if (ReadName(message, ref pos) is null || pos + 10 > message.Length) return list;
            var type = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(pos));
            var length = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(pos + 8));
            pos += 10;
            if (pos + length > message.Length) return list;
            list.Add((type, pos, length));
            pos += length;
        }
        return list;
    }

    // A domain name with RFC 1035 §4.1.4 compression; null when malformed (bounded: no pointer loops).
    private static string? ReadName(byte[] message, ref int pos)
    {
        var labels = new StringBuilder();
        var p = pos;
        var jumped = false;
        for (var hops = 0; hops < 64; hops++)
        {
            if (p >= message.Length) return null;
            var length = message[p];
            if (length == 0)
            {
                if (!jumped) pos = p + 1;
                return labels.Length == 0 ? "." : labels.ToString();
            }
            if ((length & 0xC0) == 0xC0)
            {
                if (p + 1 >= message.Length) return null;
                if (!jumped) pos = p + 2;
                jumped = true;
                p = ((length & 0x3F) << 8) | message[p + 1];
                continue;
            }
            if (p + 1 + length > message.Length) return null;
            if (labels.Length > 0) labels.Append('.');
            labels.Append(Encoding.ASCII.GetString(message, p + 1, length));
            p += 1 + length;
        }
        return null;
    }
}
