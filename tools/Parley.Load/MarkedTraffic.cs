using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;

namespace Parley.Load;

/// <summary>
/// The steady-state loop of the chat and presence scenarios, allocation-free per stanza. A chat message's body, or a
/// presence's status, is a marker: <c>~</c> + the send time (16 hex digits of <see cref="Stopwatch"/> ticks) + an
/// index (8 hex digits) + <c>~</c>. A receiver finds markers in the raw bytes instead of building an element tree per
/// stanza. For chat the index is the recipient's, so that a bounce returned to the sender never counts as a delivery;
/// for presence and groupchat (broadcasts) it is the sender's, so that the echo of a user's own presence or message
/// is not counted.
/// </summary>
internal sealed class MarkedTraffic
{
    private const int MarkerLength = 26;
    private static readonly StandardFormat Hex16 = new('X', 16);
    private static readonly StandardFormat Hex8 = new('X', 8);

    private readonly byte[][] _jids;
    private readonly bool _broadcast;
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;

    public MarkedTraffic(LoadOptions o, bool broadcast = false)
    {
        _broadcast = broadcast;
        _jids = new byte[o.Users][];
        for (var i = 0; i < o.Users; i++) _jids[i] = Encoding.UTF8.GetBytes(o.UserName(i) + "@" + o.Domain);
    }

    public LatencyHistogram Latency { get; } = new();
    public long SentInWindow;
    public long ExpectedInWindow;
    public long DeliveredInWindow;
    public long DeliveredTotal;
    public long Misdelivered;

    /// <summary>
    /// Messages stamped from <paramref name="start"/> until <paramref name="end"/> (Stopwatch ticks) are the measured
    /// ones; open the window before its start, so that senders and receivers judge every stamp alike.
    /// </summary>
    public void OpenWindow(long start, long end)
    {
        Volatile.Write(ref _windowEnd, end);
        Volatile.Write(ref _windowStart, start);
    }

    public bool InWindow(long sent) => sent >= Volatile.Read(ref _windowStart) && sent < Volatile.Read(ref _windowEnd);

    /// <summary>Writes one chat message to <paramref name="recipient"/> stamped with the current time.</summary>
    public long Write(PipeWriter writer, int recipient)
    {
        var span = writer.GetSpan(128 + _jids[recipient].Length);
        var n = Put(span, "<message type='chat' to='"u8);
        n += Put(span[n..], _jids[recipient]);
        n += Put(span[n..], "'><body>~"u8);
        var now = PutMarker(span, ref n, recipient);
        n += Put(span[n..], "~</body></message>"u8);
        writer.Advance(n);
        return now;
    }

    /// <summary>Writes one groupchat message of <paramref name="sender"/> to the room <paramref name="room"/> (a bare JID), stamped with the current time.</summary>
    public static long WriteGroupchat(PipeWriter writer, byte[] room, int sender)
    {
        var span = writer.GetSpan(128 + room.Length);
        var n = Put(span, "<message type='groupchat' to='"u8);
        n += Put(span[n..], room);
        n += Put(span[n..], "'><body>~"u8);
        var now = PutMarker(span, ref n, sender);
        n += Put(span[n..], "~</body></message>"u8);
        writer.Advance(n);
        return now;
    }

    /// <summary>Writes a presence change of <paramref name="sender"/>, stamped with the current time, in its status.</summary>
    public static long WritePresence(PipeWriter writer, int sender, bool away)
    {
        var span = writer.GetSpan(128);
        var n = Put(span, away ? "<presence><show>away</show><status>~"u8 : "<presence><status>~"u8);
        var now = PutMarker(span, ref n, sender);
        n += Put(span[n..], "~</status></presence>"u8);
        writer.Advance(n);
        return now;
    }

    /// <summary>Reads a session's input until it ends, counting the markers addressed to <paramref name="self"/>.</summary>
    public async Task ReceiveAsync(PipeReader reader, int self, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct);
                var consumed = Scan(read.Buffer, self);
                reader.AdvanceTo(consumed, read.Buffer.End);
                if (read.IsCompleted) return;
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        catch (InvalidOperationException) { }
    }

    /// <summary>Drains a session's input (keepalives, pings' echoes) without looking at it.</summary>
    public static async Task DrainAsync(PipeReader reader, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) return;
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        catch (InvalidOperationException) { }
    }

    private SequencePosition Scan(in ReadOnlySequence<byte> buffer, int self)
    {
        var reader = new SequenceReader<byte>(buffer);
        Span<byte> marker = stackalloc byte[MarkerLength];
        while (reader.TryAdvanceTo((byte)'~', advancePastDelimiter: false))
        {
            // An incomplete marker at the end waits for more input.
            if (reader.Remaining < MarkerLength) return reader.Position;
            reader.TryCopyTo(marker);
            if (marker[MarkerLength - 1] == (byte)'~'
                && Utf8Parser.TryParse(marker.Slice(1, 16), out long sent, out var a, 'X') && a == 16
                && Utf8Parser.TryParse(marker.Slice(17, 8), out uint to, out var b, 'X') && b == 8)
            {
                reader.Advance(MarkerLength);
                if (_broadcast)
                {
                    if (to == (uint)self) continue;
                }
                else if (to != (uint)self)
                {
                    Interlocked.Increment(ref Misdelivered);
                    continue;
                }
                Interlocked.Increment(ref DeliveredTotal);
                if (!InWindow(sent)) continue;
                Interlocked.Increment(ref DeliveredInWindow);
                Latency.Record((long)Stopwatch.GetElapsedTime(sent).TotalMicroseconds);
            }
            else
            {
                reader.Advance(1);
            }
        }
        return buffer.End;
    }

    // The marker's time and index (the '~' on each side are part of the fixed markup around it).
    private static long PutMarker(Span<byte> span, ref int n, int index)
    {
        var now = Stopwatch.GetTimestamp();
        Utf8Formatter.TryFormat(now, span[n..], out var w, Hex16);
        n += w;
        Utf8Formatter.TryFormat((uint)index, span[n..], out w, Hex8);
        n += w;
        return now;
    }

    private static int Put(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }
}
