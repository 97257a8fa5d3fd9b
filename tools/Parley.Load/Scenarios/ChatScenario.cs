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
        await using var pool = new SessionPool(o.Users);
        await pool.OpenAsync(o, 0, o.Users, (i, c) => _ = traffic.ReceiveAsync(c.Reader, i, stop.Token), ct);
        Console.Error.WriteLine($"chat: {pool.Opened} sessions in {pool.Elapsed.TotalSeconds:0.00} s, {pool.Failures} failed");
        var online = new List<int>();
        for (var i = 0; i < o.Users; i++) if (pool.Connections[i] is not null) online.Add(i);
        if (online.Count < 2) { Console.Error.WriteLine("chat: fewer than two sessions"); return 1; }
        await Task.Delay(500, ct);   // let the presence flurry of login settle

        var cost = await Pacer.MeasureAsync(o, pool, online, (random, from, writer) =>
        {
            int to;
            do to = online[random.Next(online.Count)]; while (to == from);
            return traffic.Write(writer, to);
        }, traffic, static _ => 1, MaxDrain, ct);

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
        report.AddLatency("chat", traffic.Latency);
        report.AddCost(cost, delivered, seconds, "chat_cpu_us_per_msg", "load_cpu_us_per_msg");
        await stop.CancelAsync();
        return pool.Failures == 0 && delivered > 0 ? 0 : 1;
    }
}
