using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.Interop.Tests.Gateway;

/// <summary>
/// A peer program run in the foreground as a child of the test, with its output kept for the failure message;
/// killed (with its children) when disposed. Every wait is bounded.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _name;

    private ChildProcess(string name, Process process)
    {
        _name = name;
        _process = process;
    }

    /// <summary>Starts <paramref name="file"/>; fails loudly when the program is not installed.</summary>
    public static ChildProcess Start(string file, string arguments, string package) =>
        Start(new ProcessStartInfo(file, arguments), package);

    /// <summary>Starts <paramref name="file"/> with arguments passed as they are and extra environment variables.</summary>
    public static ChildProcess Start(string file, IEnumerable<string> arguments, string package, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file, arguments);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        return Start(info, package);
    }

    private static ChildProcess Start(ProcessStartInfo info, string package)
    {
        var file = info.FileName;
        if (!File.Exists(file))
            throw new InvalidOperationException($"Debian's {package} is not installed: run the README's test command as root, or apt-get install {package}");
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        var process = Process.Start(info)!;
        var child = new ChildProcess(Path.GetFileName(file), process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            // The latest output is what explains a failure; keep it bounded.
            if (_output.Length > 200_000) _output.Remove(0, 100_000);
            _output.AppendLine(line);
        }
    }

    /// <summary>What the program has written so far (its latest lines).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Waits until something listens on the loopback port, or fails with the program's output.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{_name} exited ({_process.ExitCode}): {Output}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (SocketException)
            {
                throw new InvalidOperationException($"{_name} did not listen on {port} within {timeout.TotalSeconds} s: {Output}");
            }
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, or fails with the program's output.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_process.HasExited) throw new InvalidOperationException($"{_name} exited ({_process.ExitCode}) before {what}: {Output}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds} s; {_name} said: {Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>A free TCP port on loopback (for a peer's configuration file).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        _process.Dispose();
    }
}
