using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Protocol;
using Parley.Server.Diagnostics;
using Parley.Server.Routing;
using Parley.Server.Storage.Memory;

namespace Parley.Benchmarks;

/// <summary>
/// What metrics add to one stanza: counted in, timed through the router (two timestamps and a histogram record),
/// counted out. With the Prometheus collector listening, and with nothing listening (Metrics:Enabled false).
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private readonly Element _message = new("message", Ns.Client);
    private ServiceProvider _services = null!;
    private ParleyMetrics _metrics = null!;
    private MetricsCollector? _collector;

    [Params(true, false)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _metrics = new ParleyMetrics(_services.GetRequiredService<IMeterFactory>(), new SessionRegistry(), new MemoryStorage(), TimeProvider.System, NullLoggerFactory.Instance);
        if (Listening) _collector = new MetricsCollector(_metrics, NullLoggerFactory.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _collector?.Dispose();
        _services.Dispose();
    }

    [Benchmark]
    public void One_stanza()
    {
        _metrics.StanzaIn(_message);
        _metrics.Routed(StanzaKind.Message, _metrics.RoutingStarted());
        _metrics.StanzaOut(_message);
    }

    // The part of One_stanza that is the clock, for reading the figures.
    [Benchmark]
    public TimeSpan Two_timestamps() => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp());
}
