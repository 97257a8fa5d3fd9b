using System.Globalization;
using Parley.Benchmarks;

// `interleaved [seconds]`: the parser against XmlReader in one process (see Interleaved); anything else goes to
// BenchmarkDotNet.
if (args.Length > 0 && args[0] == "interleaved")
{
    Interleaved.Run(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 30);
    return;
}
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
