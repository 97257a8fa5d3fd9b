using System.Diagnostics;

namespace Parley.Interop.Tests;

/// <summary>Runs a Python script with Debian's /usr/bin/python3, which is the only interpreter that sees python3-slixmpp.</summary>
public static class PythonPeer
{
    public const string Python = "/usr/bin/python3";

    public static async Task<(int ExitCode, string Output)> RunAsync(string script, IEnumerable<string> args, TimeSpan timeout)
    {
        if (!File.Exists(Python))
            Assert.Fail($"{Python} is missing: the test command installs Debian's python3-slixmpp; run it as root or install the package");
        var path = Path.Combine(AppContext.BaseDirectory, script);
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.ArgumentList.Add(path);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{script} did not finish within {timeout}: {await stdout}\n{await stderr}");
        }
        var output = await stdout + await stderr;
        if (output.Contains("ModuleNotFoundError: No module named 'slixmpp'", StringComparison.Ordinal))
            Assert.Fail("python3-slixmpp is not installed: the README test command installs it (apt-get install python3-slixmpp)");
        return (process.ExitCode, output);
    }
}
