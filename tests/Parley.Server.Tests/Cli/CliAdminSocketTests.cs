using Parley.Cli;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Cli;

/// <summary>The CLI face of the admin command registry, which reaches the running server over its admin socket.</summary>
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

    [Fact]
    public async Task Registry_commands_run_on_the_running_server_with_tables_json_and_exit_codes()
    {
        await using var server = await TestServer.StartAsync(new() { ["Storage"] = "sqlite" });
        await using var alice = await server.LoginAsync("alice", "laptop");

        var sessions = await RunAsync(server, "session", "list");
        Assert.Equal(0, sessions.Code);
        var lines = sessions.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("JID", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("alice@example.test/laptop", lines[1], StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync(server, "room", "create", "standup", "--name", "Daily", "--persistent")).Code);
        var again = await RunAsync(server, "room", "create", "standup");
        Assert.Equal(1, again.Code);
        Assert.Contains("already exists", again.Err, StringComparison.Ordinal);
        var rooms = await RunAsync(server, "room", "list", "--json");
        var json = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(rooms.Out)!;
        Assert.Equal("standup@conference.example.test", json["data"]!["rooms"]![0]!["room"]!.GetValue<string>());
        Assert.Equal(0, (await RunAsync(server, "room", "destroy", "standup", "--reason", "Moved")).Code);

        // One message from a client, then a round trip so the server has read it.
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", "alice@example.test/laptop").SetAttribute("type", "chat")
            .Add(new Element("body", Ns.Client).AddText("counted")));
        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", "urn:xmpp:ping")));
        var stats = await RunAsync(server, "stats");
        Assert.Equal(0, stats.Code);
        Assert.Contains("messages_per_minute: 1", stats.Out, StringComparison.Ordinal);
        Assert.Contains("sessions: 1", stats.Out, StringComparison.Ordinal);
        Assert.Contains("rooms: 0", stats.Out, StringComparison.Ordinal);

        Assert.Equal(2, (await RunAsync(server, "session", "kick", "not a jid@@")).Code);
        Assert.Equal(1, (await RunAsync(server, "session", "kick", "nobody@example.test")).Code);
        Assert.Equal(0, (await RunAsync(server, "session", "kick", "alice@example.test", "--reason", "Maintenance")).Code);
        await alice.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("policy-violation", alice.RemoteStreamError?.ConditionName);

        var cert = await RunAsync(server, "cert", "status");
        Assert.Equal(0, cert.Code);
        Assert.Contains("matches_domain: yes", cert.Out, StringComparison.Ordinal);
        var log = await RunAsync(server, "log", "tail", "--lines", "50");
        Assert.Contains("Admin command 'cert status' by cli", log.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_and_the_configuration_work_without_a_server_and_secrets_never_show()
    {
        var data = Path.Combine(Path.GetTempPath(), "parley-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            async Task<(int Code, string Out, string Err)> Offline(params string[] args)
            {
                var output = new StringWriter();
                var error = new StringWriter();
                var code = await ParleyCli.RunAsync([.. args, "--data", data, "--ExternalServices:0:Host=turn.example.test", "--ExternalServices:0:Type=turn", "--ExternalServices:0:Secret=hunter2-turn-secret"], output, error);
                return (code, output.ToString(), error.ToString());
            }
            var created = await Offline("token", "create", "ci", "--days", "30");
            Assert.Equal(0, created.Code);
            var token = System.Text.RegularExpressions.Regex.Match(created.Out, "parley_[A-Za-z0-9_-]+").Value;
            Assert.NotEmpty(token);
            var listed = await Offline("token", "list");
            Assert.Contains("ci", listed.Out, StringComparison.Ordinal);
            Assert.DoesNotContain(token, listed.Out, StringComparison.Ordinal);
            foreach (var file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories))
                Assert.DoesNotContain(token, await File.ReadAllTextAsync(file), StringComparison.Ordinal);

            var config = await Offline("config", "show");
            Assert.Equal(0, config.Code);
            Assert.Contains("ExternalServices:0:Secret", config.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2-turn-secret", config.Out, StringComparison.Ordinal);

            var online = await Offline("session", "list");
            Assert.Equal(1, online.Code);
            Assert.Contains("No running server answers", online.Err, StringComparison.Ordinal);
            Assert.Equal(0, (await Offline("token", "revoke", "ci")).Code);
            Assert.Equal(1, (await Offline("token", "revoke", "ci")).Code);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }
}
