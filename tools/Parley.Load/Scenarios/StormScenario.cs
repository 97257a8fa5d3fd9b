namespace Parley.Load.Scenarios;

/// <summary>
/// N clients connect, negotiate (STARTTLS or plain, SASL, bind), send initial presence and stay idle; reports the
/// connection setup rate and the server's resident memory per idle session.
/// </summary>
internal static class StormScenario
{
    private const int WarmupSessions = 20;

    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        // A few sessions first, closed again, so that the baseline already holds the code and pools every session uses.
        await using (var warm = new SessionPool(o.Users))
            await warm.OpenAsync(o, 0, Math.Min(WarmupSessions, o.Users), (_, c) => Drain(c, ct), ct);
        await Task.Delay(500, ct);
        var before = ProcessSample.Read(o.Pid);

        await using var pool = new SessionPool(o.Users);
        await pool.OpenAsync(o, 0, o.Users, (_, c) => Drain(c, ct), ct);
        Console.Error.WriteLine($"storm: {pool.Opened} sessions in {pool.Elapsed.TotalSeconds:0.00} s, {pool.Failures} failed; idle {o.Idle.TotalSeconds:0} s");
        await Task.Delay(o.Idle, ct);
        var after = ProcessSample.Read(o.Pid);

        report.Add("storm_sessions", pool.Opened);
        report.Add("conn_failures", pool.Failures);
        report.Add("conn_setup_per_s", pool.Opened / pool.Elapsed.TotalSeconds);
        report.Add("conn_setup_p50_ms", pool.SetupMicros.Percentile(0.50) / 1000.0);
        report.Add("conn_setup_p99_ms", pool.SetupMicros.Percentile(0.99) / 1000.0);
        report.Add("sasl_mechanism", pool.Mechanism);
        if (before is { } b && after is { } a && pool.Opened > 0)
        {
            report.Add("server_rss_before_kib", b.RssKib);
            report.Add("server_rss_after_kib", a.RssKib);
            report.Add("idle_session_kib", (double)(a.RssKib - b.RssKib) / pool.Opened);
        }
        return pool.Failures == 0 ? 0 : 1;
    }

    private static void Drain(LoadConnection c, CancellationToken ct) => _ = ChatTraffic.DrainAsync(c.Reader, ct);
}
