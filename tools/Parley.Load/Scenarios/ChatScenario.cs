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
        var traffic = new ChatTraffic(o);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var receivers = new Task?[o.Users];
        await using var pool = new SessionPool(o.Users);
        await pool.OpenAsync(o, 0, o.Users, (i, c) => receivers[i] = traffic.ReceiveAsync(c.Reader, i, stop.Token), ct);
        Console.Error.WriteLine($"chat: {pool.Opened} sessions in {pool.Elapsed.TotalSeconds:0.00} s, {pool.Failures} failed");
        var online = new List<int>();
        for (var i = 0; i < o.Users; i++) if (pool.Connections[i] is not null) online.Add(i);
        if (online.Count < 2) { Console.Error.WriteLine("chat: fewer than two sessions"); return 1; }
        await Task.Delay(500, ct);   // let the presence flurry of login settle

        // Pacers own disjoint sets of senders, so no two ever write to one connection at once.
        var pacers = Math.Clamp((int)(o.Rate / 2000) + 1, 1, Math.Min(8, online.Count));
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
        var windowEnd = windowStart + (long)(o.Duration.TotalSeconds * Stopwatch.Frequency);
        traffic.OpenWindow(windowStart, windowEnd);
        var tasks = new Task[pacers];
        for (var p = 0; p < pacers; p++)
        {
            var mine = new List<int>();
            for (var k = p; k < online.Count; k += pacers) mine.Add(online[k]);
            tasks[p] = Task.Run(() => PaceAsync(traffic, pool, online, mine.ToArray(), o.Rate / pacers, start, windowEnd, ct), ct);
        }

        await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (long)((windowStart - Stopwatch.GetTimestamp()) * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency))), ct);
        var serverBefore = ProcessSample.Read(o.Pid);
        var selfBefore = ProcessSample.Read(Environment.ProcessId);
        await Task.WhenAll(tasks);
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

    private static async Task PaceAsync(ChatTraffic traffic, SessionPool pool, List<int> online, int[] senders, double rate,
        long start, long end, CancellationToken ct)
    {
        long sent = 0;
        var random = new Random(senders[0]);
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end) return;
            // Open loop: the number due by now, whatever was late before.
            var due = (long)((now - start) / (double)Stopwatch.Frequency * rate);
            for (; sent < due; sent++)
            {
                var from = senders[random.Next(senders.Length)];
                int to;
                do to = online[random.Next(online.Count)]; while (to == from);
                var writer = pool.Connections[from]!.Writer;
                var stamp = traffic.Write(writer, to);
                if (traffic.InWindow(stamp)) Interlocked.Increment(ref traffic.SentInWindow);
                var flush = writer.FlushAsync(ct);
                if (!flush.IsCompletedSuccessfully) await flush;
            }
            await Task.Delay(1, ct);
        }
    }
}
