using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Modules.Sasl;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Diagnostics;

/// <summary>
/// The server's instruments on the "Parley" meter (System.Diagnostics.Metrics), made through the host's
/// <see cref="IMeterFactory"/> so that each server in a process has its own. On the stanza path a recording is one
/// counter or histogram call with a cached tag: no allocation, and nearly nothing when no listener is attached.
/// Figures that live in storage are counted at most every <see cref="StorageFiguresMaxAge"/> and cached.
/// </summary>
public sealed class ParleyMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Parley";

    /// <summary>How old the storage counts (offline queue, archive) may be before they are counted again.</summary>
    internal static readonly TimeSpan StorageFiguresMaxAge = TimeSpan.FromSeconds(30);

    // Routing in memory takes microseconds; a hook that writes to storage (offline, the archive) milliseconds.
    internal static readonly double[] RoutingBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    // Indexed by StanzaKind and ConnectionKind: the tag is built once, so recording it boxes nothing.
    private static readonly KeyValuePair<string, object?>[] StanzaKinds =
        [new("kind", "message"), new("kind", "presence"), new("kind", "iq")];

    private static readonly KeyValuePair<string, object?>[] ConnectionKinds =
        [new("kind", "c2s-tcp"), new("kind", "c2s-tls"), new("kind", "websocket"), new("kind", "bosh"), new("kind", "component")];

    // The mechanisms a label may name; anything else is "other", so a client cannot make up new series.
    private static readonly string[] Mechanisms =
    [
        SaslMechanisms.ScramName(ScramHash.Sha1, false), SaslMechanisms.ScramName(ScramHash.Sha1, true),
        SaslMechanisms.ScramName(ScramHash.Sha256, false), SaslMechanisms.ScramName(ScramHash.Sha256, true),
        SaslMechanisms.ScramName(ScramHash.Sha512, false), SaslMechanisms.ScramName(ScramHash.Sha512, true),
        SaslMechanisms.Plain, .. FastTokens.Mechanisms, "none",
    ];

    private static readonly KeyValuePair<string, object?>[] Generations = CreateGenerations();

    private readonly Counter<long> _stanzasIn;
    private readonly Counter<long> _stanzasOut;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _authSuccesses;
    private readonly Counter<long> _authFailures;
    private readonly Histogram<double> _routing;
    private readonly IMapStore _offline;
    private readonly IArchiveStore _archive;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly long _startedAt;
    private readonly double _processStartTime;
    private readonly Lock _gate = new();
    private Task? _counting;
    private long _countedAt;
    private bool _counted;
    private long _offlineCount = -1;
    private long _archiveCount = -1;

    /// <summary>Creates the meter and its instruments.</summary>
    public ParleyMetrics(IMeterFactory meters, SessionRegistry sessions, IStorage storage, TimeProvider time, ILoggerFactory loggers)
    {
        _offline = storage.Map(Modules.Offline.OfflineModule.StoreName);
        _archive = storage.Archive;
        _time = time;
        _log = loggers.CreateLogger("Parley.Metrics");
        _startedAt = time.GetTimestamp();
        using (var process = Process.GetCurrentProcess())
            _processStartTime = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero).ToUnixTimeMilliseconds() / 1000.0;

        Meter = meters.Create(MeterName);
        _connections = Meter.CreateUpDownCounter<long>("parley.connections", "{connection}", "Open client connections by transport");
        _stanzasIn = Meter.CreateCounter<long>("parley.stanzas.in", "{stanza}", "Stanzas received from bound client sessions");
        _stanzasOut = Meter.CreateCounter<long>("parley.stanzas.out", "{stanza}", "Stanzas written to client connections");
        _authSuccesses = Meter.CreateCounter<long>("parley.auth.successes", "{attempt}", "Successful SASL authentications by mechanism");
        _authFailures = Meter.CreateCounter<long>("parley.auth.failures", "{attempt}", "Failed SASL authentications by mechanism");
        _routing = Meter.CreateHistogram("parley.routing.duration", "s",
            "Time from a stanza's arrival at the router to its delivery to a session's queue, storage or a handler",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RoutingBuckets });
        Meter.CreateObservableGauge("parley.sessions", () => sessions.Count, "{session}", "Bound client sessions (resources)");
        Meter.CreateObservableGauge("parley.offline.messages", () => StorageFigure(ref _offlineCount), "{message}",
            "Messages waiting in offline storage (counted at most every 30 seconds)");
        Meter.CreateObservableGauge("parley.archive.messages", () => StorageFigure(ref _archiveCount), "{message}",
            "Messages in the archive, accounts and rooms together (counted at most every 30 seconds)");
        Meter.CreateObservableGauge("parley.uptime", () => _time.GetElapsedTime(_startedAt).TotalSeconds, "s", "Seconds since the server started");

        // The figures Prometheus' own client libraries publish under these names, so existing dashboards read them.
        Meter.CreateObservableGauge("process.resident_memory", () => Environment.WorkingSet, "By", "Resident memory of the process");
        Meter.CreateObservableCounter("process.cpu", () => Environment.CpuUsage.TotalTime.TotalSeconds, "s", "CPU time of the process, user and system");
        Meter.CreateObservableGauge("process.start_time", () => _processStartTime, "s", "When the process started, in seconds since the Unix epoch");
        Meter.CreateObservableGauge("dotnet.total_memory", () => GC.GetTotalMemory(forceFullCollection: false), "By", "Bytes the GC heap holds (GC.GetTotalMemory)");
        Meter.CreateObservableCounter("dotnet.collection_count", ObserveCollections, "{collection}",
            "GC collections by generation (a generation's count includes the collections of older generations)");
    }

    /// <summary>The meter (for listeners).</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Starts every series whose tags are known at zero, so that a dashboard sees 0 rather than nothing. Called by a
    /// listener once it is listening.
    /// </summary>
    internal void RecordZeros()
    {
        foreach (var kind in ConnectionKinds) _connections.Add(0, kind);
        foreach (var kind in StanzaKinds)
        {
            _stanzasIn.Add(0, kind);
            _stanzasOut.Add(0, kind);
        }
    }

    internal void ConnectionOpened(ConnectionKind kind) => _connections.Add(1, ConnectionKinds[(int)kind]);

    internal void ConnectionClosed(ConnectionKind kind) => _connections.Add(-1, ConnectionKinds[(int)kind]);

    /// <summary>A stanza from a bound client (before it is parsed: malformed ones count too).</summary>
    internal void StanzaIn(Element element)
    {
        var kind = KindOf(element);
        if (kind < 0) return;
        _stanzasIn.Add(1, StanzaKinds[kind]);
        if (kind == (int)StanzaKind.Message) CountMessage();
    }

    // Messages per second for the last minute, in a ring of 60 counters each stamped with its second (the dashboard's
    // "messages per minute"); a counter from a second more than a minute old is reset on first use.
    private readonly long[] _messageSeconds = new long[60];
    private readonly long[] _messageCounts = new long[60];

    private void CountMessage()
    {
        var second = Environment.TickCount64 / 1000;
        var slot = (int)(second % 60);
        if (Volatile.Read(ref _messageSeconds[slot]) != second)
        {
            Volatile.Write(ref _messageCounts[slot], 0);
            Volatile.Write(ref _messageSeconds[slot], second);
        }
        Interlocked.Increment(ref _messageCounts[slot]);
    }

    /// <summary>Messages received from clients in the last 60 seconds.</summary>
    public long MessagesLastMinute
    {
        get
        {
            var now = Environment.TickCount64 / 1000;
            long sum = 0;
            for (var i = 0; i < 60; i++)
                if (now - Volatile.Read(ref _messageSeconds[i]) < 60) sum += Volatile.Read(ref _messageCounts[i]);
            return sum;
        }
    }

    /// <summary>An element written to a client connection; only stanzas count.</summary>
    internal void StanzaOut(Element element)
    {
        var kind = KindOf(element);
        if (kind >= 0) _stanzasOut.Add(1, StanzaKinds[kind]);
    }

    /// <summary>
    /// When routing starts: a <see cref="Stopwatch"/> timestamp, or 0 when nothing listens (reading the clock
    /// twice is most of what timing a stanza costs).
    /// </summary>
    internal long RoutingStarted() => _routing.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>A stanza routed, from <paramref name="startedAt"/> (<see cref="RoutingStarted"/>) until now.</summary>
    internal void Routed(StanzaKind kind, long startedAt)
    {
        if (startedAt != 0) _routing.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, StanzaKinds[(int)kind]);
    }

    internal void AuthSucceeded(string mechanism) => _authSuccesses.Add(1, new KeyValuePair<string, object?>("mechanism", MechanismLabel(mechanism)));

    internal void AuthFailed(string mechanism) => _authFailures.Add(1, new KeyValuePair<string, object?>("mechanism", MechanismLabel(mechanism)));

    /// <summary>
    /// Counts the offline queue and the archive again if the last count is older than
    /// <see cref="StorageFiguresMaxAge"/>; concurrent callers share one count. A failure keeps the old figures.
    /// </summary>
    public Task RefreshStorageFiguresAsync()
    {
        lock (_gate)
        {
            if (StorageFiguresFresh()) return Task.CompletedTask;
            // On the thread pool: SQLite's async calls complete synchronously, and the lock is not for the count.
            if (_counting is not { IsCompleted: false }) _counting = Task.Run(CountStorageAsync);
            return _counting;
        }
    }

    private bool StorageFiguresFresh() => _counted && _time.GetElapsedTime(_countedAt) < StorageFiguresMaxAge;

    private async Task CountStorageAsync()
    {
        try
        {
            var offline = await _offline.CountAllAsync(CancellationToken.None).ConfigureAwait(false);
            var archive = await _archive.CountAllAsync(CancellationToken.None).ConfigureAwait(false);
            Volatile.Write(ref _offlineCount, offline);
            Volatile.Write(ref _archiveCount, archive);
        }
        catch (Exception e)
        {
            MetricsLog.StorageCountFailed(_log, e);
        }
        lock (_gate)
        {
            // Also after a failure: a broken database is not asked again on every scrape.
            _countedAt = _time.GetTimestamp();
            _counted = true;
        }
    }

    // An observable callback cannot wait: it reports the last count (none before the first) and starts a new one
    // when that is stale, for listeners that do not call RefreshStorageFiguresAsync first.
    private IEnumerable<Measurement<long>> StorageFigure(ref long figure)
    {
        bool fresh;
        lock (_gate) fresh = StorageFiguresFresh();
        if (!fresh) _ = RefreshStorageFiguresAsync();
        var value = Volatile.Read(ref figure);
        return value < 0 ? [] : [new Measurement<long>(value)];
    }

    private static Measurement<long>[] ObserveCollections()
    {
        var result = new Measurement<long>[Generations.Length];
        for (var g = 0; g < result.Length; g++) result[g] = new Measurement<long>(GC.CollectionCount(g), Generations[g]);
        return result;
    }

    private static KeyValuePair<string, object?>[] CreateGenerations()
    {
        var tags = new KeyValuePair<string, object?>[GC.MaxGeneration + 1];
        for (var g = 0; g < tags.Length; g++) tags[g] = new("generation", g.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return tags;
    }

    private static int KindOf(Element element)
    {
        if (element.Namespace != Ns.Client) return -1;
        return element.LocalName switch
        {
            "message" => (int)StanzaKind.Message,
            "presence" => (int)StanzaKind.Presence,
            "iq" => (int)StanzaKind.Iq,
            _ => -1,
        };
    }

    internal static string MechanismLabel(string mechanism)
    {
        foreach (var known in Mechanisms)
            if (string.Equals(known, mechanism, StringComparison.Ordinal)) return known;
        return "other";
    }
}
