using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Muc;

/// <summary>What the XEP-0045 tests share: the room, the stanzas a client sends and reading what came back.</summary>
internal static class MucHarness
{
    public const string Muc = "http://jabber.org/protocol/muc";
    public const string User = Muc + "#user";
    public const string Admin = Muc + "#admin";
    public const string Owner = Muc + "#owner";
    public const string Service = "conference.example.test";
    public const string Room = "team@" + Service;

    public static Element Join(string nick, Element? extra = null, string room = Room)
    {
        var x = new Element("x", Muc);
        if (extra is not null) x.Add(extra);
        return new Element("presence", Ns.Client).SetAttribute("to", room + "/" + nick).Add(x);
    }

    public static Element Groupchat(string body) =>
        new Element("message", Ns.Client).SetAttribute("to", Room).SetAttribute("type", "groupchat").Add(new Element("body", Ns.Client).AddText(body));

    public static Element OwnerIq(Element content, string room = Room) =>
        new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", room).Add(new Element("query", Owner).Add(content));

    public static Element AdminIq(params Element[] items)
    {
        var query = new Element("query", Admin);
        foreach (var item in items) query.Add(item);
        return new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room).Add(query);
    }

    /// <summary>An item of a muc#admin query.</summary>
    public static Element Item(params (string Name, string Value)[] attributes)
    {
        var item = new Element("item", Admin);
        foreach (var (name, value) in attributes) item.SetAttribute(name, value);
        return item;
    }

    /// <summary>An IQ get to an address with one payload.</summary>
    public static Element Get(string to, Element payload) =>
        new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", to).Add(payload);

    /// <summary>A submitted data form of a FORM_TYPE (muc#roomconfig unless told).</summary>
    public static Element Form(params (string Var, string Value)[] fields) => TypedForm(Muc + "#roomconfig", fields);

    public static Element TypedForm(string formType, params (string Var, string Value)[] fields)
    {
        var x = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(formType)));
        foreach (var (v, value) in fields) x.Add(new Element("field", Ns.DataForms).SetAttribute("var", v).Add(new Element("value", Ns.DataForms).AddText(value)));
        return x;
    }

    // Everything the client received up to a message it then sends to itself.
    public static async Task<List<Element>> ReceivedAsync(XmppClient client)
    {
        var marker = "m" + Guid.NewGuid().ToString("N");
        await client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", client.BoundJid.ToString()).SetAttribute("id", marker));
        using var timeout = new CancellationTokenSource(5000);
        var list = new List<Element>();
        while (true)
        {
            var e = await client.ReceiveAsync(timeout.Token);
            if (e.GetAttribute("id") == marker) return list;
            list.Add(e);
        }
    }

    public static List<string> Codes(Element presence)
    {
        var codes = new List<string>();
        if (presence.Child("x", User) is { } x)
            foreach (var s in x.Children)
                if (s.LocalName == "status") codes.Add(s.GetAttribute("code")!);
        return codes;
    }

    /// <summary>The muc#user item of a presence.</summary>
    public static Element UserItem(Element presence) => presence.Child("x", User)!.Child("item", User)!;

    /// <summary>The error type and condition of an error stanza ("" when it is not one).</summary>
    public static (string Type, string Condition) ErrorOf(Element stanza)
    {
        var error = stanza.Child("error", Ns.Client);
        if (stanza.GetAttribute("type") != "error" || error is null) return ("", "");
        foreach (var c in error.Children)
            if (c.Namespace == Ns.Stanzas && c.LocalName != "text") return (error.GetAttribute("type") ?? "", c.LocalName);
        return (error.GetAttribute("type") ?? "", "");
    }

    /// <summary>A user logged in and in the room under a nick, with what entering brought read.</summary>
    public static async Task<XmppClient> JoinedAsync(TestServer server, string user, string nick)
    {
        var client = await server.LoginAsync(user);
        await client.SendAsync(Join(nick));
        await ReceivedAsync(client);
        return client;
    }

    public static async Task<(XmppClient Alice, XmppClient Bob)> RoomWithTwoAsync(TestServer server)
    {
        var alice = await server.LoginAsync("alice");
        var bob = await server.LoginAsync("bob");
        await alice.SendAsync(Join("Alice"));
        var created = (await ReceivedAsync(alice)).Single(e => e.LocalName == "presence");
        Assert.Equal(["110", "170", "201"], Codes(created));
        Assert.Equal("owner", UserItem(created).GetAttribute("affiliation"));
        // §10.1.2: the instant room is accepted with an empty submitted form.
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(new Element("x", Ns.DataForms).SetAttribute("type", "submit")))).GetAttribute("type"));
        await bob.SendAsync(Join("Bob"));
        await ReceivedAsync(bob);
        await ReceivedAsync(alice);
        return (alice, bob);
    }
}
