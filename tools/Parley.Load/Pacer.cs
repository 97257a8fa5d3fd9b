using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

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
    private static Task RunAsync(SessionPool pool, List<int> online, int pacers, double rate, long start, StrongBox<long> end, Send send,
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

    /// <summary>The longest a warm-up is extended while the server's CPU time per second is still falling.</summary>
    private static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Paces --rate stanzas a second over a warm-up and the measured window, waits up to <paramref name="maxDrain"/>
    /// for the window's late deliveries, and returns the CPU time the server and the generator spent in the window.
    /// The warm-up lasts --warmup, then goes on (at most <see cref="MaxWarmup"/> more, in seconds) while the server's
    /// CPU time per second under the same offered load still falls by more than a tenth from one second to the next:
    /// a .NET server recompiles its hot paths (tiered JIT) over its first seconds of a new kind of traffic, which
    /// doubled its CPU time per message in a window opened one second in (250 against 118-126 µs at 1,000 msg/s).
    /// </summary>
    public static async Task<WindowCost> MeasureAsync(LoadOptions o, SessionPool pool, List<int> online, Send send,
        MarkedTraffic traffic, Func<int, int> expected, TimeSpan maxDrain, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var end = new StrongBox<long>(long.MaxValue);
        traffic.OpenWindow(long.MaxValue, long.MaxValue);
        var pacing = RunAsync(pool, online, For(o.Rate, online.Count), o.Rate, start, end, send, traffic, expected, ct);

        await Task.Delay(o.Warmup, ct);
        var last = ProcessSample.Read(o.Pid);
        TimeSpan? lastSecond = null;
        for (var extra = TimeSpan.Zero; extra < MaxWarmup && last is not null; extra += TimeSpan.FromSeconds(1))
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            var now = ProcessSample.Read(o.Pid);
            if (now is null) break;
            var second = now.Value.Cpu - last.Value.Cpu;
            last = now;
            if (lastSecond is { } previous && second >= previous * 0.9) break;
            lastSecond = second;
        }
        // The window opens a little in the future, so that it is published before any message it counts is stamped:
        // a sender and a receiver then judge every stamp against the same window (one opened "now" let a message
        // stamped between reading the clock and publishing count as delivered but not as sent).
        var windowStart = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        var windowEnd = windowStart + (long)(o.Duration.TotalSeconds * Stopwatch.Frequency);
        traffic.OpenWindow(windowStart, windowEnd);
        if (Stopwatch.GetTimestamp() >= windowStart)
            Console.Error.WriteLine("note: this process stalled for 100 ms while opening the window; sent and delivered counts may differ by a message");
        Volatile.Write(ref end.Value, windowEnd);
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), windowStart);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
        var serverBefore = ProcessSample.Read(o.Pid);
        var selfBefore = ProcessSample.Read(Environment.ProcessId);
        await pacing;
        var serverAfter = ProcessSample.Read(o.Pid);
        var selfAfter = ProcessSample.Read(Environment.ProcessId);

        // Late stanzas of the window still count; wait for them a little.
        var drainStart = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref traffic.DeliveredInWindow) < Interlocked.Read(ref traffic.ExpectedInWindow) && Stopwatch.GetElapsedTime(drainStart) < maxDrain)
            await Task.Delay(20, ct);
        return new WindowCost(serverAfter?.Cpu - serverBefore?.Cpu, selfAfter?.Cpu - selfBefore?.Cpu, serverAfter?.RssKib);
    }

    /// <summary>How many pacers an offered rate wants: one per 2,000 stanzas a second, at most 8 and at most one per sender.</summary>
    public static int For(double rate, int senders) => Math.Clamp((int)(rate / 2000) + 1, 1, Math.Min(8, senders));

    private static async Task PaceAsync(SessionPool pool, int[] senders, double rate, long start, StrongBox<long> end, Send send,
        MarkedTraffic traffic, Func<int, int> expected, CancellationToken ct)
    {
        long sent = 0;
        var random = new Random(senders[0]);
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= Volatile.Read(ref end.Value)) return;
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
