using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Parley.Server.Diagnostics;

/// <summary>How an instrument's measurements add up, and which Prometheus type shows them.</summary>
internal enum MetricKind
{
    /// <summary>Counter: a sum that only grows (Prometheus counter).</summary>
    Counter,

    /// <summary>UpDownCounter: a sum that goes both ways (gauge).</summary>
    UpDownCounter,

    /// <summary>ObservableCounter: the callback reports the running total (counter).</summary>
    ObservedCounter,

    /// <summary>ObservableGauge, ObservableUpDownCounter, Gauge: the last value (gauge).</summary>
    LastValue,

    /// <summary>Histogram: cumulative buckets, sum and count.</summary>
    Histogram,
}

/// <summary>
/// The running aggregate of one instrument: one <see cref="MetricSeries"/> per distinct tag set. A series is found
/// by a scan of a copy-on-write array (instruments here have a handful of tag sets), so a recording after the
/// first for its tags allocates nothing and takes no lock.
/// </summary>
internal sealed class InstrumentAggregate(Instrument instrument, MetricKind kind, string name, double[] bounds)
{
    /// <summary>Beyond this many tag sets an instrument's new tag sets are dropped (a guard against unbounded labels).</summary>
    internal const int MaxSeries = 1000;

    private readonly Lock _gate = new();
    private MetricSeries[] _series = [];

    public Instrument Instrument { get; } = instrument;

    public MetricKind Kind { get; } = kind;

    /// <summary>The Prometheus base name (unit suffix included, "_total" not).</summary>
    public string Name { get; } = name;

    /// <summary>Histogram bucket upper bounds, ascending (empty for other kinds).</summary>
    public double[] Bounds { get; } = bounds;

    /// <summary>Observable instruments: the collection in which they last reported (series not seen since are stale).</summary>
    public long Generation { get; set; }

    public bool IsObservable => Instrument.IsObservable;

    public MetricSeries[] Series => Volatile.Read(ref _series);

    // Integer sums stay exact (and one Interlocked.Add); everything else goes through doubles.
    public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Kind is not (MetricKind.Counter or MetricKind.UpDownCounter))
        {
            Record((double)value, tags);
            return;
        }
        if (Kind == MetricKind.Counter && value < 0) return;
        if (Find(tags) is { } series) Interlocked.Add(ref series.LongSum, value);
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (double.IsNaN(value)) return;
        var series = Find(tags);
        if (series is null) return;
        switch (Kind)
        {
            case MetricKind.Counter when value < 0:
                return;                         // a counter never goes down; a negative add is a bug in the caller
            case MetricKind.Counter or MetricKind.UpDownCounter:
                MetricSeries.AddDouble(ref series.DoubleSumBits, value);
                break;
            case MetricKind.Histogram:
                series.Observe(value, Bounds);
                break;
            default:
                series.SetLast(value, Generation);
                break;
        }
    }

    private MetricSeries? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var series in Volatile.Read(ref _series))
            if (series.Matches(tags)) return series;
        return Add(tags);
    }

    private MetricSeries? Add(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_gate)
        {
            var all = _series;
            foreach (var series in all)
                if (series.Matches(tags)) return series;
            if (all.Length >= MaxSeries) return null;
            var created = new MetricSeries(tags, Kind == MetricKind.Histogram ? Bounds.Length + 1 : 0);
            var next = new MetricSeries[all.Length + 1];
            all.CopyTo(next, 0);
            next[^1] = created;
            Volatile.Write(ref _series, next);
            return created;
        }
    }
}

/// <summary>One tag set of one instrument: its labels, formatted once, and its running values.</summary>
internal sealed class MetricSeries
{
    private readonly KeyValuePair<string, object?>[] _tags;

    // Public fields so that Interlocked can work on them.
    public long LongSum;
    public long DoubleSumBits;
    public long LastBits;
    public long LastGeneration = -1;
    public readonly long[] Buckets;

    public MetricSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags, int buckets)
    {
        _tags = tags.ToArray();
        Buckets = buckets == 0 ? [] : new long[buckets];
        var sorted = (KeyValuePair<string, object?>[])_tags.Clone();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var labels = new StringBuilder();
        foreach (var (key, value) in sorted)
        {
            if (labels.Length > 0) labels.Append(',');
            labels.Append(PrometheusText.LabelName(key)).Append("=\"");
            PrometheusText.AppendLabelValue(labels, LabelValue(value));
            labels.Append('"');
        }
        Labels = labels.ToString();
    }

    /// <summary>The labels as Prometheus text, sorted by name, without braces (empty for no tags).</summary>
    public string Labels { get; }

    public double DoubleSum => BitConverter.Int64BitsToDouble(Volatile.Read(ref DoubleSumBits));

    public double Last => BitConverter.Int64BitsToDouble(Volatile.Read(ref LastBits));

    /// <summary>Whether the measurement's tags are this series' tags, in any order.</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != _tags.Length) return false;
        for (var i = 0; i < tags.Length; i++)
        {
            // The same call site passes its tags in the same order: try the same position first.
            if (SameTag(tags[i], _tags[i])) continue;
            var found = false;
            foreach (var own in _tags)
            {
                if (!SameTag(tags[i], own)) continue;
                found = true;
                break;
            }
            if (!found) return false;
        }
        return true;
    }

    private static bool SameTag(KeyValuePair<string, object?> a, KeyValuePair<string, object?> b) =>
        string.Equals(a.Key, b.Key, StringComparison.Ordinal) && (ReferenceEquals(a.Value, b.Value) || Equals(a.Value, b.Value));

    public void SetLast(double value, long generation)
    {
        Volatile.Write(ref LastBits, BitConverter.DoubleToInt64Bits(value));
        Volatile.Write(ref LastGeneration, generation);
    }

    public void Observe(double value, double[] bounds)
    {
        // Prometheus buckets are "less than or equal": the first bound at or above the value.
        var index = Array.BinarySearch(bounds, value);
        if (index < 0) index = ~index;
        Interlocked.Increment(ref Buckets[index]);
        AddDouble(ref DoubleSumBits, value);
    }

    public static void AddDouble(ref long bits, double value)
    {
        var current = Volatile.Read(ref bits);
        while (true)
        {
            var next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(current) + value);
            var seen = Interlocked.CompareExchange(ref bits, next, current);
            if (seen == current) return;
            current = seen;
        }
    }

    private static string LabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
