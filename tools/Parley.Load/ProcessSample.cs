using System.Globalization;

namespace Parley.Load;

/// <summary>A process's CPU time and resident memory read from /proc, so that they hold whatever else shares the cores.</summary>
internal readonly record struct ProcessSample(TimeSpan Cpu, long RssKib)
{
    // USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux architecture .NET runs on.
    private const int ClockTicksPerSecond = 100;

    public static ProcessSample? Read(int? pid)
    {
        if (pid is null) return null;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // proc(5): the command name is in parentheses and may hold spaces; fields after it start at 3 (state).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                break;
            }
            return new ProcessSample(TimeSpan.FromSeconds((double)ticks / ClockTicksPerSecond), rss);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The 1-minute load average, for the honest reading of every figure on a shared machine.</summary>
    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }
}
