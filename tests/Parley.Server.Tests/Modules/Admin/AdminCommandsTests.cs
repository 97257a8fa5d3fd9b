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
        var command = new Element("command", Ns.Commands).SetAttribute("node", node.StartsWith("urn:", StringComparison.Ordinal) ? node : Admin + "#" + node).SetAttribute("action", "execute");
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
        // XEP-0133's six, and every command of the registry under its own node.
        Assert.Equal(6 + Parley.Server.Admin.AdminCommandRegistry.All.Count, items.Child("query", Ns.DiscoItems)!.ChildCount);

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

    [Fact]
    public async Task Registry_commands_run_as_ad_hoc_nodes_with_their_forms_and_a_table_as_reported_items()
    {
        await using var server = await StartAsync();
        await using var admin = await server.LoginAsync("admin");
        await using var bob = await server.LoginAsync("bob", "phone");

        // The form is built from the command's parameters.
        var first = (await admin.RequestAsync(Command("urn:parley:admin:room-create"))).Child("command", Ns.Commands)!;
        var fields = first.Child("x", Ns.DataForms)!.Kids("field").Select(f => (f.GetAttribute("var"), f.GetAttribute("type"))).ToList();
        Assert.Contains(("room", "text-single"), fields);
        Assert.Contains(("owner", "jid-single"), fields);
        Assert.Contains(("persistent", "boolean"), fields);

        var created = await RunAsync(admin, "urn:parley:admin:room-create", ("room", ["lobby"]), ("name", ["The lobby"]), ("persistent", ["1"]));
        Assert.Equal("completed", created.GetAttribute("status"));
        Assert.Equal("Created lobby@conference.example.test", created.ChildText("note", Ns.Commands));

        // A table comes back as XEP-0004 reported fields and one item per row.
        var listed = await RunAsync(admin, "urn:parley:admin:room-list");
        var form = listed.Child("x", Ns.DataForms)!;
        Assert.Contains(form.Child("reported", Ns.DataForms)!.Kids("field"), f => f.GetAttribute("var") == "room");
        var row = Assert.Single(form.Kids("item"));
        Assert.Contains(row.Kids("field"), f => f.GetAttribute("var") == "name" && f.ChildText("value", Ns.DataForms) == "The lobby");

        // Outcomes map to stanza errors: a second create conflicts, a bad JID is a bad request.
        var again = await RunAsync(admin, "urn:parley:admin:room-create", ("room", ["lobby"]));
        Assert.NotNull(again.Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas));
        var bad = await RunAsync(admin, "urn:parley:admin:session-kick", ("jid", ["not a jid@@"]));
        Assert.NotNull(bad.Child("error", Ns.Client)?.Child("bad-request", Ns.Stanzas));

        // session kick ends bob's session with the reason given.
        var kicked = await RunAsync(admin, "urn:parley:admin:session-kick", ("jid", ["bob@example.test/phone"]), ("reason", ["Enough"]));
        Assert.Equal("completed", kicked.GetAttribute("status"));
        await bob.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("policy-violation", bob.RemoteStreamError?.ConditionName);
    }
}

internal static class DataFormElements
{
    public static List<Element> Kids(this Element element, string name)
    {
        var list = new List<Element>();
        foreach (var child in element.Children)
            if (child.Name.LocalName == name && child.Name.Namespace == Ns.DataForms) list.Add(child);
        return list;
    }
}
