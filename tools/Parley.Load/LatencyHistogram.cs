using System.Numerics;

namespace Parley.Load;

/// <summary>
/// Latencies in microseconds, recorded without allocating or locking: exact below 1,024 µs, then 1,024 buckets per
/// power of two (under 0.1 % relative error), like HdrHistogram with three significant digits.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 10;
    private const int Sub = 1 << SubBits;
    private readonly long[] _counts = new long[Sub * 40];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long micros)
    {
        var index = Index(Math.Max(0, micros));
        if (index >= _counts.Length) index = _counts.Length - 1;
        Interlocked.Increment(ref _counts[index]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The value below which <paramref name="fraction"/> of the recorded latencies lie, in microseconds; 0 when empty.</summary>
    public long Percentile(double fraction)
    {
        var total = Count;
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank) return Upper(i);
        }
        return Upper(_counts.Length - 1);
    }

    private static int Index(long v)
    {
        if (v < Sub) return (int)v;
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)v) - SubBits;
        return Sub + shift * Sub + (int)(v >> shift) - Sub;
    }

    // The highest value a bucket holds.
    private static long Upper(int index)
    {
        if (index < Sub) return index;
        var shift = (index - Sub) / Sub;
        var sub = (index - Sub) % Sub + Sub;
        return ((long)(sub + 1) << shift) - 1;
    }
}
