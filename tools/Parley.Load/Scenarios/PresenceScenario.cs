namespace Parley.Load.Scenarios;

/// <summary>
/// Users with --contacts contacts each (made by the roster scenario) log in, fetching their roster before their
/// initial presence, then change presence at --rate changes a second in total; reports the login time, presence
/// stanzas delivered per second, their latency and the server's CPU time per delivered presence.
/// </summary>
internal static class PresenceScenario
{
    private static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        var traffic = new MarkedTraffic(o, broadcast: true);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var pool = new SessionPool(o.Users);
        await pool.OpenAsync(o, 0, o.Users, (i, c) => _ = traffic.ReceiveAsync(c.Reader, i, stop.Token), ct, fetchRoster: true);
        Console.Error.WriteLine($"presence: {pool.Opened} sessions in {pool.Elapsed.TotalSeconds:0.00} s, {pool.Failures} failed");
        var online = new List<int>();
        var isOnline = new bool[o.Users];
        for (var i = 0; i < o.Users; i++)
            if (pool.Connections[i] is not null) { online.Add(i); isOnline[i] = true; }
        if (online.Count < 2) { Console.Error.WriteLine("presence: fewer than two sessions"); return 1; }
        // Who should hear a user's presence: the contacts its roster, fetched at login, shows as mutual and online
        // (not assumed: a roster scenario that ran out of time leaves some pairs unfinished).
        var onlineContacts = new int[o.Users];
        long mutual = 0;
        foreach (var i in online)
            foreach (var c in o.ContactsOf(i))
            {
                if (!pool.Connections[i]!.MutualContacts.Contains(o.UserName(c) + "@" + o.Domain)) continue;
                mutual++;
                if (isOnline[c]) onlineContacts[i]++;
            }
        await Task.Delay(1000, ct);   // let the presence flurry of login settle

        var away = new bool[o.Users];
        var cost = await Pacer.MeasureAsync(o, pool, online, (_, from, writer) =>
        {
            away[from] = !away[from];
            return MarkedTraffic.WritePresence(writer, from, away[from]);
        }, traffic, from => onlineContacts[from], MaxDrain, ct);

        var delivered = Interlocked.Read(ref traffic.DeliveredInWindow);
        var expected = Interlocked.Read(ref traffic.ExpectedInWindow);
        var seconds = o.Duration.TotalSeconds;
        report.Add("presence_sessions", pool.Opened);
        report.Add("conn_failures", pool.Failures);
        report.Add("presence_mutual_contacts_avg", (double)mutual / online.Count);
        report.Add("login_p50_ms", pool.SetupMicros.Percentile(0.50) / 1000.0);
        report.Add("login_p99_ms", pool.SetupMicros.Percentile(0.99) / 1000.0);
        report.Add("presence_offered_per_s", o.Rate);
        report.Add("presence_changes_per_s", Interlocked.Read(ref traffic.SentInWindow) / seconds);
        report.Add("presence_delivered_per_s", delivered / seconds);
        report.Add("presence_expected", expected);
        report.Add("presence_delivered", delivered);
        report.Add("presence_p50_ms", traffic.Latency.Percentile(0.50) / 1000.0);
        report.Add("presence_p99_ms", traffic.Latency.Percentile(0.99) / 1000.0);
        if (cost.Server is { } server && delivered > 0)
            report.Add("presence_cpu_us_per_stanza", server.TotalMicroseconds / delivered);
        await stop.CancelAsync();
        return pool.Failures == 0 && delivered > 0 ? 0 : 1;
    }
}
