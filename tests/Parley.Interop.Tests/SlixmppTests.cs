namespace Parley.Interop.Tests;

/// <summary>Parley against slixmpp 1.8 (Debian's python3-slixmpp), an XMPP client we did not write.</summary>
public sealed class SlixmppTests(InteropServer server) : IClassFixture<InteropServer>
{
    private const string Script = "slixmpp/parley_slix.py";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private List<string> Args(string command, string jid, string password, int port, string? mechanism, bool directTls = false)
    {
        var args = new List<string> { command, "--jid", jid, "--password", password, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", server.CertificatePath, "--timeout", "30" };
        if (mechanism is not null) args.AddRange(["--mechanism", mechanism]);
        if (directTls) args.Add("--direct-tls");
        return args;
    }

    [Fact]
    public async Task Slixmpp_logs_in_with_scram_sha_256_over_starttls()
    {
        var (code, output) = await PythonPeer.RunAsync(Script, Args("login", "alice@localhost/slix", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256"), Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("LOGIN OK alice@localhost/slix SCRAM-SHA-256", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slixmpp_logs_in_with_scram_sha_1_over_direct_tls()
    {
        var (code, output) = await PythonPeer.RunAsync(Script, Args("login", "bob@localhost/direct", InteropServer.Password, server.DirectTlsPort, "SCRAM-SHA-1", directTls: true), Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("LOGIN OK bob@localhost/direct SCRAM-SHA-1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slixmpp_picks_its_own_mechanism_and_logs_in()
    {
        var (code, output) = await PythonPeer.RunAsync(Script, Args("login", "alice@localhost/auto", InteropServer.Password, server.StartTlsPort, null), Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("LOGIN OK alice@localhost/auto SCRAM-", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slixmpp_with_a_wrong_password_is_refused_with_not_authorized()
    {
        var (code, output) = await PythonPeer.RunAsync(Script, Args("login", "alice@localhost/bad", "not the password", server.StartTlsPort, "SCRAM-SHA-256"), Timeout);
        Assert.NotEqual(0, code);
        Assert.Contains("LOGIN FAILED not-authorized", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slixmpp_sends_a_message_to_another_accounts_full_jid_and_it_arrives_stamped()
    {
        var args = Args("message", "alice@localhost/sender", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "bob@localhost/receiver", "--body", "Grüße aus slixmpp"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("RECEIVED from=alice@localhost/sender to=bob@localhost/receiver body=Grüße aus slixmpp", output, StringComparison.Ordinal);
    }
}
