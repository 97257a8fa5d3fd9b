using System.Net.Sockets;
using System.Text;

namespace Parley.Interop.Tests.Gateway;

/// <summary>
/// A tiny IRC client (RFC 1459 / 2812) over a raw socket: registers a nick, answers PINGs, joins channels and waits
/// for lines. Every wait is bounded.
/// </summary>
public sealed class IrcClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly StringBuilder _seen = new();

    private IrcClient(TcpClient tcp)
    {
        _tcp = tcp;
        var stream = tcp.GetStream();
        _reader = new StreamReader(stream, new UTF8Encoding(false));
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
    }

    /// <summary>Connects and registers; returns once the server has welcomed the nick (001).</summary>
    public static async Task<IrcClient> ConnectAsync(int port, string nick)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new IrcClient(tcp);
        await client.SendAsync($"NICK {nick}");
        await client.SendAsync($"USER {nick} 0 * :{nick}");
        await client.WaitForAsync(l => Command(l) == "001", "the welcome (001)");
        return client;
    }

    public Task SendAsync(string line) => _writer.WriteLineAsync(line);

    /// <summary>Joins a channel and waits for the end of its names list (366).</summary>
    public async Task JoinAsync(string channel)
    {
        await SendAsync($"JOIN {channel}");
        await WaitForAsync(l => Command(l) == "366", $"the names of {channel} (366)");
    }

    /// <summary>Reads lines until one matches (answering PINGs on the way); returns it.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, string what, int timeoutSeconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (true)
        {
            string? line;
            try
            {
                line = await _reader.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"IRC: {what} did not arrive within {timeoutSeconds} s; got:\n{_seen}");
            }
            if (line is null) throw new EndOfStreamException($"IRC: closed before {what}; got:\n{_seen}");
            _seen.AppendLine(line);
            if (line.StartsWith("PING ", StringComparison.Ordinal))
            {
                await SendAsync("PONG " + line[5..]);
                continue;
            }
            if (match(line)) return line;
        }
    }

    /// <summary>The command (or numeric) of a line such as ":server 001 nick :Welcome".</summary>
    public static string Command(string line)
    {
        var parts = line.Split(' ', 3);
        return line.StartsWith(':') ? (parts.Length > 1 ? parts[1] : "") : parts[0];
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SendAsync("QUIT :bye");
        }
        catch (IOException)
        {
        }
        _tcp.Dispose();
    }
}
