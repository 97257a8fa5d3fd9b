using System.Diagnostics;
using System.Globalization;

namespace Parley.Benchmarks;

/// <summary>
/// The parser against XmlReader on a shared, noisy machine: BenchmarkDotNet runs each method in its own process one
/// after the other, so a busy spell (or XmlReader's many methods still tiering up after a short warm-up) lands on one
/// side only. This runs <see cref="FramerBenchmarks"/>' methods in one process instead, alternating batches of 10
/// runs of XmlReader_all_nodes and of each framer variant for the given time, and keeps the fastest batch of each, so
/// both sides are measured warm and under the same load. <c>dotnet run -c Release --project bench/Parley.Benchmarks
/// -- interleaved [seconds]</c>.
/// </summary>
public static class Interleaved
{
    public static void Run(double seconds)
    {
        var bench = new FramerBenchmarks();
        bench.Setup();
        (string Name, Func<int> Run)[] variants =
        [
            ("Framer_one_segment", bench.Framer_one_segment),
            ("Framer_4KiB_reads", bench.Framer_4KiB_reads),
            ("Framer_one_segment_routing_reads", bench.Framer_one_segment_routing_reads),
            ("Framer_one_segment_read_all", bench.Framer_one_segment_read_all),
        ];
        var reader = double.MaxValue;
        var best = new double[variants.Length];
        Array.Fill(best, double.MaxValue);
        var allocated = new long[variants.Length];
        for (var i = 0; i < variants.Length; i++)
        {
            variants[i].Run();
            var before = GC.GetAllocatedBytesForCurrentThread();
            variants[i].Run();
            allocated[i] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        var clock = Stopwatch.StartNew();
        // Bounded by the time given (at least one round).
        do
        {
            reader = Math.Min(reader, Batch(bench.XmlReader_all_nodes));
            for (var i = 0; i < variants.Length; i++) best[i] = Math.Min(best[i], Batch(variants[i].Run));
        }
        while (clock.Elapsed.TotalSeconds < seconds);

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"{"Method",-34} {"Fastest batch",14} {"vs XmlReader",13} {"Alloc/stanza",13}"));
        Console.WriteLine(string.Create(c, $"{"XmlReader_all_nodes",-34} {reader,11:F3} ms {1,12:F2}x {"",13}"));
        for (var i = 0; i < variants.Length; i++)
            Console.WriteLine(string.Create(c, $"{variants[i].Name,-34} {best[i],11:F3} ms {reader / best[i],12:F2}x {allocated[i] / (double)Corpus.StanzaCount,11:F0} B"));
    }

    // Milliseconds a run, over a batch of 10 runs.
    internal static double Batch(Func<int> run)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++) run();
        return clock.Elapsed.TotalMilliseconds / 10;
    }
}
