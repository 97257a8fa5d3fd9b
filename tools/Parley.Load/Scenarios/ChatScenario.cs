using System.Diagnostics;

namespace Parley.Load.Scenarios;

/// <summary>
/// K users online send one-to-one chat messages to random other online users at a fixed offered rate; reports the
/// delivered rate, end-to-end latency percentiles and the server's CPU time per delivered message.
/// </summary>
internal static class ChatScenario
{
    private static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        var traffic = new MarkedTraffic(o);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var receivers = new Task?[o.Users];
        await using var pool = new SessionPool(o.Users);
        await pool.OpenAsync(o, 0, o.Users, (i, c) => receivers[i] = traffic.ReceiveAsync(c.Reader, i, stop.Token), ct);
        Console.Error.WriteLine($"chat: {pool.Opened} sessions in {pool.Elapsed.TotalSeconds:0.00} s, {pool.Failures} failed");
        var online = new List<int>();
        for (var i = 0; i < o.Users; i++) if (pool.Connections[i] is not null) online.Add(i);
        if (online.Count < 2) { Console.Error.WriteLine("chat: fewer than two sessions"); return 1; }
        await Task.Delay(500, ct);   // let the presence flurry of login settle

        var start = Stopwatch.GetTimestamp();
        var windowStart = start + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
        var windowEnd = windowStart + (long)(o.Duration.TotalSeconds * Stopwatch.Frequency);
        traffic.OpenWindow(windowStart, windowEnd);
        var pacing = Pacer.RunAsync(pool, online, Pacer.For(o.Rate, online.Count), o.Rate, start, windowEnd, (random, from, writer) =>
        {
            int to;
            do to = online[random.Next(online.Count)]; while (to == from);
            return traffic.Write(writer, to);
        }, traffic, static _ => 1, ct);

        await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (long)((windowStart - Stopwatch.GetTimestamp()) * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency))), ct);
        var serverBefore = ProcessSample.Read(o.Pid);
        var selfBefore = ProcessSample.Read(Environment.ProcessId);
        await pacing;
        var serverAfter = ProcessSample.Read(o.Pid);
        var selfAfter = ProcessSample.Read(Environment.ProcessId);

        // Late messages of the window still count; wait for them a little.
        var drainStart = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref traffic.DeliveredInWindow) < Interlocked.Read(ref traffic.SentInWindow) && Stopwatch.GetElapsedTime(drainStart) < MaxDrain)
            await Task.Delay(20, ct);

        var delivered = Interlocked.Read(ref traffic.DeliveredInWindow);
        var sent = Interlocked.Read(ref traffic.SentInWindow);
        var seconds = o.Duration.TotalSeconds;
        report.Add("chat_sessions", pool.Opened);
        report.Add("conn_failures", pool.Failures);
        report.Add("sasl_mechanism", pool.Mechanism);
        report.Add("chat_offered_per_s", o.Rate);
        report.Add("chat_sent_per_s", sent / seconds);
        report.Add("chat_msgs_per_s", delivered / seconds);
        report.Add("chat_sent", sent);
        report.Add("chat_delivered", delivered);
        report.Add("chat_lost", sent - delivered);
        report.Add("chat_misdelivered", Interlocked.Read(ref traffic.Misdelivered));
        report.Add("chat_p50_ms", traffic.Latency.Percentile(0.50) / 1000.0);
        report.Add("chat_p99_ms", traffic.Latency.Percentile(0.99) / 1000.0);
        report.Add("chat_p999_ms", traffic.Latency.Percentile(0.999) / 1000.0);
        report.Add("chat_max_ms", traffic.Latency.Percentile(1.0) / 1000.0);
        if (serverBefore is { } sb && serverAfter is { } sa && delivered > 0)
        {
            report.Add("chat_cpu_us_per_msg", (sa.Cpu - sb.Cpu).TotalMicroseconds / delivered);
            report.Add("server_cpu_percent", (sa.Cpu - sb.Cpu).TotalSeconds / seconds * 100);
            report.Add("server_rss_kib", sa.RssKib);
        }
        if (selfBefore is { } lb && selfAfter is { } la && delivered > 0)
            report.Add("load_cpu_us_per_msg", (la.Cpu - lb.Cpu).TotalMicroseconds / delivered);
        await stop.CancelAsync();
        return pool.Failures == 0 && delivered > 0 ? 0 : 1;
    }
}
