using System.Globalization;
using Parley.Benchmarks;

// `interleaved [seconds]`: the parser against XmlReader in one process (see Interleaved); `paired seconds method
// dir...`: builds of the parser against each other in one process (see Paired); anything else goes to
// BenchmarkDotNet.
if (args.Length > 0 && args[0] == "interleaved")
{
    Interleaved.Run(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 30);
    return;
}
if (args.Length > 0 && args[0] == "paired")
{
    if (args.Length < 4)
    {
        Console.Error.WriteLine("usage: paired <seconds> <FramerBenchmarks method> <build directory>...");
        Environment.ExitCode = 2;
        return;
    }
    Paired.Run(double.Parse(args[1], CultureInfo.InvariantCulture), args[2], args[3..]);
    return;
}
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
