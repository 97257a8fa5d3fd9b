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

    public void Print()
    {
        Add("loadavg", ProcessSample.LoadAverage());
        var label = o.Label.Length > 0 ? o.Label + " " : "";
        Console.WriteLine($"# {label}{o.Scenario} against {o.Server} ({o.Domain}), {o.Users} users, {(o.Tls ? "STARTTLS" : "plain TCP")}");
        foreach (var (name, value) in _figures) Console.WriteLine($"{name}={value}");
    }
}
