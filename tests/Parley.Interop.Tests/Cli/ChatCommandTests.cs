using System.Diagnostics;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Interop.Tests.Cli;

/// <summary>
/// `parley chat` as a person uses it: the built CLI in a 100x30 tmux session (its own socket), keys typed with
/// send-keys, the screen read with capture-pane, against a Parley server on 127.0.0.1.
/// </summary>
public sealed class ChatCommandTests(InteropServer server) : IClassFixture<InteropServer>
{
    private const string Tmux = "/usr/bin/tmux";
    private static readonly TimeSpan Total = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Chat_in_tmux_shows_online_shows_an_incoming_message_sends_with_msg_and_quits()
    {
        Assert.True(File.Exists(Tmux), $"{Tmux} is missing: the test command installs Debian's tmux; run it as root or install the package");
        var dll = BuiltOutput.Dll("src/Parley.Cli", "parley.dll");
        var socket = "parley-chat-" + Guid.NewGuid().ToString("N")[..12];
        const string session = "chat";
        var clock = Stopwatch.StartNew();
        await using var grace = await CliPeer.LoginAsync(server, "grace");
        try
        {
            await RunTmuxAsync(socket, ["new-session", "-d", "-s", session, "-x", "100", "-y", "30", "-e", "PARLEY_PASSWORD=" + InteropServer.Password,
                Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", dll, "chat", "--jid", "frank@localhost", .. CliPeer.Server(server)]);

            // The status line is printed before the prompt turns to [online]; the screen shows both.
            var screen = await ScreenContainingAsync(socket, session, "[online]", clock);
            Assert.Contains("online as frank@localhost/", screen, StringComparison.Ordinal);

            await grace.SendMessageAsync(Jid.Create("frank", InteropServer.Domain), "hello from the library");
            await ScreenContainingAsync(socket, session, "grace@localhost: hello from the library", clock);

            var arrived = CliPeer.NextMessageAsync(h => grace.MessageReceived += h, m => m.Body == "hi from tmux");
            await RunTmuxAsync(socket, ["send-keys", "-t", session, "-l", "/msg grace@localhost hi from tmux"]);
            await RunTmuxAsync(socket, ["send-keys", "-t", session, "Enter"]);
            var message = await arrived.WaitAsync(Remaining(clock));
            Assert.Equal(Jid.Create("frank", InteropServer.Domain), message.From?.Bare);
            await ScreenContainingAsync(socket, session, "me → grace@localhost: hi from tmux", clock);

            await RunTmuxAsync(socket, ["send-keys", "-t", session, "-l", "/quit"]);
            await RunTmuxAsync(socket, ["send-keys", "-t", session, "Enter"]);
            // The session ends with its only program: has-session fails once parley has exited.
            while ((await RunTmuxAsync(socket, ["has-session", "-t", session], check: false)).Code == 0)
            {
                Assert.True(clock.Elapsed < Total, "parley chat did not exit after /quit:\n" + await CaptureAsync(socket, session));
                await Task.Delay(200);
            }
        }
        finally
        {
            await RunTmuxAsync(socket, ["kill-session", "-t", session], check: false);
            await RunTmuxAsync(socket, ["kill-server"], check: false);
        }
    }

    private static TimeSpan Remaining(Stopwatch clock) => Total - clock.Elapsed > TimeSpan.Zero ? Total - clock.Elapsed : TimeSpan.Zero;

    // Polls the screen until it shows the text, within what is left of the test's 30 seconds.
    private static async Task<string> ScreenContainingAsync(string socket, string session, string text, Stopwatch clock)
    {
        while (true)
        {
            var screen = await CaptureAsync(socket, session);
            if (screen.Contains(text, StringComparison.Ordinal)) return screen;
            Assert.True(clock.Elapsed < Total, $"the screen never showed '{text}':\n{screen}");
            await Task.Delay(200);
        }
    }

    private static async Task<string> CaptureAsync(string socket, string session) =>
        (await RunTmuxAsync(socket, ["capture-pane", "-p", "-J", "-t", session], check: false)).Output;

    private static async Task<(int Code, string Output)> RunTmuxAsync(string socket, string[] args, bool check = true)
    {
        var start = new ProcessStartInfo(Tmux) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add(socket);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("tmux " + string.Join(' ', args) + " did not finish");
        }
        if (check && process.ExitCode != 0) Assert.Fail($"tmux {string.Join(' ', args)} failed: {await error}");
        return (process.ExitCode, await output);
    }
}
