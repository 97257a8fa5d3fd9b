using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;

namespace Parley.Load;

/// <summary>
/// The steady-state loop of the chat scenario, allocation-free per message. A message's body is a marker,
/// <c>~</c> + the send time (16 hex digits of <see cref="Stopwatch"/> ticks) + the recipient's index (8 hex digits)
/// + <c>~</c>; a receiver finds markers in the raw bytes instead of building an element tree per stanza, and checks
/// the index so that a bounce returned to the sender is never counted as a delivery.
/// </summary>
internal sealed class ChatTraffic
{
    private const int MarkerLength = 26;
    private static readonly StandardFormat Hex16 = new('X', 16);
    private static readonly StandardFormat Hex8 = new('X', 8);

    private readonly byte[][] _jids;
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;

    public ChatTraffic(LoadOptions o)
    {
        _jids = new byte[o.Users][];
        for (var i = 0; i < o.Users; i++) _jids[i] = Encoding.UTF8.GetBytes(o.UserName(i) + "@" + o.Domain);
    }

    public LatencyHistogram Latency { get; } = new();
    public long SentInWindow;
    public long DeliveredInWindow;
    public long DeliveredTotal;
    public long Misdelivered;

    /// <summary>Messages sent from now until <paramref name="end"/> (Stopwatch ticks) are the measured ones.</summary>
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
        var now = Stopwatch.GetTimestamp();
        Utf8Formatter.TryFormat(now, span[n..], out var w, Hex16);
        n += w;
        Utf8Formatter.TryFormat((uint)recipient, span[n..], out w, Hex8);
        n += w;
        n += Put(span[n..], "~</body></message>"u8);
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
                if (to != (uint)self)
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

    private static int Put(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }
}
