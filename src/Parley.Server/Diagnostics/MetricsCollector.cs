using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Diagnostics;

/// <summary>
/// Listens with a <see cref="MeterListener"/> to this server's "Parley" meter and the runtime's "System.Runtime"
/// meter and keeps a running aggregate of every instrument (sums for counters, last values for gauges, buckets for
/// histograms), written out as Prometheus text on demand. Observable instruments are read at that moment.
/// Other servers' "Parley" meters in the same process (tests) are not this one's: the meter is matched by instance.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    /// <summary>The meter .NET 9 and later publish GC, JIT, thread pool and process figures on.</summary>
    internal const string RuntimeMeterName = "System.Runtime";

    // Seconds for instruments measured in seconds without advice (the Prometheus client libraries' defaults);
    // the OpenTelemetry defaults (milliseconds, or no unit) for the rest.
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly Func<Instrument, bool> _accept;
    private readonly ILogger? _log;
    private readonly MeterListener _listener;
    private readonly Lock _instrumentsGate = new();
    private readonly List<InstrumentAggregate> _instruments = [];
    private readonly Lock _collectGate = new();
    private long _generation;

    /// <summary>Listens to the server's meter and the runtime's.</summary>
    public MetricsCollector(ParleyMetrics metrics, ILoggerFactory loggers)
        : this(i => ReferenceEquals(i.Meter, metrics.Meter) || (i.Meter.Name == RuntimeMeterName && i.Meter.Scope is null), loggers.CreateLogger("Parley.Metrics"))
    {
        metrics.RecordZeros();
    }

    /// <summary>Listens to the instruments <paramref name="accept"/> chooses (tests give their own meter).</summary>
    internal MetricsCollector(Func<Instrument, bool> accept, ILogger? log = null)
    {
        _accept = accept;
        _log = log;
        _listener = new MeterListener
        {
            InstrumentPublished = OnPublished,
            MeasurementsCompleted = OnCompleted,
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((InstrumentAggregate)state!).Record((double)value, tags));
        _listener.Start();
    }

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        if (!_accept(instrument) || KindOf(instrument) is not { } kind) return;
        // COMPAT: .NET 9 and 10 publish these two snapshots as ObservableCounters though they go down
        // (dotnet/runtime#112077, #126167); a Prometheus counter would make rate() of them nonsense. Can go once the
        // runtime publishes them as ObservableUpDownCounters (dotnet/runtime#126482).
        if (kind == MetricKind.ObservedCounter && instrument.Meter.Name == RuntimeMeterName
            && instrument.Name is "dotnet.thread_pool.thread.count" or "dotnet.thread_pool.queue.length")
            kind = MetricKind.LastValue;
        var name = PrometheusText.MetricName(instrument.Name, instrument.Unit, kind is MetricKind.Counter or MetricKind.ObservedCounter);
        var aggregate = new InstrumentAggregate(instrument, kind, name, kind == MetricKind.Histogram ? BoundsOf(instrument) : []);
        lock (_instrumentsGate)
        {
            // Two instruments with one Prometheus name would make an invalid exposition: the first one keeps it.
            foreach (var existing in _instruments)
            {
                if (existing.Name != name) continue;
                if (_log is not null) MetricsLog.NameTaken(_log, instrument.Meter.Name, instrument.Name, name);
                return;
            }
            _instruments.Add(aggregate);
        }
        listener.EnableMeasurementEvents(instrument, aggregate);
    }

    private void OnCompleted(Instrument instrument, object? state)
    {
        lock (_instrumentsGate)
            if (state is InstrumentAggregate aggregate) _instruments.Remove(aggregate);
    }

    private static MetricKind? KindOf(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType) return null;
        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>)) return MetricKind.Counter;
        if (definition == typeof(UpDownCounter<>)) return MetricKind.UpDownCounter;
        if (definition == typeof(Histogram<>)) return MetricKind.Histogram;
        if (definition == typeof(ObservableCounter<>)) return MetricKind.ObservedCounter;
        if (definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>)) return MetricKind.LastValue;
        return null;
    }

    private static double[] BoundsOf(Instrument instrument)
    {
        double[]? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries is { } b ? [.. b] : null,
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            _ => null,
        };
        if (advised is { Length: > 0 })
        {
            Array.Sort(advised);
            return advised;
        }
        return instrument.Unit == "s" ? SecondsBuckets : DefaultBuckets;
    }

    private static double[] ToDoubles<T>(IReadOnlyList<T> values) where T : struct, IConvertible
    {
        var result = new double[values.Count];
        for (var i = 0; i < result.Length; i++) result[i] = values[i].ToDouble(System.Globalization.CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary>
    /// Reads the observable instruments and writes every family, sorted by name, in the 0.0.4 text format or
    /// OpenMetrics (which ends with "# EOF").
    /// </summary>
    public string Collect(bool openMetrics)
    {
        var output = new StringBuilder(16 * 1024);
        lock (_collectGate)
        {
            InstrumentAggregate[] instruments;
            lock (_instrumentsGate) instruments = [.. _instruments];
            var generation = ++_generation;
            foreach (var instrument in instruments)
                if (instrument.IsObservable) instrument.Generation = generation;
            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException e)
            {
                // One failing callback costs its own figures, not the scrape.
                if (_log is not null) MetricsLog.ObservableFailed(_log, e);
            }
            Array.Sort(instruments, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var instrument in instruments) PrometheusText.WriteFamily(output, instrument, openMetrics, generation);
        }
        if (openMetrics) output.Append("# EOF\n");
        return output.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
