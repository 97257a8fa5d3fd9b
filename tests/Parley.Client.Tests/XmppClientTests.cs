using Parley.Protocol;

namespace Parley.Client.Tests;

public sealed class XmppClientTests
{
    private static XmppClientOptions Options(int port, string password = "pw") => new()
    {
        Jid = Jid.Parse("alice@example.test"),
        Password = password,
        Host = "127.0.0.1",
        Port = port,
        RequireTls = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromMilliseconds(500),
        // Scripted conversations: every stanza goes to ReceiveAsync, nothing is answered automatically.
        Raw = true,
    };

    [Fact]
    public async Task Negotiation_authenticates_with_scram_and_binds_the_servers_resource()
    {
        await using var server = new ScriptedServer();
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        Assert.Equal("SCRAM-SHA-256", client.Mechanism);
        Assert.Equal(Jid.Parse("alice@example.test/scripted"), client.BoundJid);
        Assert.False(client.IsSecure);
    }

    [Fact]
    public async Task A_wrong_password_raises_the_sasl_condition()
    {
        await using var server = new ScriptedServer();
        await using var client = new XmppClient(Options(server.Port, "wrong"));
        var e = await Assert.ThrowsAsync<XmppAuthenticationException>(() => client.ConnectAsync());
        Assert.Equal("not-authorized", e.Condition);
    }

    [Fact]
    public async Task Tls_is_required_by_default_and_a_server_without_starttls_is_refused()
    {
        await using var server = new ScriptedServer();
        await using var client = new XmppClient(Options(server.Port) with { RequireTls = true });
        await Assert.ThrowsAsync<XmppNegotiationException>(() => client.ConnectAsync());
    }

    [Fact]
    public async Task Plain_is_never_used_without_tls()
    {
        await using var server = new ScriptedServer(features: "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>");
        await using var client = new XmppClient(Options(server.Port));
        await Assert.ThrowsAsync<XmppNegotiationException>(() => client.ConnectAsync());
    }

    [Fact]
    public async Task An_iq_request_completes_with_its_reply_and_ignores_a_reply_from_someone_else()
    {
        await using var server = new ScriptedServer(async (e, s) =>
        {
            var id = e.GetAttribute("id");
            // RFC 6120 §8.2.3: only the addressee's reply counts; a spoofed one is just another stanza.
            await s.SendAsync($"<iq type='result' id='{id}' from='mallory@example.test/x'/>");
            await s.SendAsync($"<iq type='result' id='{id}' from='example.test'><pong xmlns='urn:example'/></iq>");
        });
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        var reply = await client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", "example.test")
            .Add(new Element("ping", Ns.Ping)));
        Assert.Equal("example.test", reply.GetAttribute("from"));
        Assert.NotNull(reply.Child("pong", "urn:example"));
        using var timeout = new CancellationTokenSource(5000);
        var spoofed = await client.ReceiveAsync(timeout.Token);
        Assert.Equal("mallory@example.test/x", spoofed.GetAttribute("from"));
    }

    [Fact]
    public async Task An_unanswered_iq_times_out()
    {
        await using var server = new ScriptedServer();
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        await Assert.ThrowsAsync<TimeoutException>(() => client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get")
            .SetAttribute("to", "example.test").Add(new Element("ping", Ns.Ping))));
    }

    [Fact]
    public async Task A_stream_error_from_the_server_ends_the_stream_and_is_reported()
    {
        await using var server = new ScriptedServer(async (_, s) =>
            await s.SendAsync("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"));
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        await client.SendAsync(new Element("presence", Ns.Client));
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(StreamErrorCondition.Conflict, client.RemoteStreamError?.Condition);
    }
}
