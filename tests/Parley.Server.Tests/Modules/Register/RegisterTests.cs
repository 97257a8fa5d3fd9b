using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Register;

public sealed class RegisterTests
{
    private const string Set = "<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>{0}</username><password>new-pass</password></query></iq>";

    [Fact]
    public async Task Xep0077_registration_is_off_by_default_and_answered_with_service_unavailable()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawNegotiation.SecureAsync(server);
        Assert.DoesNotContain("iq-register", raw.Received, StringComparison.Ordinal);
        raw.ClearReceived();
        await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Set, "eve"));
        var reply = (await raw.ReadUntilAsync("</iq>")).Replace("\"", "'", StringComparison.Ordinal);
        Assert.Contains("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>", reply);
    }

    [Fact]
    public async Task Xep0077_3_1_when_enabled_a_new_account_can_register_log_in_and_is_limited_per_address()
    {
        await using var server = await TestServer.StartAsync(new() { ["Registration:Enabled"] = "true", ["Registration:PerAddressPerHour"] = "1" });
        await using (var raw = await RawNegotiation.SecureAsync(server))
        {
            Assert.Contains("http://jabber.org/features/iq-register", raw.Received, StringComparison.Ordinal);
            raw.ClearReceived();
            await raw.SendAsync("<iq type='get' id='form'><query xmlns='jabber:iq:register'/></iq>");
            Assert.Contains("<username", await raw.ReadUntilAsync("</iq>"), StringComparison.Ordinal);
            raw.ClearReceived();
            await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Set, "eve"));
            Assert.Contains("type=\"result\"", (await raw.ReadUntilAsync("/>")).Replace("'", "\"", StringComparison.Ordinal), StringComparison.Ordinal);
            raw.ClearReceived();
            await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Set, "eve2"));
            Assert.Contains("resource-constraint", await raw.ReadUntilAsync("</iq>"), StringComparison.Ordinal);
        }
        await using var eve = new XmppClient(server.ClientOptions("eve", password: "new-pass"));
        await eve.ConnectAsync();
        Assert.Equal("eve@example.test", eve.BoundJid.Bare.ToString());
    }

    [Fact]
    public async Task Xep0077_3_1_a_taken_username_is_a_conflict()
    {
        await using var server = await TestServer.StartAsync(new() { ["Registration:Enabled"] = "true" });
        await server.EnsureAccountAsync("alice");
        await using var raw = await RawNegotiation.SecureAsync(server);
        raw.ClearReceived();
        await raw.SendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Set, "alice"));
        Assert.Contains("<conflict", await raw.ReadUntilAsync("</iq>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0077_3_3_a_logged_in_user_changes_its_password()
    {
        await using var server = await TestServer.StartAsync();
        await using (var alice = await server.LoginAsync("alice"))
        {
            var reply = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("query", Ns.Register)
                .Add(new Element("username", Ns.Register).AddText("alice")).Add(new Element("password", Ns.Register).AddText("changed!"))));
            Assert.Equal("result", reply.GetAttribute("type"));
        }
        await using var old = new XmppClient(server.ClientOptions("alice"));
        Assert.Equal("not-authorized", (await Assert.ThrowsAsync<XmppAuthenticationException>(() => old.ConnectAsync())).Condition);
        await using var again = new XmppClient(server.ClientOptions("alice", password: "changed!"));
        await again.ConnectAsync();
    }

    [Fact]
    public async Task Xep0077_3_2_removing_the_account_ends_its_sessions_and_its_login()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var reply = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set")
            .Add(new Element("query", Ns.Register).Add(new Element("remove", Ns.Register))));
        Assert.Equal("result", reply.GetAttribute("type"));
        await alice.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(StreamErrorCondition.NotAuthorized, alice.RemoteStreamError?.Condition);
        await using var again = new XmppClient(server.ClientOptions("alice"));
        await Assert.ThrowsAsync<XmppAuthenticationException>(() => again.ConnectAsync());
    }
}
