using System.Security.Authentication;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Connections;

/// <summary>Authentication and binding through the client library over real sockets.</summary>
public sealed class SessionTests
{
    [Theory]
    [InlineData("SCRAM-SHA-1", false)]
    [InlineData("SCRAM-SHA-256", false)]
    [InlineData("SCRAM-SHA-512", false)]
    [InlineData("SCRAM-SHA-1-PLUS", false)]
    [InlineData("SCRAM-SHA-256-PLUS", false)]
    [InlineData("SCRAM-SHA-512-PLUS", true)]
    [InlineData("PLAIN", true)]
    public async Task Each_mechanism_authenticates_over_starttls_and_direct_tls(string mechanism, bool directTls)
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var client = new XmppClient(server.ClientOptions("alice", "m", directTls: directTls) with { Mechanisms = [mechanism] });
        await client.ConnectAsync();
        Assert.Equal(mechanism, client.Mechanism);
        Assert.Equal(server.Jid("alice", "m"), client.BoundJid);
        Assert.True(client.IsSecure);
    }

    [Fact]
    public async Task Rfc5929_3_scram_plus_binds_to_tls_unique_on_tls_1_2()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var client = new XmppClient(server.ClientOptions("alice") with
        {
            Mechanisms = ["SCRAM-SHA-256-PLUS"],
            TlsProtocols = SslProtocols.Tls12,
            ChannelBindingPreference = ["tls-unique"],
        });
        await client.ConnectAsync();
        Assert.Equal(SslProtocols.Tls12, client.TlsProtocol);
        Assert.Equal("tls-unique", client.ChannelBindingType);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_not_authorized()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var client = new XmppClient(server.ClientOptions("alice", password: "wrong") with { Mechanisms = ["SCRAM-SHA-256"] });
        var e = await Assert.ThrowsAsync<XmppAuthenticationException>(() => client.ConnectAsync());
        Assert.Equal("not-authorized", e.Condition);
    }

    [Fact]
    public async Task An_unknown_account_fails_like_a_wrong_password()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new XmppClient(server.ClientOptions("nobody") with { Mechanisms = ["SCRAM-SHA-1"] });
        var e = await Assert.ThrowsAsync<XmppAuthenticationException>(() => client.ConnectAsync());
        Assert.Equal("not-authorized", e.Condition);
    }

    [Fact]
    public async Task Rfc6120_7_6_the_server_generates_a_resource_when_none_is_requested()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.LoginAsync("alice");
        Assert.Equal(server.Jid("alice"), client.BoundJid.Bare);
        Assert.False(string.IsNullOrEmpty(client.BoundJid.Resource));
    }

    [Fact]
    public async Task Rfc6120_7_7_2_2_binding_a_bound_resource_replaces_the_old_session_with_conflict()
    {
        await using var server = await TestServer.StartAsync();
        await using var first = await server.LoginAsync("alice", "phone");
        await using var second = await server.LoginAsync("alice", "phone");
        await first.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(StreamErrorCondition.Conflict, first.RemoteStreamError?.Condition);

        // The new session is the one that receives.
        await using var bob = await server.LoginAsync("bob");
        await bob.SendAsync(new Element("message", Ns.Client).SetAttribute("to", second.BoundJid.ToString()).SetAttribute("type", "chat")
            .Add(new Element("body", Ns.Client).AddText("to the new one")));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var received = await second.ReceiveAsync(timeout.Token);
        Assert.Equal("to the new one", received.ChildText("body", Ns.Client));
    }

    [Fact]
    public async Task A_limit_of_resources_per_account_refuses_more_with_resource_constraint()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:MaxResourcesPerAccount"] = "1" });
        await using var first = await server.LoginAsync("alice", "one");
        await using var second = new XmppClient(server.ClientOptions("alice", "two"));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => second.ConnectAsync());
        Assert.Contains("resource-constraint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc6120_4_9_3_20_shutdown_gives_every_stream_system_shutdown()
    {
        var server = await TestServer.StartAsync();
        await using var client = await server.LoginAsync("alice");
        await server.DisposeAsync();
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StreamErrorCondition.SystemShutdown, client.RemoteStreamError?.Condition);
    }

    [Fact]
    public async Task Many_stanzas_arrive_in_order()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob", "desk");
        const int count = 500;
        for (var i = 0; i < count; i++)
            await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", bob.BoundJid.ToString()).SetAttribute("id", i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Add(new Element("body", Ns.Client).AddText("n" + i)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        for (var i = 0; i < count; i++)
        {
            var m = await bob.ReceiveAsync(timeout.Token);
            Assert.Equal("n" + i, m.ChildText("body", Ns.Client));
            Assert.Equal(alice.BoundJid.ToString(), m.GetAttribute("from"));
        }
    }
}
