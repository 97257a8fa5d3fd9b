using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Components;

/// <summary>XEP-0114 external components: the handshake at the byte level, and what happens around a connection.</summary>
public sealed partial class ComponentTests
{
    private const string Irc = "irc.example.test";

    private static string Header(string to, string ns = "jabber:component:accept") =>
        $"<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='http://etherx.jabber.org/streams' to='{to}'>";

    private static string Digest(string streamId, string secret) =>
#pragma warning disable CA5350 // XEP-0114 defines the handshake with SHA-1.
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(streamId + secret)));
#pragma warning restore CA5350

    // Opens a component stream and returns the id of the server's header.
    private static async Task<string> OpenAsync(RawConnection raw, string to)
    {
        await raw.SendAsync(Header(to));
        var header = await raw.ReadUntilAsync(">");
        return StreamId().Match(header).Groups[1].Value;
    }

    // A raw component stream past the handshake.
    private static async Task<RawConnection> ConnectedAsync(TestServer server)
    {
        var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        var id = await OpenAsync(raw, Irc);
        await raw.SendAsync($"<handshake>{Digest(id, TestServer.ComponentSecret)}</handshake>");
        await raw.ReadUntilAsync("<handshake/>");
        raw.ClearReceived();
        return raw;
    }

    [GeneratedRegex("""id=['"]([^'"]+)['"]""")]
    private static partial Regex StreamId();

    private static string Normalize(string xml) => xml.Replace("\"", "'", StringComparison.Ordinal);

    [Fact]
    public async Task Xep0114_3_the_right_handshake_is_answered_with_an_empty_handshake()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        var id = await OpenAsync(raw, Irc);
        var header = Normalize(raw.Received);
        Assert.Contains("xmlns='jabber:component:accept'", header);
        Assert.Contains($"from='{Irc}'", header);
        Assert.True(id.Length >= 16);
        // Hex digits in either case are the same digest.
        await raw.SendAsync($"<handshake>{Digest(id, TestServer.ComponentSecret).ToUpperInvariant()}</handshake>");
        await raw.ReadUntilAsync("<handshake/>");
    }

    [Theory]
    [InlineData("wrong secret")]
    [InlineData("")]
    public async Task Xep0114_3_a_wrong_handshake_ends_the_stream_with_not_authorized(string secret)
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        var id = await OpenAsync(raw, Irc);
        await raw.SendAsync($"<handshake>{(secret.Length == 0 ? "not hex" : Digest(id, secret))}</handshake>");
        var all = Normalize(await raw.ReadToEndAsync());
        Assert.Contains("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", all);
        Assert.EndsWith("</stream:stream>", all);
        Assert.DoesNotContain("<handshake/>", all);
    }

    [Fact]
    public async Task A_stanza_before_the_handshake_ends_the_stream_with_not_authorized()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        await OpenAsync(raw, Irc);
        await raw.SendAsync($"<message from='{Irc}' to='alice@example.test'><body>early</body></message>");
        Assert.Contains("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
    }

    [Theory]
    [InlineData("gateway.example.test")]
    [InlineData("example.test")]
    [InlineData("conference.example.test")]
    public async Task Xep0114_3_a_domain_that_is_not_a_configured_component_is_host_unknown(string domain)
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        await raw.SendAsync(Header(domain));
        Assert.Contains("<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task A_client_stream_on_the_component_port_is_invalid_namespace()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        await raw.SendAsync(Header(Irc, "jabber:client"));
        Assert.Contains("<invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task A_second_connection_for_a_connected_domain_is_conflict_and_the_first_keeps_working()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var first = await server.ConnectComponentAsync(Irc);
        await using (var raw = await RawConnection.ConnectAsync(server.ComponentPort))
        {
            var id = await OpenAsync(raw, Irc);
            await raw.SendAsync($"<handshake>{Digest(id, TestServer.ComponentSecret)}</handshake>");
            Assert.Contains("<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
        }
        await using var alice = await server.LoginAsync("alice");
        await alice.SendRawAsync($"<message to='bob@{Irc}' id='m1'><body>still there?</body></message>");
        var message = await ReceiveAsync(first);
        Assert.Equal("m1", message.GetAttribute("id"));
        Assert.Equal(alice.BoundJid.ToString(), message.GetAttribute("from"));
    }

    [Theory]
    [InlineData("alice@example.test/phone")]
    [InlineData("bob@other.example.test")]
    [InlineData("irc.example.test.evil")]
    public async Task Xep0114_a_stanza_from_outside_the_components_domain_is_invalid_from(string from)
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var alice = await server.LoginAsync("alice", "phone");
        await using var raw = await ConnectedAsync(server);
        await raw.SendAsync($"<message from='{from}' to='{alice.BoundJid}' id='spoof'><body>forged</body></message>");
        Assert.Contains("<invalid-from xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
        // Nothing of it reached Alice: her next stanza is the answer to her own ping.
        await alice.SendRawAsync("<iq type='get' id='after' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Equal("after", (await ReceiveAsync(alice)).GetAttribute("id"));
    }

    [Fact]
    public async Task A_stanza_without_from_is_improper_addressing()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var raw = await ConnectedAsync(server);
        await raw.SendAsync("<message to='alice@example.test'><body>who am I</body></message>");
        Assert.Contains("<improper-addressing xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task After_the_component_disconnects_stanzas_to_its_domain_bounce_with_service_unavailable()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var alice = await server.LoginAsync("alice", "phone");
        var component = await server.ConnectComponentAsync(Irc);
        await component.DisposeAsync();
        // The server notices the close before long; until then a stanza may still go to the closing stream, and only
        // the ping's answer comes back.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        Element reply;
        var n = 0;
        while (true)
        {
            n++;
            await alice.SendRawAsync($"<message to='#chan%irc.net@{Irc}' type='groupchat' id='g{n}'><body>anyone?</body></message>");
            await alice.SendRawAsync($"<iq type='get' id='ping{n}' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>");
            reply = await ReceiveAsync(alice);
            if (reply.GetAttribute("id") == $"g{n}" || DateTime.UtcNow > deadline) break;
            await Task.Delay(50);
        }
        XmlAssert.Equal(XmlAssert.Parse($"""
            <message from='#chan%irc.net@{Irc}' to='{alice.BoundJid}' type='error' id='g{n}'>
              <body>anyone?</body>
              <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
            </message>
            """), reply);
        Assert.Equal($"ping{n}", (await ReceiveAsync(alice)).GetAttribute("id"));

        await alice.SendRawAsync($"<iq type='get' id='i1' to='{Irc}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        XmlAssert.Equal(XmlAssert.Parse($"""
            <iq from='{Irc}' to='{alice.BoundJid}' type='error' id='i1'>
              <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
            </iq>
            """), await ReceiveAsync(alice));

        // The domain is free again: the component reconnects and gets what is sent next.
        await using var again = await server.ConnectComponentAsync(Irc);
        await alice.SendRawAsync($"<message to='bob@{Irc}' id='back'><body>welcome back</body></message>");
        Assert.Equal("back", (await ReceiveAsync(again)).GetAttribute("id"));
    }

    [Fact]
    public async Task A_stanza_larger_than_the_limit_ends_the_component_stream_with_policy_violation()
    {
        var settings = TestServer.ComponentSettings(Irc);
        settings["Limits:MaxStanzaBytes"] = "10000";
        await using var server = await TestServer.StartAsync(settings);
        await using var raw = await ConnectedAsync(server);
        await raw.SendAsync($"<message from='{Irc}' to='alice@example.test'><body>{new string('x', 20000)}</body></message>");
        Assert.Contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task A_stream_without_a_handshake_in_time_ends_with_connection_timeout()
    {
        var settings = TestServer.ComponentSettings(Irc);
        settings["Limits:NegotiationTimeoutSeconds"] = "1";
        await using var server = await TestServer.StartAsync(settings);
        await using var raw = await RawConnection.ConnectAsync(server.ComponentPort);
        await OpenAsync(raw, Irc);
        Assert.Contains("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", Normalize(await raw.ReadToEndAsync()));
    }

    [Fact]
    public async Task A_connected_component_hears_system_shutdown_when_the_server_stops()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await using var component = await server.ConnectComponentAsync(Irc);
        await server.Server.StopAsync();
        await component.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StreamErrorCondition.SystemShutdown, component.RemoteStreamError?.Condition);
    }

    [Fact]
    public async Task The_client_librarys_component_mode_fails_with_a_wrong_secret()
    {
        await using var server = await TestServer.StartAsync(TestServer.ComponentSettings(Irc));
        await Assert.ThrowsAnyAsync<Exception>(() => server.ConnectComponentAsync(Irc, "wrong"));
    }

    [Fact]
    public async Task A_component_domain_that_a_local_service_serves_stops_the_start_naming_the_key()
    {
        var settings = TestServer.ComponentSettings("conference.example.test");
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(settings));
        Assert.Contains("Components:List:0:Domain", e.Message);
    }

    [Theory]
    [InlineData("example.test", "secret", "Components:List:0:Domain: must differ from the server's Domain")]
    [InlineData("not a domain", "secret", "Components:List:0:Domain:")]
    [InlineData("irc.example.test", "", "Components:List:0:Secret: must be set")]
    public void Bad_component_settings_are_named(string domain, string secret, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Domain"] = "example.test",
            ["Components:List:0:Domain"] = domain,
            ["Components:List:0:Secret"] = secret,
        }).Build();
        var e = Assert.Throws<OptionsValidationException>(() => ParleyServer.BindOptions(configuration));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Without_configured_components_there_is_no_component_listener()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Throws<InvalidOperationException>(() => server.ComponentPort);
    }

    private static async Task<Element> ReceiveAsync(XmppClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        return await client.ReceiveAsync(timeout.Token);
    }
}
