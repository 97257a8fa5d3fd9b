using System.Globalization;

namespace Parley.Load;

/// <summary>Prints results: readable lines first, then one <c>name=value</c> line per figure for scripts.</summary>
internal sealed class Report(LoadOptions o)
{
    private readonly List<(string Name, string Value)> _figures = [];

    /// <summary>The figures added so far, in order.</summary>
    public IReadOnlyList<(string Name, string Value)> Figures => _figures;

    /// <summary>The last value of a figure, or null.</summary>
    public string? this[string name]
    {
        get
        {
            for (var i = _figures.Count - 1; i >= 0; i--)
                if (_figures[i].Name == name) return _figures[i].Value;
            return null;
        }
    }

    public void Add(string name, double value) => _figures.Add((name, value.ToString("0.###", CultureInfo.InvariantCulture)));

    public void Add(string name, string value) => _figures.Add((name, value));

    /// <summary>Adds <paramref name="prefix"/>_p50_ms, _p99_ms, _p999_ms and _max_ms from a histogram of microseconds.</summary>
    public void AddLatency(string prefix, LatencyHistogram latency)
    {
        Add(prefix + "_p50_ms", latency.Percentile(0.50) / 1000.0);
        Add(prefix + "_p99_ms", latency.Percentile(0.99) / 1000.0);
        Add(prefix + "_p999_ms", latency.Percentile(0.999) / 1000.0);
        Add(prefix + "_max_ms", latency.Percentile(1.0) / 1000.0);
    }

    /// <summary>
    /// Adds the server's CPU time per delivered stanza as <paramref name="serverFigure"/> (with its CPU share and
    /// resident memory) and the generator's as <paramref name="selfFigure"/>, over a window of <paramref name="seconds"/>.
    /// </summary>
    public void AddCost(WindowCost cost, long delivered, double seconds, string serverFigure, string selfFigure)
    {
        if (delivered <= 0) return;
        if (cost.Server is { } server)
        {
            Add(serverFigure, server.TotalMicroseconds / delivered);
            Add("server_cpu_percent", server.TotalSeconds / seconds * 100);
            Add("server_rss_kib", cost.ServerRssKib ?? 0);
        }
        if (cost.Self is { } self) Add(selfFigure, self.TotalMicroseconds / delivered);
    }

    public void Print()
    {
        Add("loadavg", ProcessSample.LoadAverage());
        var label = o.Label.Length > 0 ? o.Label + " " : "";
        Console.WriteLine($"# {label}{o.Scenario} against {o.Server} ({o.Domain}), {o.Users} users, {(o.Tls ? "STARTTLS" : "plain TCP")}");
        foreach (var (name, value) in _figures) Console.WriteLine($"{name}={value}");
    }
}
