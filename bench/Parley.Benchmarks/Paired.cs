using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;

namespace Parley.Benchmarks;

/// <summary>
/// Two or more builds of the parser against each other in one process: each directory is a build output of this
/// project (<c>bin/Release/net10.0</c> copied aside before a change, and after it), loaded into its own
/// <see cref="AssemblyLoadContext"/> with its own Parley assemblies, and batches of 10 runs of one
/// <see cref="FramerBenchmarks"/> method alternate between them for the given time, the order rotating each round.
/// Two builds of the same code still differ by up to 3 % (where their code lands), so only larger differences count;
/// separate processes on this shared machine drift by more than that within minutes.
/// <c>dotnet run -c Release --project bench/Parley.Benchmarks -- paired 40 Framer_one_segment /tmp/before /tmp/after</c>.
/// </summary>
public static class Paired
{
    public static void Run(double seconds, string method, IReadOnlyList<string> directories)
    {
        var runs = new Func<int>[directories.Count];
        for (var i = 0; i < runs.Length; i++)
        {
            var directory = Path.GetFullPath(directories[i]);
            var context = new BuildContext(directory);
            var assembly = context.LoadFromAssemblyPath(Path.Combine(directory, "Parley.Benchmarks.dll"));
            var type = assembly.GetType(typeof(FramerBenchmarks).FullName!, throwOnError: true)!;
            var bench = Activator.CreateInstance(type)!;
            type.GetMethod(nameof(FramerBenchmarks.Setup))!.Invoke(bench, null);
            var target = type.GetMethod(method) ?? throw new ArgumentException($"FramerBenchmarks has no method '{method}'");
            runs[i] = target.CreateDelegate<Func<int>>(bench);
        }
        // Warm-up: every build's code reaches its final tier before anything is timed.
        for (var w = 0; w < 300; w++)
            foreach (var run in runs) run();

        var samples = new List<double>[runs.Length];
        for (var i = 0; i < runs.Length; i++) samples[i] = [];
        var clock = Stopwatch.StartNew();
        // Bounded by the time given (at least one round).
        for (var round = 0; round == 0 || clock.Elapsed.TotalSeconds < seconds; round++)
        {
            for (var k = 0; k < runs.Length; k++)
            {
                var i = (k + round) % runs.Length;
                samples[i].Add(Interleaved.Batch(runs[i]));
            }
        }

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"{"Build",-40} {"fastest",10} {"10th pct",10} {"median",10} {"batches",8}"));
        for (var i = 0; i < runs.Length; i++)
        {
            var sorted = samples[i].Order().ToArray();
            Console.WriteLine(string.Create(c,
                $"{directories[i],-40} {sorted[0],7:F4} ms {sorted[sorted.Length / 10],7:F4} ms {sorted[sorted.Length / 2],7:F4} ms {sorted.Length,8}"));
        }
    }

    // Parley's assemblies from the build's directory; everything else (the framework, BenchmarkDotNet) shared.
    private sealed class BuildContext(string directory) : AssemblyLoadContext(isCollectible: false)
    {
        protected override Assembly? Load(AssemblyName name)
        {
            var path = Path.Combine(directory, name.Name + ".dll");
            return name.Name!.StartsWith("Parley", StringComparison.Ordinal) && File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
