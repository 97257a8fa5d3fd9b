using System.Diagnostics;
using System.Text;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Connections;

/// <summary>RFC 6120 §4, §5 and §11 at the byte level.</summary>
public sealed class StreamTests
{
    [Fact]
    public async Task Rfc6120_5_3_1_starttls_is_the_only_feature_before_tls_and_is_required()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync(RawNegotiation.Header);
        var features = await raw.ReadUntilAsync("</stream:features>");
        Assert.Contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>", features.Replace("\"", "'", StringComparison.Ordinal));
        Assert.DoesNotContain("mechanism", features);
        Assert.Contains("from='example.test'", features.Replace("\"", "'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plaintext_on_loopback_is_offered_only_when_configured_and_never_with_plain()
    {
        await using var server = await TestServer.StartAsync(new() { ["Tls:AllowPlaintextOnLoopback"] = "true" });
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync(RawNegotiation.Header);
        var features = (await raw.ReadUntilAsync("</stream:features>")).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", features);
        Assert.Contains("<mechanism>SCRAM-SHA-256</mechanism>", features);
        Assert.DoesNotContain("<mechanism>PLAIN</mechanism>", features);
        Assert.DoesNotContain("-PLUS", features);
    }

    [Fact]
    public async Task After_tls_sasl_mechanisms_and_channel_binding_types_are_offered()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawNegotiation.SecureAsync(server);
        var features = raw.Received.Replace("\"", "'", StringComparison.Ordinal);
        foreach (var m in new[] { "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN" })
            Assert.Contains($"<mechanism>{m}</mechanism>", features);
        // XEP-0440 §2
        Assert.Contains("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/>", features);
    }

    [Theory]
    [InlineData("<message><body>x</body></message>", "not-authorized")]
    [InlineData("<message><!-- hidden --></message>", "restricted-xml")]
    [InlineData("<message><body>&custom;</body></message>", "restricted-xml")]
    [InlineData("<message><body>x</bod></message>", "not-well-formed")]
    [InlineData("<foo xmlns='urn:example:nonza'/>", "unsupported-stanza-type")]
    public async Task Rfc6120_4_9_bad_input_before_tls_ends_the_stream_with_the_matching_error(string input, string condition)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync(RawNegotiation.Header);
        await raw.ReadUntilAsync("</stream:features>");
        await raw.SendAsync(input);
        var all = await raw.ReadToEndAsync();
        Assert.Contains($"<{condition} xmlns=", all.Replace("\"", "'", StringComparison.Ordinal));
        Assert.EndsWith("</stream:stream>", all.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc6120_4_9_3_6_unknown_host_is_host_unknown_after_a_header()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync(RawNegotiation.Header.Replace("example.test", "other.test", StringComparison.Ordinal));
        var all = (await raw.ReadToEndAsync()).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<stream:stream", all);
        Assert.Contains("<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_4_8_1_wrong_stream_namespace_is_invalid_namespace()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='example.test' version='1.0'>");
        var all = (await raw.ReadToEndAsync()).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_4_9_3_25_a_stream_without_version_is_unsupported_version()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.test'>");
        var all = (await raw.ReadToEndAsync()).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<unsupported-version xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_13_12_an_oversized_stanza_is_a_policy_violation()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:MaxStanzaBytes"] = "10000" });
        await using var raw = await RawNegotiation.LoginAsync(server, "alice");
        await raw.SendAsync("<message to='bob@example.test'><body>" + new string('x', 20000) + "</body></message>");
        var all = (await raw.ReadToEndAsync()).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_8_1_2_1_claiming_another_sender_is_invalid_from()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawNegotiation.LoginAsync(server, "alice");
        await raw.SendAsync("<message from='bob@example.test/x' to='alice@example.test'><body>spoof</body></message>");
        var all = (await raw.ReadToEndAsync()).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<invalid-from xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_4_4_the_server_answers_a_close_with_its_own_close()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawNegotiation.LoginAsync(server, "alice");
        await raw.SendAsync("</stream:stream>");
        var all = await raw.ReadToEndAsync();
        Assert.Equal("</stream:stream>", all.Trim());
    }

    [Fact]
    public async Task Rfc6120_4_6_1_an_idle_bound_stream_gets_whitespace_keepalives()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:KeepaliveSeconds"] = "1", ["Limits:IdleTimeoutSeconds"] = "30" });
        await using var raw = await RawNegotiation.LoginAsync(server, "alice");
        await raw.ReadUntilAsync(" ", timeoutMs: 5000);
        Assert.Equal("", raw.Received.Trim());
    }

    [Fact]
    public async Task Rfc6120_4_9_3_4_a_connection_that_never_negotiates_is_closed_with_connection_timeout()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:NegotiationTimeoutSeconds"] = "1" });
        await using var raw = await RawConnection.ConnectAsync(server.StartTlsPort);
        await raw.SendAsync(RawNegotiation.Header);
        var all = (await raw.ReadToEndAsync(timeoutMs: 8000)).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_4_9_3_4_an_idle_stream_is_closed_with_connection_timeout()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:IdleTimeoutSeconds"] = "2", ["Limits:KeepaliveSeconds"] = "1" });
        await using var raw = await RawNegotiation.LoginAsync(server, "alice");
        var all = (await raw.ReadToEndAsync(timeoutMs: 8000)).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
    }

    [Fact]
    public async Task Rfc6120_6_5_10_a_wrong_password_is_not_authorized_after_a_delay()
    {
        await using var server = await TestServer.StartAsync(new() { ["Auth:FailureDelayMilliseconds"] = "300", ["Auth:MaxFailureDelayMilliseconds"] = "1200" });
        await server.EnsureAccountAsync("alice");
        await using var raw = await RawNegotiation.SecureAsync(server);
        var elapsed = new List<TimeSpan>();
        for (var i = 0; i < 2; i++)
        {
            raw.ClearReceived();
            var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0wrong password"));
            var watch = Stopwatch.StartNew();
            await raw.SendAsync($"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>");
            var reply = (await raw.ReadUntilAsync("</failure>")).Replace("\"", "'", StringComparison.Ordinal);
            elapsed.Add(watch.Elapsed);
            Assert.Contains("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>", reply);
        }
        // The answer is held back, and longer for the repeated failure.
        Assert.True(elapsed[0] >= TimeSpan.FromMilliseconds(250), $"first failure answered after {elapsed[0]}");
        Assert.True(elapsed[1] >= TimeSpan.FromMilliseconds(500), $"second failure answered after {elapsed[1]}");
    }

    [Fact]
    public async Task Rfc6120_6_4_sasl_with_an_unknown_mechanism_is_invalid_mechanism()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawNegotiation.SecureAsync(server);
        await raw.SendAsync("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>");
        var reply = (await raw.ReadUntilAsync("</failure>")).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<invalid-mechanism/>", reply);
    }
}
