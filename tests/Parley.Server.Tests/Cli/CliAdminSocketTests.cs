using Parley.Cli;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Cli;

/// <summary>The CLI twins of the XEP-0133 commands, which reach the running server over its admin socket.</summary>
public sealed class CliAdminSocketTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(TestServer server, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] all = [.. args, "--data", server.DataDirectory, "--Domain=" + TestServer.Domain];
        var code = await ParleyCli.RunAsync(all, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Online_lists_and_counts_the_accounts_with_sessions()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice", "one");
        await using var alice2 = await server.LoginAsync("alice", "two");
        await using var bob = await server.LoginAsync("bob");

        var list = await RunAsync(server, "online");
        Assert.Equal(0, list.Code);
        var lines = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["alice@example.test", "bob@example.test", "2 account(s) online in 3 session(s)"], lines);

        var count = await RunAsync(server, "online", "--count");
        Assert.Equal("2", count.Out.Trim());
    }

    [Fact]
    public async Task Announce_reaches_every_online_session_as_a_headline_from_the_server()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var sent = await RunAsync(server, "announce", "--subject", "Maintenance", "Back in five");
        Assert.Equal(0, sent.Code);
        Assert.Contains("Sent to 1 session(s)", sent.Out, StringComparison.Ordinal);
        using var timeout = new CancellationTokenSource(5000);
        var heard = await alice.ReceiveAsync(timeout.Token);
        Assert.Equal("headline", heard.GetAttribute("type"));
        Assert.Equal("Maintenance", heard.ChildText("subject", Ns.Client));
        Assert.Equal("Back in five", heard.ChildText("body", Ns.Client));
    }

    [Fact]
    public async Task User_delete_while_the_server_runs_ends_the_accounts_sessions()
    {
        await using var server = await TestServer.StartAsync(new() { ["Storage"] = "sqlite" });
        await using var carol = await server.LoginAsync("carol");
        var deleted = await RunAsync(server, "user", "delete", "carol");
        Assert.Equal(0, deleted.Code);
        await carol.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("not-authorized", carol.RemoteStreamError?.ConditionName);
    }

    [Fact]
    public async Task Online_without_a_running_server_says_so_with_exit_code_1()
    {
        var data = Path.Combine(Path.GetTempPath(), "parley-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var code = await ParleyCli.RunAsync(["online", "--data", data], output, error);
            Assert.Equal(1, code);
            Assert.Contains("No running server answers", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_second_server_on_the_same_data_directory_is_refused_while_a_stale_socket_is_replaced()
    {
        await using var server = await TestServer.StartAsync();
        var socket = Path.Combine(server.DataDirectory, "run", "parley.sock");
        Assert.True(File.Exists(socket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(socket)!));
        var e = Assert.Throws<InvalidOperationException>(() => Admin.AdminSocketListener.PreparePath(socket));
        Assert.Contains("Another Parley server", e.Message, StringComparison.Ordinal);

        var stale = Path.Combine(server.DataDirectory, "stale", "parley.sock");
        Directory.CreateDirectory(Path.GetDirectoryName(stale)!);
        await File.WriteAllTextAsync(stale, "");
        Admin.AdminSocketListener.PreparePath(stale);
        Assert.False(File.Exists(stale));
    }
}
