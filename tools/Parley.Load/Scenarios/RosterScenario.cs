using System.Diagnostics;
using Parley.Protocol;

namespace Parley.Load.Scenarios;

/// <summary>
/// Builds the presence scenario's rosters through the protocol, the same way on every server: all users online,
/// each asks its --contacts neighbours for a subscription and approves every request it receives, so that every pair
/// ends with subscription 'both' (RFC 6121 §3). Run again, the servers answer for contacts already subscribed.
/// Setup, not measurement: it parses every stanza into elements.
/// </summary>
internal static class RosterScenario
{
    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        var approved = new int[o.Users];
        var locks = new SemaphoreSlim[o.Users];
        for (var i = 0; i < o.Users; i++) locks[i] = new SemaphoreSlim(1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var pool = new SessionPool(o.Users);
        // Resources that fetched their roster are the interested ones, which get subscription states (RFC 6121 §2.1.6).
        await pool.OpenAsync(o, 0, o.Users, (i, c) => _ = ApproveAsync(c, locks[i], approved, i, stop.Token), ct, fetchRoster: true);
        if (pool.Failures > 0) { report.Add("conn_failures", pool.Failures); return 1; }

        var start = Stopwatch.GetTimestamp();
        var wanted = 0L;
        var senders = new Task[o.Users];
        for (var i = 0; i < o.Users; i++)
        {
            // Contacts already mutual (a second run on the same data) need nothing: not every server answers again.
            var c = pool.Connections[i]!;
            var missing = new List<string>();
            foreach (var contact in o.ContactsOf(i))
            {
                var jid = o.UserName(contact) + "@" + o.Domain;
                if (!c.MutualContacts.Contains(jid)) missing.Add(jid);
            }
            wanted += missing.Count;
            var gate = locks[i];
            senders[i] = Task.Run(async () =>
            {
                foreach (var jid in missing) await SendAsync(c, gate, Presence("subscribe", jid), ct);
            }, ct);
        }
        await Task.WhenAll(senders);
        // Bounded: every request answered, or a minute plus 20 ms per request (prosody 0.12 here: about 6 ms each
        // with 10 contacts a user, far more with 50, as its file store rewrites a whole roster per change).
        var limit = TimeSpan.FromSeconds(60) + TimeSpan.FromMilliseconds(20 * wanted);
        long done;
        while ((done = Sum(approved)) < wanted && Stopwatch.GetElapsedTime(start) < limit)
            await Task.Delay(100, ct);
        await stop.CancelAsync();
        report.Add("roster_subscriptions", done);
        report.Add("roster_subscriptions_wanted", wanted);
        report.Add("roster_seconds", Stopwatch.GetElapsedTime(start).TotalSeconds);
        return done >= wanted ? 0 : 1;
    }

    // Approves subscription requests, counts approvals of our own, and answers roster pushes (RFC 6121 §2.1.6).
    private static async Task ApproveAsync(LoadConnection c, SemaphoreSlim gate, int[] approved, int self, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var e = await c.ReadElementAsync(ct);
                var from = e.GetAttribute("from");
                if (e.LocalName == "presence" && e.GetAttribute("type") == "subscribe" && from is not null)
                    await SendAsync(c, gate, Presence("subscribed", from), ct);
                else if (e.LocalName == "presence" && e.GetAttribute("type") == "subscribed")
                    Interlocked.Increment(ref approved[self]);
                else if (e.LocalName == "iq" && e.GetAttribute("type") == "set" && e.Child("query", Ns.Roster) is not null)
                    await SendAsync(c, gate, new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", e.GetAttribute("id")), ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or LoadException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The scenario ended or the stream did.
        }
    }

    private static Element Presence(string type, string to) =>
        new Element("presence", Ns.Client).SetAttribute("type", type).SetAttribute("to", to);

    private static async Task SendAsync(LoadConnection c, SemaphoreSlim gate, Element e, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try { await c.SendAsync(e, ct); }
        finally { gate.Release(); }
    }

    private static long Sum(int[] values)
    {
        long sum = 0;
        for (var i = 0; i < values.Length; i++) sum += Volatile.Read(ref values[i]);
        return sum;
    }
}
