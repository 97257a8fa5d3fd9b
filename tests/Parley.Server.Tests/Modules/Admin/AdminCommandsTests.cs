using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Admin;

/// <summary>XEP-0050 with the XEP-0133 commands, as an administrator's client runs them.</summary>
public sealed class AdminCommandsTests
{
    private const string Admin = "http://jabber.org/protocol/admin";

    private static Element Command(string node, Element? form = null, string? sessionId = null)
    {
        var command = new Element("command", Ns.Commands).SetAttribute("node", Admin + "#" + node).SetAttribute("action", "execute");
        if (sessionId is not null) command.SetAttribute("sessionid", sessionId);
        if (form is not null) command.Add(form);
        return new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", TestServer.Domain).Add(command);
    }

    private static Element Submit(params (string Var, string[] Values)[] fields)
    {
        var x = new Element("x", Ns.DataForms).SetAttribute("type", "submit");
        x.Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(Admin)));
        foreach (var (v, values) in fields)
        {
            var f = new Element("field", Ns.DataForms).SetAttribute("var", v);
            foreach (var value in values) f.Add(new Element("value", Ns.DataForms).AddText(value));
            x.Add(f);
        }
        return x;
    }

    private static async Task<Element> RunAsync(XmppClient admin, string node, params (string, string[])[] fields)
    {
        var first = (await admin.RequestAsync(Command(node))).Child("command", Ns.Commands)!;
        if (first.GetAttribute("status") == "completed") return first;
        Assert.Equal("executing", first.GetAttribute("status"));
        Assert.NotNull(first.Child("x", Ns.DataForms));
        var reply = await admin.RequestAsync(Command(node, Submit(fields), first.GetAttribute("sessionid")));
        return reply.Child("command", Ns.Commands) ?? reply;
    }

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(new() { ["Admins:0"] = "admin@example.test" });

    [Fact]
    public async Task Xep0133_others_see_no_commands_and_are_forbidden()
    {
        await using var server = await StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var items = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("query", Ns.DiscoItems).SetAttribute("node", Ns.Commands)));
        Assert.Equal(0, items.Child("query", Ns.DiscoItems)!.ChildCount);
        var refused = await alice.RequestAsync(Command("add-user"));
        Assert.NotNull(refused.Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
    }

    [Fact]
    public async Task Xep0133_an_admin_lists_the_commands_and_adds_a_user_who_can_log_in()
    {
        await using var server = await StartAsync();
        await using var admin = await server.LoginAsync("admin");
        var items = await admin.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("query", Ns.DiscoItems).SetAttribute("node", Ns.Commands)));
        Assert.Equal(6, items.Child("query", Ns.DiscoItems)!.ChildCount);

        var done = await RunAsync(admin, "add-user", ("accountjid", ["newbie@example.test"]), ("password", ["pw-1"]), ("password-verify", ["pw-1"]));
        Assert.Equal("completed", done.GetAttribute("status"));
        await using var newbie = new XmppClient(server.ClientOptions("newbie", password: "pw-1"));
        await newbie.ConnectAsync();

        var again = await RunAsync(admin, "add-user", ("accountjid", ["newbie@example.test"]), ("password", ["x"]), ("password-verify", ["x"]));
        Assert.NotNull(again.Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas));
    }

    [Fact]
    public async Task Xep0133_password_change_and_deletion_take_effect_and_deletion_ends_sessions()
    {
        await using var server = await StartAsync();
        await using var admin = await server.LoginAsync("admin");
        await using var bob = await server.LoginAsync("bob");
        Assert.Equal("completed", (await RunAsync(admin, "change-user-password", ("accountjid", ["bob@example.test"]), ("password", ["fresh"]))).GetAttribute("status"));
        await using (var fresh = new XmppClient(server.ClientOptions("bob", "x", password: "fresh")))
            await fresh.ConnectAsync();
        Assert.Equal("completed", (await RunAsync(admin, "delete-user", ("accountjids", ["bob@example.test"]))).GetAttribute("status"));
        await bob.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        await using var gone = new XmppClient(server.ClientOptions("bob", password: "fresh"));
        await Assert.ThrowsAsync<XmppAuthenticationException>(() => gone.ConnectAsync());
    }

    [Fact]
    public async Task Xep0133_online_users_are_counted_listed_and_hear_announcements()
    {
        await using var server = await StartAsync();
        await using var admin = await server.LoginAsync("admin");
        await using var alice = await server.LoginAsync("alice", "one");
        await using var alice2 = await server.LoginAsync("alice", "two");
        var num = await RunAsync(admin, "get-online-users-num");
        Assert.Contains("<value>2</value>", num.ToString(), StringComparison.Ordinal);
        var list = await RunAsync(admin, "get-online-users-list");
        Assert.Contains("alice@example.test", list.ToString(), StringComparison.Ordinal);
        Assert.Contains("admin@example.test", list.ToString(), StringComparison.Ordinal);

        await RunAsync(admin, "announce", ("subject", ["Maintenance"]), ("announcement", ["Back in five minutes"]));
        using var timeout = new CancellationTokenSource(5000);
        var heard = await alice2.ReceiveAsync(timeout.Token);
        Assert.Equal("headline", heard.GetAttribute("type"));
        Assert.Equal("Back in five minutes", heard.ChildText("body", Ns.Client));
        Assert.Equal(TestServer.Domain, heard.GetAttribute("from"));
    }
}
