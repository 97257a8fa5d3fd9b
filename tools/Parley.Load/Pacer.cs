using System.Diagnostics;
using System.IO.Pipelines;

namespace Parley.Load;

/// <summary>
/// Offers stanzas at a fixed rate, open loop: at every tick it sends as many as are due by then, whatever was late
/// before, from senders picked at random among its own. Pacers own disjoint sets of senders, so that no two ever
/// write to one connection at once.
/// </summary>
internal static class Pacer
{
    /// <summary>Writes one stanza from <c>sender</c> into its writer (using the pacer's random source); returns the stamp.</summary>
    public delegate long Send(Random random, int sender, PipeWriter writer);

    /// <summary>Runs <paramref name="pacers"/> pacers over <paramref name="online"/> until <paramref name="end"/> (Stopwatch ticks).</summary>
    public static Task RunAsync(SessionPool pool, List<int> online, int pacers, double rate, long start, long end, Send send,
        MarkedTraffic traffic, Func<int, int> expected, CancellationToken ct)
    {
        var tasks = new Task[pacers];
        for (var p = 0; p < pacers; p++)
        {
            var mine = new List<int>();
            for (var k = p; k < online.Count; k += pacers) mine.Add(online[k]);
            tasks[p] = Task.Run(() => PaceAsync(pool, mine.ToArray(), rate / pacers, start, end, send, traffic, expected, ct), ct);
        }
        return Task.WhenAll(tasks);
    }

    /// <summary>How many pacers an offered rate wants: one per 2,000 stanzas a second, at most 8 and at most one per sender.</summary>
    public static int For(double rate, int senders) => Math.Clamp((int)(rate / 2000) + 1, 1, Math.Min(8, senders));

    private static async Task PaceAsync(SessionPool pool, int[] senders, double rate, long start, long end, Send send,
        MarkedTraffic traffic, Func<int, int> expected, CancellationToken ct)
    {
        long sent = 0;
        var random = new Random(senders[0]);
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end) return;
            var due = (long)((now - start) / (double)Stopwatch.Frequency * rate);
            for (; sent < due; sent++)
            {
                var from = senders[random.Next(senders.Length)];
                var writer = pool.Connections[from]!.Writer;
                var stamp = send(random, from, writer);
                if (traffic.InWindow(stamp))
                {
                    Interlocked.Increment(ref traffic.SentInWindow);
                    Interlocked.Add(ref traffic.ExpectedInWindow, expected(from));
                }
                var flush = writer.FlushAsync(ct);
                if (!flush.IsCompletedSuccessfully) await flush;
            }
            await Task.Delay(1, ct);
        }
    }
}
