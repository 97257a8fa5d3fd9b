using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Net.Http.Headers;
using Parley.Protocol;
using Parley.Server.Diagnostics;
using Parley.Server.Routing;
using Parley.Server.Storage;
using Parley.Server.Storage.Memory;

namespace Parley.Server.Tests.Diagnostics;

/// <summary>The exporter on its own: names, escaping, aggregation, and what recording a stanza costs.</summary>
public sealed class PrometheusExporterTests
{
    // A meter of the test's own and a collector of it alone, so that nothing else in the process shows up.
    private sealed class Listening : IDisposable
    {
        public Listening() => Collector = new MetricsCollector(i => ReferenceEquals(i.Meter, Meter));

        public Meter Meter { get; } = new("Parley.Tests." + Guid.NewGuid().ToString("N"));

        public MetricsCollector Collector { get; }

        public PrometheusTextParser Scrape() => ScrapeOf(Collector);

        public void Dispose()
        {
            Collector.Dispose();
            Meter.Dispose();
        }
    }

    [Theory]
    [InlineData("parley.routing.duration", "s", false, "parley_routing_duration_seconds")]
    [InlineData("process.cpu", "s", true, "process_cpu_seconds")]
    [InlineData("http.requests.total", null, true, "http_requests")]
    [InlineData("parley.sessions", "{session}", false, "parley_sessions")]
    [InlineData("queue.wait_seconds", "s", false, "queue_wait_seconds")]
    [InlineData("net.io", "By/s", false, "net_io_bytes_per_second")]
    [InlineData("memory", "MiBy", false, "memory_mebibytes")]
    [InlineData("ratio", "1", false, "ratio")]
    [InlineData("9lives..cat-count", "", false, "_9lives_cat_count")]
    [InlineData("héllo wörld", "ms", false, "h_llo_w_rld_milliseconds")]
    [InlineData("ns:colon", "{x}", false, "ns_colon")]
    public void Instrument_names_and_units_become_prometheus_names(string instrument, string? unit, bool counter, string expected)
    {
        Assert.Equal(expected, PrometheusText.MetricName(instrument, unit, counter));
    }

    [Theory]
    [InlineData("kind", "kind")]
    [InlineData("http.request.method", "http_request_method")]
    [InlineData("0day", "_0day")]
    [InlineData("cpu-mode", "cpu_mode")]
    public void Tag_names_become_label_names(string key, string expected)
    {
        Assert.Equal(expected, PrometheusText.LabelName(key));
    }

    [Fact]
    public void Label_values_escape_backslash_quote_and_line_feed_and_nothing_else()
    {
        var output = new StringBuilder();
        PrometheusText.AppendLabelValue(output, "a \"quoted\" back\\slash\nnext line\ttab é");
        Assert.Equal("a \\\"quoted\\\" back\\\\slash\\nnext line\ttab é", output.ToString());
    }

    [Fact]
    public void Help_escapes_the_quote_only_in_OpenMetrics()
    {
        var text = new StringBuilder();
        PrometheusText.AppendHelp(text, "say \"hi\"\\now\nthen", openMetrics: false);
        Assert.Equal("say \"hi\"\\\\now\\nthen", text.ToString());
        var open = new StringBuilder();
        PrometheusText.AppendHelp(open, "say \"hi\"\\now\nthen", openMetrics: true);
        Assert.Equal("say \\\"hi\\\"\\\\now\\nthen", open.ToString());
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    [InlineData(1234567.0, "1234567")]
    [InlineData(1e-7, "1E-07")]
    public void Values_are_shortest_round_trip_numbers(double value, string expected)
    {
        var output = new StringBuilder();
        PrometheusText.AppendValue(output, value);
        Assert.Equal(expected, output.ToString());
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.005, "0.005")]
    [InlineData(10.0, "10.0")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    public void Bucket_bounds_are_always_floats(double bound, string expected)
    {
        Assert.Equal(expected, PrometheusText.BoundText(bound));
    }

    [Theory]
    [InlineData("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true)]
    [InlineData("application/openmetrics-text", true)]
    [InlineData("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5", false)]
    [InlineData("application/openmetrics-text;q=0", false)]
    [InlineData("*/*", false)]
    [InlineData("", false)]
    public void OpenMetrics_is_chosen_only_when_ranked_at_least_as_high_as_text(string accept, bool expected)
    {
        Assert.Equal(expected, PrometheusText.PrefersOpenMetrics(MediaTypeHeaderValue.ParseList([accept])));
    }

    [Fact]
    public void Counters_sum_per_tag_set_whatever_the_order_of_the_tags_and_ignore_negative_adds()
    {
        using var t = new Listening();
        var counter = t.Meter.CreateCounter<long>("test.requests", "{request}", "Requests");
        counter.Add(2, new("method", "GET"), new("code", 200));
        counter.Add(3, new("code", 200), new("method", "GET"));
        counter.Add(1, new("method", "POST"), new("code", 500));
        counter.Add(-10, new("method", "GET"), new("code", 200));
        var doubles = t.Meter.CreateCounter<double>("test.energy", "J");
        doubles.Add(0.25);
        doubles.Add(0.5);

        var m = t.Scrape();
        Assert.Equal(5, m.Value("test_requests_total", ("code", "200"), ("method", "GET")));
        Assert.Equal(1, m.Value("test_requests_total", ("code", "500"), ("method", "POST")));
        Assert.Equal(2, m.Samples.Count(s => s.Name == "test_requests_total"));
        Assert.Equal(0.75, m.Value("test_energy_J_total"));
    }

    [Fact]
    public void Up_down_counters_and_gauges_are_gauges_that_go_both_ways()
    {
        using var t = new Listening();
        var queue = t.Meter.CreateUpDownCounter<int>("test.queue", "{item}");
        queue.Add(2);
        queue.Add(-5);
        var temperature = t.Meter.CreateGauge<double>("test.temperature", "Cel");
        temperature.Record(21.5);
        temperature.Record(19);
        var m = t.Scrape();
        Assert.Equal("gauge", m.FamilyTypes["test_queue"]);
        Assert.Equal(-3, m.Value("test_queue"));
        Assert.Equal(19, m.Value("test_temperature_celsius"));
    }

    [Fact]
    public void Histograms_are_cumulative_with_their_advised_bounds_sum_and_count()
    {
        using var t = new Listening();
        var latency = t.Meter.CreateHistogram("test.latency", "s", "Latency", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });
        foreach (var v in (double[])[0.05, 0.1, 0.5, 5]) latency.Record(v, new KeyValuePair<string, object?>("kind", "message"));

        var text = t.Collector.Collect(openMetrics: false);
        PrometheusTextParser.Parse(text, openMetrics: false);
        Assert.Contains("""
            # HELP test_latency_seconds Latency
            # TYPE test_latency_seconds histogram
            test_latency_seconds_bucket{kind="message",le="0.1"} 2
            test_latency_seconds_bucket{kind="message",le="1.0"} 3
            test_latency_seconds_bucket{kind="message",le="+Inf"} 4
            test_latency_seconds_sum{kind="message"} 5.65
            test_latency_seconds_count{kind="message"} 4

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void A_histogram_without_advice_in_seconds_gets_second_buckets()
    {
        using var t = new Listening();
        t.Meter.CreateHistogram<double>("test.wait", "s").Record(0.003);
        var m = t.Scrape();
        Assert.Equal(1, m.Value("test_wait_seconds_bucket", ("le", "0.005")));
        Assert.Equal(1, m.Value("test_wait_seconds_bucket", ("le", "10.0")));
    }

    [Fact]
    public void Observable_instruments_are_read_at_each_collection_and_a_series_that_stops_reporting_goes()
    {
        using var t = new Listening();
        var round = 0;
        t.Meter.CreateObservableGauge("test.rooms", () => ++round == 1
            ? [new Measurement<long>(3, new KeyValuePair<string, object?>("service", "conference")), new Measurement<long>(1, new KeyValuePair<string, object?>("service", "old"))]
            : (Measurement<long>[])[new Measurement<long>(4, new KeyValuePair<string, object?>("service", "conference"))]);
        t.Meter.CreateObservableCounter("test.ticks", () => 10L * round);

        var first = t.Scrape();
        Assert.Equal(3, first.Value("test_rooms", ("service", "conference")));
        Assert.Equal(1, first.Value("test_rooms", ("service", "old")));
        Assert.Equal(10, first.Value("test_ticks_total"));
        var second = t.Scrape();
        Assert.Equal(4, second.Value("test_rooms", ("service", "conference")));
        Assert.Null(second.Value("test_rooms", ("service", "old")));
        Assert.Equal(20, second.Value("test_ticks_total"));
    }

    [Fact]
    public void Awkward_tag_values_and_help_survive_a_strict_parser_in_both_formats()
    {
        using var t = new Listening();
        const string awkward = "a \"quoted\" back\\slash\nnext line";
        t.Meter.CreateCounter<long>("test.odd-name.2", null, "Help with \"quotes\", a back\\slash\nand a new line")
            .Add(1, new KeyValuePair<string, object?>("http.route", awkward), new KeyValuePair<string, object?>("ok", true));

        var text = t.Scrape();
        Assert.Equal(1, text.Value("test_odd_name_2_total", ("http_route", awkward), ("ok", "true")));
        var open = t.Collector.Collect(openMetrics: true);
        Assert.EndsWith("# EOF\n", open);
        Assert.Contains("# TYPE test_odd_name_2 counter\n", open);
        Assert.Equal(1, PrometheusTextParser.Parse(open, openMetrics: true).Value("test_odd_name_2_total", ("http_route", awkward), ("ok", "true")));
    }

    [Fact]
    public void Two_instruments_with_one_prometheus_name_leave_the_output_valid()
    {
        using var t = new Listening();
        t.Meter.CreateCounter<long>("test.same").Add(1);
        t.Meter.CreateCounter<long>("test_same").Add(5);
        var m = t.Scrape();
        Assert.Equal(1, m.Value("test_same_total"));
    }

    [Fact]
    public void Tag_sets_beyond_the_limit_are_dropped_rather_than_growing_without_bound()
    {
        using var t = new Listening();
        var counter = t.Meter.CreateCounter<long>("test.by_user");
        for (var i = 0; i < InstrumentAggregate.MaxSeries + 50; i++) counter.Add(1, new KeyValuePair<string, object?>("user", "u" + i));
        var m = t.Scrape();
        Assert.Equal(InstrumentAggregate.MaxSeries, m.Samples.Count(s => s.Name == "test_by_user_total"));
    }

    [Fact]
    public void Another_meter_is_not_exported()
    {
        using var t = new Listening();
        using var other = new Meter("Parley.Tests.Other");
        other.CreateCounter<long>("test.elsewhere").Add(1);
        Assert.DoesNotContain("test_elsewhere", t.Collector.Collect(openMetrics: false));
    }

    private static PrometheusTextParser ScrapeOf(MetricsCollector collector) =>
        PrometheusTextParser.Parse(collector.Collect(openMetrics: false), openMetrics: false);

    // The server's meter outside a server, with a meter factory of its own.
    private static (ServiceProvider Services, ParleyMetrics Metrics) ServerMeter(IStorage storage, TimeProvider time)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return (services, new ParleyMetrics(services.GetRequiredService<IMeterFactory>(), new SessionRegistry(), storage, time, NullLoggerFactory.Instance));
    }

    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; } = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    [Fact]
    public async Task Storage_figures_are_counted_again_only_once_thirty_seconds_have_passed()
    {
        var storage = new MemoryStorage();
        var clock = new ManualClock();
        var (services, metrics) = ServerMeter(storage, clock);
        using var _ = services;
        using var collector = new MetricsCollector(metrics, NullLoggerFactory.Instance);
        var offline = storage.Map("offline");
        var bob = Jid.Parse("bob@example.test");

        await metrics.RefreshStorageFiguresAsync();
        Assert.Equal(0, ScrapeOf(collector).Value("parley_offline_messages"));
        await offline.SetAsync(bob, "1", new Element("message", Ns.Client), CancellationToken.None);
        clock.Ticks += TimeSpan.FromSeconds(29).Ticks;
        await metrics.RefreshStorageFiguresAsync();
        Assert.Equal(0, ScrapeOf(collector).Value("parley_offline_messages"));
        clock.Ticks += TimeSpan.FromSeconds(1).Ticks;
        await metrics.RefreshStorageFiguresAsync();
        var m = ScrapeOf(collector);
        Assert.Equal(1, m.Value("parley_offline_messages"));
        Assert.Equal(0, m.Value("parley_archive_messages"));
    }

    [Fact]
    public void Recording_a_stanza_in_routed_and_out_allocates_nothing_and_counts_each()
    {
        var (services, metrics) = ServerMeter(new MemoryStorage(), TimeProvider.System);
        using var _ = services;
        using var collector = new MetricsCollector(metrics, NullLoggerFactory.Instance);
        var message = new Element("message", Ns.Client);
        var presence = new Element("presence", Ns.Client);
        void Stanza(Element element, StanzaKind kind)
        {
            metrics.StanzaIn(element);
            metrics.Routed(kind, metrics.RoutingStarted());
            metrics.StanzaOut(element);
        }
        // The first recording of a tag set makes its series; after that nothing is made.
        for (var i = 0; i < 100; i++) Stanza(presence, StanzaKind.Presence);
        Stanza(message, StanzaKind.Message);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++) Stanza(message, StanzaKind.Message);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        // Elements that are not client stanzas (stream management, server namespace) are not counted.
        metrics.StanzaOut(new Element("r", Ns.StreamManagement));
        metrics.StanzaOut(new Element("message", "jabber:server"));
        var m = ScrapeOf(collector);
        Assert.Equal(10_001, m.Value("parley_stanzas_in_total", ("kind", "message")));
        Assert.Equal(10_001, m.Value("parley_stanzas_out_total", ("kind", "message")));
        Assert.Equal(100, m.Value("parley_stanzas_out_total", ("kind", "presence")));
        Assert.Equal(0, m.Value("parley_stanzas_out_total", ("kind", "iq")));
        Assert.Equal(10_001, m.Value("parley_routing_duration_seconds_count", ("kind", "message")));
    }

    [Fact]
    public void Authentication_labels_name_known_mechanisms_only()
    {
        Assert.Equal("SCRAM-SHA-256-PLUS", ParleyMetrics.MechanismLabel("SCRAM-SHA-256-PLUS"));
        Assert.Equal("HT-SHA-256-NONE", ParleyMetrics.MechanismLabel("HT-SHA-256-NONE"));
        Assert.Equal("other", ParleyMetrics.MechanismLabel("X-MADE-UP-" + Guid.NewGuid()));
    }
}
