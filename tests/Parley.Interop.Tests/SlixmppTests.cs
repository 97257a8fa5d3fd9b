namespace Parley.Interop.Tests;

/// <summary>Parley against slixmpp 1.8 (Debian's python3-slixmpp), an XMPP client we did not write.</summary>
public sealed class SlixmppTests(InteropServer server) : IClassFixture<InteropServer>
{
    private const string Script = "slixmpp/parley_slix.py";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private List<string> Args(string command, string jid, string password, int port, string? mechanism, bool directTls = false, bool tls12 = false)
    {
        var args = new List<string> { command, "--jid", jid, "--password", password, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", server.CertificatePath, "--timeout", "30" };
        // A pinned non-PLUS mechanism is tested as a client without channel binding (see parley_slix.py).
        if (mechanism is not null) args.AddRange(["--mechanism", mechanism, "--no-channel-binding"]);
        if (tls12) args.Add("--tls12");
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Slixmpp_left_to_its_defaults_binds_to_the_channel_with_scram_plus(bool tls12)
    {
        var (code, output) = await PythonPeer.RunAsync(Script, Args("login", "alice@localhost/auto", InteropServer.Password, server.StartTlsPort, null, tls12: tls12), Timeout);
        Assert.True(code == 0, output);
        Assert.Matches("LOGIN OK alice@localhost/auto SCRAM-SHA-[0-9]+-PLUS", output);
    }

    [Fact]
    public async Task Rfc5802_6_slixmpp_claiming_no_plus_was_offered_is_refused()
    {
        // slixmpp 1.8 sends the 'y' flag with a pinned non-PLUS mechanism although -PLUS was offered.
        var args = Args("login", "alice@localhost/y", InteropServer.Password, server.StartTlsPort, null);
        args.AddRange(["--mechanism", "SCRAM-SHA-256"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.NotEqual(0, code);
        Assert.Contains("LOGIN FAILED", output, StringComparison.Ordinal);
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

    [Fact]
    public async Task Rfc6121_slixmpp_users_subscribe_to_each_other_see_presence_and_a_dropped_connection()
    {
        var args = Args("subscribe", "carol@localhost/slix", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "dave@localhost/slix"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("ROSTER carol@localhost has dave@localhost as both", output, StringComparison.Ordinal);
        Assert.Contains("ROSTER dave@localhost has carol@localhost as both", output, StringComparison.Ordinal);
        Assert.Contains("PRESENCE dave@localhost sees carol@localhost away", output, StringComparison.Ordinal);
        Assert.Contains("UNAVAILABLE carol@localhost sees dave@localhost/slix gone", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0160_a_message_to_an_offline_slixmpp_user_arrives_delay_stamped_at_login()
    {
        var args = Args("offline", "erin@localhost/slix", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "frank@localhost", "--body", "while you were out"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("OFFLINE body=while you were out delayed=yes", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc6121_2_slixmpp_sets_a_named_grouped_item_its_other_resource_is_pushed_it_and_removal()
    {
        var args = Args("roster", "grace@localhost/first", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "heidi@localhost"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("PUSH heidi@localhost name=Buddy groups=Friends,Work subscription=none", output, StringComparison.Ordinal);
        Assert.Contains("GET heidi@localhost name=Buddy groups=Friends,Work", output, StringComparison.Ordinal);
        Assert.Contains("REMOVED heidi@localhost", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc6121_8_5_2_1_1_a_bare_jid_message_reaches_only_the_highest_priority_slixmpp_resource()
    {
        var args = Args("priority", "ivan@localhost/sender", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "judy@localhost"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("HIGH got body=to the bare jid", output, StringComparison.Ordinal);
        Assert.Contains("LOW first body=to the low resource", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0191_slixmpp_blocks_a_sender_who_is_refused_until_unblocked()
    {
        var args = Args("block", "oscar@localhost/slix", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "mallory@localhost/slix"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("BLOCKLIST mallory@localhost", output, StringComparison.Ordinal);
        Assert.Contains("REFUSED service-unavailable", output, StringComparison.Ordinal);
        Assert.Contains("DELIVERED body=thanks", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0077_slixmpp_registers_in_band_changes_its_password_and_removes_the_account()
    {
        var args = Args("register", "newcomer@localhost/slix", "first-password", server.StartTlsPort, "SCRAM-SHA-256");
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("REGISTERED", output, StringComparison.Ordinal);
        Assert.Contains("LOGIN OK newcomer@localhost/slix", output, StringComparison.Ordinal);
        Assert.Contains("PASSWORD CHANGED", output, StringComparison.Ordinal);
        Assert.Contains("LOGIN OK with the new password", output, StringComparison.Ordinal);
        Assert.Contains("REMOVED", output, StringComparison.Ordinal);
        Assert.Contains("AFTER REMOVAL not-authorized", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0198_slixmpp_resumes_its_session_after_the_tcp_connection_is_cut_and_gets_what_arrived_meanwhile()
    {
        var args = Args("smresume", "peggy@localhost/phone", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "victor@localhost/desk"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("SM ENABLED", output, StringComparison.Ordinal);
        Assert.Contains("GOT before the cut", output, StringComparison.Ordinal);
        Assert.Contains("RESUMED", output, StringComparison.Ordinal);
        Assert.Contains("GOT while you were cut off", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0280_a_slixmpp_resource_with_carbons_gets_received_and_sent_copies()
    {
        var args = Args("carbons", "trent@localhost", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "walter@localhost/desk"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("CARBONS ENABLED", output, StringComparison.Ordinal);
        Assert.Contains("RECEIVED COPY from=walter@localhost/desk to=trent@localhost/phone body=to the phone", output, StringComparison.Ordinal);
        Assert.Contains("SENT COPY from=trent@localhost/phone to=walter@localhost/desk body=from the phone", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0313_slixmpp_pages_through_the_archive_forwards_and_backwards()
    {
        var args = Args("mam", "yvonne@localhost/phone", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "zed@localhost/desk"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("FORWARD m0 m1 m2 m3 m4 m5 m6", output, StringComparison.Ordinal);
        Assert.Contains("BACKWARD m6 m5 m4 m3 m2 m1 m0", output, StringComparison.Ordinal);
        Assert.Contains("WITH 7", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0363_slixmpp_uploads_a_file_that_downloads_byte_for_byte()
    {
        var args = Args("upload", "alice@localhost/upload", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("SERVICE upload.localhost max=104857600", output, StringComparison.Ordinal);
        Assert.Contains("UPLOADED interop_test.bin", output, StringComparison.Ordinal);
        Assert.Contains("DOWNLOADED 200 application/octet-stream 100000 bytes identical", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0163_a_nickname_published_with_slixmpp_reaches_a_subscribed_contact_whose_caps_ask_for_it()
    {
        var args = Args("pep", "nina@localhost/phone", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--to", "otto@localhost/desk"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("EVENT from=nina@localhost nick=Ali from slixmpp", output, StringComparison.Ordinal);
        Assert.Contains("ITEMS 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0045_slixmpp_users_chat_in_a_room_the_owner_kicks_and_bans_and_a_late_joiner_gets_history_and_the_archive()
    {
        var args = Args("muc", "owner@localhost/slix", InteropServer.Password, server.StartTlsPort, "SCRAM-SHA-256");
        args.AddRange(["--suffix", "m"]);
        var (code, output) = await PythonPeer.RunAsync(Script, args, Timeout);
        Assert.True(code == 0, output);
        Assert.Contains("ROOM CREATED", output, StringComparison.Ordinal);
        Assert.Contains("CAROL GOT ('Bob', 'hello from bob')", output, StringComparison.Ordinal);
        Assert.Contains("OWNER GOT ('Bob', 'hello from bob')", output, StringComparison.Ordinal);
        Assert.Contains("BOB GOT pm:Carol a private word", output, StringComparison.Ordinal);
        Assert.Contains("MEMBERS ONLY", output, StringComparison.Ordinal);
        Assert.Contains("CAROL KICKED", output, StringComparison.Ordinal);
        Assert.Contains("CAROL REFUSED forbidden", output, StringComparison.Ordinal);
        Assert.Contains("DAVE HISTORY ['hello from bob']", output, StringComparison.Ordinal);
        Assert.Contains("ARCHIVE ['hello from bob']", output, StringComparison.Ordinal);
    }
}
