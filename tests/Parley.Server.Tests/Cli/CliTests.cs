using Parley.Cli;

namespace Parley.Server.Tests.Cli;

/// <summary>The `parley` command line, run in-process against a temporary data directory.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "parley-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    private async Task<(int Code, string Out, string Err)> RunAsync(string? stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ParleyCli.RunAsync(args, output, error, stdin is null ? null : new StringReader(stdin));
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task User_add_list_passwd_delete_work_non_interactively()
    {
        var add = await RunAsync(null, "user", "add", "alice@localhost", "--password", "s3cret", "--data", _data);
        Assert.Equal(0, add.Code);
        Assert.Contains("Created alice@localhost", add.Out, StringComparison.Ordinal);

        var addBob = await RunAsync(null, "user", "add", "Bob", "--password", "pw", "--data", _data);
        Assert.Equal(0, addBob.Code);

        var list = await RunAsync(null, "user", "list", "--data", _data);
        Assert.Equal(0, list.Code);
        Assert.Equal(["alice@localhost", "bob@localhost"], list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var again = await RunAsync(null, "user", "add", "alice", "--password", "x", "--data", _data);
        Assert.Equal(1, again.Code);
        Assert.Contains("already exists", again.Err, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync(null, "user", "passwd", "alice", "--password", "new", "--data", _data)).Code);
        Assert.Equal(0, (await RunAsync(null, "user", "delete", "alice", "--data", _data)).Code);
        var missing = await RunAsync(null, "user", "delete", "alice", "--data", _data);
        Assert.Equal(1, missing.Code);
        Assert.Contains("does not exist", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_add_reads_the_password_from_input_when_the_option_is_left_out()
    {
        var add = await RunAsync("typed-password\n", "user", "add", "carol", "--data", _data);
        Assert.Equal(0, add.Code);
        Assert.Contains("Created carol@localhost", add.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_keeps_only_salted_keys_never_the_password()
    {
        const string password = "a very recognisable password 12345";
        Assert.Equal(0, (await RunAsync(null, "user", "add", "dave", "--password", password, "--data", _data)).Code);
        foreach (var file in Directory.GetFiles(_data, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.DoesNotContain(password, System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
            Assert.DoesNotContain(password, System.Text.Encoding.Unicode.GetString(bytes), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_jid_of_another_domain_is_refused_with_exit_code_2()
    {
        var r = await RunAsync(null, "user", "add", "alice@elsewhere.example", "--password", "x", "--data", _data);
        Assert.Equal(2, r.Code);
        Assert.Contains("not an account of this server", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_configuration_value_is_named_by_its_key()
    {
        var config = Path.Combine(Path.GetTempPath(), "parley-bad-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(config, """{ "C2s": { "Port": 70000 }, "Limits": { "MaxStanzaBytes": 5 } }""");
        try
        {
            var r = await RunAsync(null, "check", "--config", config, "--data", _data);
            Assert.Equal(2, r.Code);
            Assert.Contains("C2s:Port", r.Err, StringComparison.Ordinal);
            Assert.Contains("Limits:MaxStanzaBytes", r.Err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_named_by_its_key()
    {
        var r = await RunAsync(null, "check", "--data", _data, "--Limits:MaxConnections=lots");
        Assert.Equal(2, r.Code);
        Assert.Contains("Limits:MaxConnections", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Environment_variables_with_the_parley_prefix_configure_the_server()
    {
        Environment.SetEnvironmentVariable("PARLEY_Limits__MaxResourcesPerAccount", "zero");
        try
        {
            var r = await RunAsync(null, "check", "--data", _data, "--C2s:Port=0", "--C2sDirectTls:Port=0", "--Upload:Port=0", "--S2s:Port=0");
            Assert.Equal(2, r.Code);
            Assert.Contains("Limits:MaxResourcesPerAccount", r.Err, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PARLEY_Limits__MaxResourcesPerAccount", null);
        }
        var domain = await RunAsync(null, "user", "add", "erin", "--password", "pw", "--data", _data);
        Assert.Contains("erin@localhost", domain.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_configuration_file_is_a_clear_error()
    {
        var r = await RunAsync(null, "serve", "--config", "/nonexistent/parley.json", "--data", _data);
        Assert.Equal(2, r.Code);
        Assert.Contains("not found", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cert_generate_then_show_and_check_agree_on_the_domain()
    {
        var gen = await RunAsync(null, "cert", "generate", "--data", _data, "--Domain=chat.example.test");
        Assert.Equal(0, gen.Code);
        Assert.Contains("Matches chat.example.test: yes", gen.Out, StringComparison.Ordinal);

        var again = await RunAsync(null, "cert", "generate", "--data", _data, "--Domain=chat.example.test");
        Assert.Equal(1, again.Code);

        var show = await RunAsync(null, "cert", "show", "--data", _data, "--Domain=chat.example.test");
        Assert.Equal(0, show.Code);
        Assert.Contains("self-signed", show.Out, StringComparison.Ordinal);

        var check = await RunAsync(null, "check", "--data", _data, "--Domain=chat.example.test", "--C2s:Port=0", "--C2sDirectTls:Port=0", "--Upload:Port=0", "--S2s:Port=0");
        Assert.Equal(0, check.Code);
        Assert.Contains("cover chat.example.test", check.Out, StringComparison.Ordinal);

        var mismatch = await RunAsync(null, "check", "--data", _data, "--Domain=chat.example.test", "--C2s:Port=0", "--C2sDirectTls:Port=0", "--Upload:Port=0", "--S2s:Port=0",
            "--Tls:CertificatePath=" + Path.Combine(_data, "tls", "chat.example.test.crt"), "--Tls:KeyPath=" + Path.Combine(_data, "tls", "chat.example.test.key"), "--Domain=other.example.test");
        Assert.Equal(1, mismatch.Code);
        Assert.Contains("do not cover other.example.test", mismatch.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_exits_1_with_the_address_instead_of_crashing()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var r = await RunAsync(null, "serve", "--data", _data, "--C2s:Address=127.0.0.1", $"--C2s:Port={port}", "--C2sDirectTls:Port=0",
            "--Upload:Port=0", "--S2s:Enabled=false", "--AdminSocket:Enabled=false", "--Logging:LogLevel:Default=None");
        Assert.Equal(1, r.Code);
        Assert.Contains($"127.0.0.1:{port}", r.Err, StringComparison.Ordinal);
        Assert.Contains("address already in use", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_reports_a_port_in_use()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var r = await RunAsync(null, "check", "--data", _data, "--C2s:Address=127.0.0.1", $"--C2s:Port={port}", "--C2sDirectTls:Port=0", "--Upload:Port=0", "--S2s:Port=0");
        Assert.Equal(1, r.Code);
        Assert.Contains($"port {port} on 127.0.0.1 is in use", r.Out, StringComparison.Ordinal);
    }
}
