using System.Globalization;
using System.Text;

namespace Parley.Server.Diagnostics;

/// <summary>
/// The Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text: metric and label names from instrument
/// names and units (the OpenTelemetry conventions: dots become underscores, "s" becomes "_seconds", counters end in
/// "_total"), escaping, numbers, and one metric family per instrument.
/// </summary>
internal static class PrometheusText
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>
    /// OpenMetrics when the client ranks it at least as high as text/plain (Prometheus asks for it first), else
    /// the 0.0.4 text format.
    /// </summary>
    public static bool PrefersOpenMetrics(IList<Microsoft.Net.Http.Headers.MediaTypeHeaderValue> accept)
    {
        double openMetrics = 0, text = 0;
        foreach (var range in accept)
        {
            var q = range.Quality ?? 1;
            if (range.MediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase)) openMetrics = Math.Max(openMetrics, q);
            else if (range.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)) text = Math.Max(text, q);
        }
        return openMetrics > 0 && openMetrics >= text;
    }

    /// <summary>
    /// The metric family's name: the instrument name sanitised, with its unit as a suffix unless the name ends
    /// with it already. A counter's "_total" is not part of it (a trailing one is taken off; samples add it back).
    /// </summary>
    public static string MetricName(string instrument, string? unit, bool counter)
    {
        var name = Sanitise(instrument, allowColon: false);
        var suffix = UnitSuffix(unit);
        if (counter && name.EndsWith("_total", StringComparison.Ordinal) && name.Length > "_total".Length) name = name[..^"_total".Length];
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal) && name != suffix) name += "_" + suffix;
        return name;
    }

    /// <summary>A label name: letters, digits and underscores, not starting with a digit.</summary>
    public static string LabelName(string key) => Sanitise(key, allowColon: false);

    /// <summary>
    /// A UCUM unit (as System.Diagnostics.Metrics instruments declare it) in the words Prometheus names use:
    /// "s" is "seconds", "By" is "bytes", "By/s" is "bytes_per_second"; annotations such as "{stanza}" and the
    /// dimensionless "1" add nothing.
    /// </summary>
    public static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrWhiteSpace(unit)) return "";
        var brace = unit.IndexOf('{', StringComparison.Ordinal);
        if (brace >= 0) unit = unit[..brace];
        if (unit.Length == 0 || unit == "1") return "";
        var slash = unit.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var per = Singular(Words(unit[(slash + 1)..]));
            var of = Words(unit[..slash]);
            return per.Length == 0 ? of : of + "_per_" + per;
        }
        return Words(unit);
    }

    private static string Words(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "bit" => "bits",
        "Hz" => "hertz",
        "%" => "percent",
        "Cel" => "celsius",
        "" => "",
        _ => Sanitise(unit, allowColon: false).Trim('_'),
    };

    private static string Singular(string words) => words switch
    {
        "days" => "day",
        "hours" => "hour",
        "minutes" => "minute",
        "seconds" => "second",
        _ => words,
    };

    // Prometheus names: [a-zA-Z_][a-zA-Z0-9_]*. Every other character becomes '_', runs of '_' become one (the
    // OpenTelemetry rule), and a leading digit gets a '_' in front. Colons are for recording rules, not exporters.
    private static string Sanitise(string name, bool allowColon)
    {
        var result = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') || (allowColon && c == ':');
            var next = ok ? c : '_';
            if (next == '_' && result.Length > 0 && result[^1] == '_') continue;
            result.Append(next);
        }
        if (result.Length == 0 || char.IsAsciiDigit(result[0])) result.Insert(0, '_');
        return result.ToString();
    }

    /// <summary>A label value inside double quotes: backslash, double quote and line feed are escaped.</summary>
    public static void AppendLabelValue(StringBuilder output, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': output.Append(@"\\"); break;
                case '"': output.Append("\\\""); break;
                case '\n': output.Append(@"\n"); break;
                default: output.Append(c); break;
            }
        }
    }

    /// <summary>HELP text: backslash and line feed escaped, and in OpenMetrics the double quote too.</summary>
    public static void AppendHelp(StringBuilder output, string text, bool openMetrics)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': output.Append(@"\\"); break;
                case '\n': output.Append(@"\n"); break;
                case '"' when openMetrics: output.Append("\\\""); break;
                default: output.Append(c); break;
            }
        }
    }

    /// <summary>A sample value: the shortest text that reads back as the same double; +Inf, -Inf and NaN as named.</summary>
    public static void AppendValue(StringBuilder output, double value)
    {
        if (double.IsPositiveInfinity(value)) output.Append("+Inf");
        else if (double.IsNegativeInfinity(value)) output.Append("-Inf");
        else if (double.IsNaN(value)) output.Append("NaN");
        else output.Append(value.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>A bucket bound for 'le': always a float ("1.0", not "1"), as OpenMetrics wants it canonical.</summary>
    public static string BoundText(double bound)
    {
        if (double.IsPositiveInfinity(bound)) return "+Inf";
        var text = bound.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
    }

    /// <summary>Writes one instrument's family: HELP, TYPE (and UNIT in OpenMetrics), then its samples.</summary>
    public static void WriteFamily(StringBuilder output, InstrumentAggregate metric, bool openMetrics, long generation)
    {
        var series = metric.Series;
        var counter = metric.Kind is MetricKind.Counter or MetricKind.ObservedCounter;
        var sample = counter ? metric.Name + "_total" : metric.Name;
        // 0.0.4 names a counter family by its sample name; OpenMetrics by the name without "_total".
        var family = counter && !openMetrics ? sample : metric.Name;
        var type = metric.Kind switch
        {
            MetricKind.Histogram => "histogram",
            MetricKind.Counter or MetricKind.ObservedCounter => "counter",
            _ => "gauge",
        };
        if (!string.IsNullOrEmpty(metric.Instrument.Description))
        {
            output.Append("# HELP ").Append(family).Append(' ');
            AppendHelp(output, metric.Instrument.Description, openMetrics);
            output.Append('\n');
        }
        output.Append("# TYPE ").Append(family).Append(' ').Append(type).Append('\n');
        var unit = UnitSuffix(metric.Instrument.Unit);
        if (openMetrics && unit.Length > 0 && metric.Name.EndsWith("_" + unit, StringComparison.Ordinal))
            output.Append("# UNIT ").Append(family).Append(' ').Append(unit).Append('\n');

        foreach (var s in series)
        {
            switch (metric.Kind)
            {
                case MetricKind.Histogram:
                    WriteHistogram(output, metric.Name, metric.Bounds, s);
                    break;
                case MetricKind.Counter or MetricKind.UpDownCounter:
                    Sample(output, sample, s.Labels);
                    var sum = Volatile.Read(ref s.LongSum);
                    var doubleSum = s.DoubleSum;
                    if (doubleSum == 0) output.Append(sum.ToString(CultureInfo.InvariantCulture));
                    else AppendValue(output, sum + doubleSum);
                    output.Append('\n');
                    break;
                default:
                    // An observable series that did not report in this collection has gone away.
                    if (metric.IsObservable && Volatile.Read(ref s.LastGeneration) != generation) continue;
                    if (!metric.IsObservable && Volatile.Read(ref s.LastGeneration) < 0) continue;
                    Sample(output, sample, s.Labels);
                    AppendValue(output, s.Last);
                    output.Append('\n');
                    break;
            }
        }
    }

    private static void WriteHistogram(StringBuilder output, string name, double[] bounds, MetricSeries s)
    {
        // Cumulative, and the count is the last bucket's total, so +Inf and _count agree even while recordings go on.
        long cumulative = 0;
        for (var i = 0; i <= bounds.Length; i++)
        {
            cumulative += Volatile.Read(ref s.Buckets[i]);
            output.Append(name).Append("_bucket{");
            if (s.Labels.Length > 0) output.Append(s.Labels).Append(',');
            output.Append("le=\"").Append(i < bounds.Length ? BoundText(bounds[i]) : "+Inf").Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Sample(output, name + "_sum", s.Labels);
        AppendValue(output, s.DoubleSum);
        output.Append('\n');
        Sample(output, name + "_count", s.Labels);
        output.Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static void Sample(StringBuilder output, string name, string labels)
    {
        output.Append(name);
        if (labels.Length > 0) output.Append('{').Append(labels).Append('}');
        output.Append(' ');
    }
}
