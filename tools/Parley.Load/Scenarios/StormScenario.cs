namespace Parley.Load.Scenarios;

/// <summary>
/// N clients connect, negotiate (STARTTLS or plain, SASL, bind), send initial presence and stay idle; reports the
/// connection setup rate, the server's CPU time per session set up, and its resident memory per idle session.
/// </summary>
/// <remarks>
/// Memory per session is the slope over the second half of the sessions: the server's resident size with half of them
/// idle and with all of them idle, each read after --idle seconds, divided by the sessions in between. A difference
/// from the first session on would also count what the first sessions warm up (code, pools, a garbage collector
/// finding its size), and a runtime that returns memory between two readings can even make it negative.
/// </remarks>
internal static class StormScenario
{
    private const int WarmupSessions = 300;
    private static readonly int[] Checkpoints = [1_000, 10_000, 50_000, 100_000];

    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        // Sessions first, closed again, so that the baseline already holds the code every session runs and the setup
        // figures are the steady state's: a .NET server recompiles its hot paths (tiered JIT) over its first few hundred
        // logins, and that one-off cost would otherwise be charged to the storm.
        await using (var warm = new SessionPool(o.Users))
            await warm.OpenAsync(o, 0, Math.Min(WarmupSessions, o.Users), (_, c) => Drain(c, ct), ct);
        // Then until the server is quiet (its background compilation done): at most 20 s, in half seconds.
        for (var i = 0; i < 40; i++)
        {
            var cpu0 = ProcessSample.Read(o.Pid);
            await Task.Delay(500, ct);
            if (cpu0 is not { } c0 || ProcessSample.Read(o.Pid) is not { } c1 || (c1.Cpu - c0.Cpu).TotalMilliseconds < 25) break;
        }

        var before = ProcessSample.Read(o.Pid);
        var selfBefore = ProcessSample.Read(Environment.ProcessId);
        await using var pool = new SessionPool(o.Users);
        var half = o.Users / 2;
        // The server's size is also read at 1k, 10k and 50k sessions on the way (after --idle each), so that one
        // storm gives memory against session count.
        var opened = 0;
        var elapsed = TimeSpan.Zero;
        async Task OpenUpToAsync(int target)
        {
            foreach (var checkpoint in Checkpoints)
            {
                if (checkpoint <= opened || checkpoint >= target) continue;
                await pool.OpenAsync(o, opened, checkpoint, (_, c) => Drain(c, ct), ct);
                elapsed += pool.Elapsed;
                opened = checkpoint;
                await Task.Delay(o.Idle, ct);
                if (ProcessSample.Read(o.Pid) is { } at) report.Add($"server_rss_kib_at_{checkpoint}", at.RssKib);
            }
            await pool.OpenAsync(o, opened, target, (_, c) => Drain(c, ct), ct);
            elapsed += pool.Elapsed;
            opened = target;
        }

        await OpenUpToAsync(half);
        var halfCpu = ProcessSample.Read(o.Pid);
        await Task.Delay(o.Idle, ct);
        var atHalf = ProcessSample.Read(o.Pid);
        var failuresAtHalf = pool.Failures;

        var secondStart = ProcessSample.Read(o.Pid);
        await OpenUpToAsync(o.Users);
        var setupDone = ProcessSample.Read(o.Pid);
        var selfAfter = ProcessSample.Read(Environment.ProcessId);
        Console.Error.WriteLine($"storm: {pool.Opened} sessions in {elapsed.TotalSeconds:0.00} s, {pool.Failures} failed; idle {o.Idle.TotalSeconds:0} s");
        await Task.Delay(o.Idle, ct);
        var after = ProcessSample.Read(o.Pid);

        report.Add("storm_sessions", pool.Opened);
        report.Add("conn_failures", pool.Failures);
        report.Add("conn_setup_per_s", pool.Opened / elapsed.TotalSeconds);
        report.Add("conn_setup_p50_ms", pool.SetupMicros.Percentile(0.50) / 1000.0);
        report.Add("conn_setup_p99_ms", pool.SetupMicros.Percentile(0.99) / 1000.0);
        report.Add("sasl_mechanism", pool.Mechanism);
        if (before is { } b && after is { } a && atHalf is { } h && pool.Opened > 0)
        {
            var secondHalf = pool.Opened - (half - failuresAtHalf);
            report.Add("server_rss_before_kib", b.RssKib);
            report.Add("server_rss_half_kib", h.RssKib);
            report.Add("server_rss_after_kib", a.RssKib);
            report.Add($"server_rss_kib_at_{pool.Opened}", a.RssKib);
            report.Add("idle_session_kib_from_start", (double)(a.RssKib - b.RssKib) / pool.Opened);
            if (secondHalf > 0) report.Add("idle_session_kib", (double)(a.RssKib - h.RssKib) / secondHalf);
            // CPU time per session set up holds better than the rate when the cores are shared.
            if (halfCpu is { } hc && secondStart is { } ss && setupDone is { } d)
                report.Add("conn_server_cpu_ms", ((hc.Cpu - b.Cpu) + (d.Cpu - ss.Cpu)).TotalMilliseconds / pool.Opened);
        }
        if (selfBefore is { } lb && selfAfter is { } la && pool.Opened > 0)
            report.Add("conn_load_cpu_ms", (la.Cpu - lb.Cpu).TotalMilliseconds / pool.Opened);
        return pool.Failures == 0 ? 0 : 1;
    }

    private static void Drain(LoadConnection c, CancellationToken ct) => _ = MarkedTraffic.DrainAsync(c.Reader, ct);
}
