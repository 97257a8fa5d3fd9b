using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests.Diagnostics;

/// <summary>One sample line: its metric name, labels and value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string LabelText => string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
}

/// <summary>
/// A strict reader of the Prometheus text format 0.0.4 and of OpenMetrics 1.0 text, written from their
/// specifications and independent of the exporter: it throws <see cref="FormatException"/> naming the line for
/// anything a scraper could misread. Every sample needs a TYPE before it, a family's samples stand together,
/// histogram buckets rise with 'le', are cumulative and end at +Inf equal to _count.
/// </summary>
public sealed class PrometheusTextParser
{
    private static readonly Regex MetricName = new("^[a-zA-Z_:][a-zA-Z0-9_:]*$", RegexOptions.CultureInvariant);
    private static readonly Regex LabelName = new("^[a-zA-Z_][a-zA-Z0-9_]*$", RegexOptions.CultureInvariant);
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped", "unknown", "info", "stateset", "gaugehistogram"];

    private readonly bool _openMetrics;
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly HashSet<string> _helps = new(StringComparer.Ordinal);
    private readonly HashSet<string> _finished = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<PrometheusSample> _samples = [];
    private string? _current;

    private PrometheusTextParser(bool openMetrics) => _openMetrics = openMetrics;

    public IReadOnlyList<PrometheusSample> Samples => _samples;

    public IReadOnlyDictionary<string, string> FamilyTypes => _types;

    public static PrometheusTextParser Parse(string text, bool openMetrics)
    {
        var parser = new PrometheusTextParser(openMetrics);
        if (!text.EndsWith('\n')) throw new FormatException("The exposition must end with a line feed");
        var lines = text[..^1].Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (openMetrics && i == lines.Length - 1)
            {
                if (line != "# EOF") throw new FormatException("OpenMetrics must end with '# EOF', got: " + line);
                break;
            }
            try
            {
                parser.Line(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {i + 1} '{line}': {e.Message}", e);
            }
        }
        if (openMetrics && lines[^1] != "# EOF") throw new FormatException("No '# EOF'");
        parser.CheckHistograms();
        return parser;
    }

    private void Line(string line)
    {
        if (line.Length == 0) throw new FormatException("blank line");
        if (line.StartsWith('#'))
        {
            Comment(line);
            return;
        }
        var sample = ReadSample(line);
        var family = FamilyOf(sample.Name) ?? throw new FormatException($"sample {sample.Name} has no TYPE before it");
        Enter(family);
        if (!_seen.Add(sample.Name + "{" + sample.LabelText + "}")) throw new FormatException("the same sample twice");
        _samples.Add(sample);
    }

    private void Comment(string line)
    {
        var parts = line.Split(' ', 4);
        if (parts.Length < 3 || parts[0] != "#") throw new FormatException("a comment that is not HELP, TYPE or UNIT");
        var name = parts[2];
        if (!MetricName.IsMatch(name)) throw new FormatException("bad metric name " + name);
        switch (parts[1])
        {
            case "TYPE":
                if (parts.Length != 4 || !Types.Contains(parts[3])) throw new FormatException("bad TYPE");
                if (!_types.TryAdd(name, parts[3])) throw new FormatException("a second TYPE for " + name);
                if (_types[name] == "counter" && !_openMetrics && !name.EndsWith("_total", StringComparison.Ordinal))
                    throw new FormatException("a 0.0.4 counter's name should end with _total");
                if (_types[name] == "counter" && _openMetrics && name.EndsWith("_total", StringComparison.Ordinal))
                    throw new FormatException("an OpenMetrics counter family is named without _total");
                Enter(name);
                break;
            case "HELP":
                if (!_helps.Add(name)) throw new FormatException("a second HELP for " + name);
                if (_types.ContainsKey(name) && _current != name) throw new FormatException("HELP after the family ended");
                if (parts.Length == 4) CheckEscapes(parts[3], _openMetrics ? "\\n\"" : "\\n");
                Enter(name);
                break;
            case "UNIT":
                if (!_openMetrics) throw new FormatException("UNIT is OpenMetrics only");
                if (parts.Length != 4 || !name.EndsWith("_" + parts[3], StringComparison.Ordinal)) throw new FormatException("the unit must be the family name's suffix");
                Enter(name);
                break;
            default:
                throw new FormatException("unknown comment " + parts[1]);
        }
    }

    private static void CheckEscapes(string text, string allowed)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\') continue;
            if (i + 1 >= text.Length || !allowed.Contains(text[i + 1], StringComparison.Ordinal)) throw new FormatException("bad escape in HELP");
            i++;
        }
    }

    // A family's lines stand together: once another family starts, it may not come back.
    private void Enter(string family)
    {
        if (_current == family) return;
        if (_finished.Contains(family)) throw new FormatException($"family {family} is split");
        if (_current is not null) _finished.Add(_current);
        _current = family;
    }

    private string? FamilyOf(string sample)
    {
        if (_types.TryGetValue(sample, out var type) && (type is "gauge" or "untyped" or "unknown" || (type == "counter" && !_openMetrics))) return sample;
        foreach (var suffix in (string[])["_bucket", "_sum", "_count", "_total", "_created"])
        {
            if (!sample.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var family = sample[..^suffix.Length];
            if (!_types.TryGetValue(family, out var t)) continue;
            if (t == "histogram" && suffix is "_bucket" or "_sum" or "_count" or "_created") return family;
            if (t == "counter" && _openMetrics && suffix is "_total" or "_created") return family;
        }
        return null;
    }

    private static PrometheusSample ReadSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        var name = line[..i];
        if (!MetricName.IsMatch(name)) throw new FormatException("bad metric name " + name);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var label = line[i..eq];
                if (!LabelName.IsMatch(label)) throw new FormatException("bad label name " + label);
                if (line[eq + 1] != '"') throw new FormatException("label value not quoted");
                var value = new StringBuilder();
                var j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] != '\\')
                    {
                        value.Append(line[j]);
                        continue;
                    }
                    j++;
                    value.Append(line[j] switch
                    {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        _ => throw new FormatException("bad escape in a label value"),
                    });
                }
                if (!labels.TryAdd(label, value.ToString())) throw new FormatException("label twice: " + label);
                i = j + 1;
                if (line[i] == ',') i++;
                else if (line[i] != '}') throw new FormatException("expected , or }");
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ') throw new FormatException("expected a space before the value");
        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length > 2) throw new FormatException("too many fields");
        return new PrometheusSample(name, labels, Number(rest[0]));
    }

    private static double Number(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException("bad value " + text),
    };

    private void CheckHistograms()
    {
        foreach (var (family, type) in _types)
        {
            if (type != "histogram") continue;
            var buckets = _samples.Where(s => s.Name == family + "_bucket")
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
            foreach (var series in buckets)
            {
                double previousLe = double.NegativeInfinity, previousCount = 0;
                foreach (var bucket in series)
                {
                    var le = Number(bucket.Labels.TryGetValue("le", out var text) ? text : throw new FormatException($"{family}: a bucket without le"));
                    if (le <= previousLe) throw new FormatException($"{family}{{{series.Key}}}: le does not rise");
                    if (bucket.Value < previousCount) throw new FormatException($"{family}{{{series.Key}}}: buckets are not cumulative");
                    previousLe = le;
                    previousCount = bucket.Value;
                }
                if (!double.IsPositiveInfinity(previousLe)) throw new FormatException($"{family}{{{series.Key}}}: the last bucket is not +Inf");
                var count = _samples.SingleOrDefault(s => s.Name == family + "_count" && SameSeries(s, series.Key))
                    ?? throw new FormatException($"{family}{{{series.Key}}}: no _count");
                if (count.Value != previousCount) throw new FormatException($"{family}{{{series.Key}}}: +Inf is {previousCount} but _count is {count.Value}");
                if (!_samples.Any(s => s.Name == family + "_sum" && SameSeries(s, series.Key))) throw new FormatException($"{family}{{{series.Key}}}: no _sum");
            }
        }
    }

    private static bool SameSeries(PrometheusSample sample, string key) =>
        string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) == key;

    /// <summary>The value of the one sample with this name and exactly these labels, or null.</summary>
    public double? Value(string name, params (string Key, string Value)[] labels)
    {
        foreach (var s in _samples)
            if (s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
                return s.Value;
        return null;
    }

    /// <summary>The sum of every sample with this name.</summary>
    public double Sum(string name) => _samples.Where(s => s.Name == name).Sum(s => s.Value);
}
