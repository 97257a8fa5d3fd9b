using Parley.Client;
using Parley.Protocol;
using Parley.Server.Modules.Pep;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Server.Tests.Modules.Pep;

/// <summary>XEP-0163 PEP over XEP-0060, with +notify from verified XEP-0115 caps and XEP-0223 publish-options.</summary>
public sealed class PepTests
{
    private const string Nick = "http://jabber.org/protocol/nick";
    private const string Devices = "eu.siacs.conversations.axolotl.devicelist";
    private const string CapsNode = "https://client.example.test";

    [Fact]
    public void Xep0115_5_2_and_5_3_verification_strings_of_the_worked_examples()
    {
        var simple = XmlAssert.ParseSnippets("""
            <query xmlns='http://jabber.org/protocol/disco#info'>
              <identity category='client' name='Exodus 0.9.1' type='pc'/>
              <feature var='http://jabber.org/protocol/caps'/>
              <feature var='http://jabber.org/protocol/disco#info'/>
              <feature var='http://jabber.org/protocol/disco#items'/>
              <feature var='http://jabber.org/protocol/muc'/>
            </query>
            """)[0];
        Assert.Equal("QgayPKawpkPSDYmwT/WM94uAlu0=", EntityCaps.Ver(simple, "sha-1"));
        var complex = XmlAssert.ParseSnippets("""
            <query xmlns='http://jabber.org/protocol/disco#info'>
              <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
              <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
              <feature var='http://jabber.org/protocol/caps'/>
              <feature var='http://jabber.org/protocol/disco#info'/>
              <feature var='http://jabber.org/protocol/disco#items'/>
              <feature var='http://jabber.org/protocol/muc'/>
              <x xmlns='jabber:x:data' type='result'>
                <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
                <field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>
                <field var='os'><value>Mac</value></field>
                <field var='os_version'><value>10.5.1</value></field>
                <field var='software'><value>Psi</value></field>
                <field var='software_version'><value>0.11</value></field>
              </x>
            </query>
            """)[0];
        Assert.Equal("q07IKJEyjvHSyhy//CH0CxmKi8w=", EntityCaps.Ver(complex, "sha-1"));
    }

    private static Element ClientInfo(params string[] notify)
    {
        var query = new Element("query", Ns.DiscoInfo).Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "client").SetAttribute("type", "pc"));
        query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.DiscoInfo));
        foreach (var n in notify) query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", n + "+notify"));
        return query;
    }

    // Sends available presence with caps and answers the server's disco#info query the way a client does.
    private static async Task AnnounceCapsAsync(XmppClient client, Element info, bool expectQuery = true)
    {
        var ver = EntityCaps.Ver(info, "sha-1")!;
        await client.SendAsync(Presence().Add(new Element("c", Ns.Caps).SetAttribute("hash", "sha-1").SetAttribute("node", CapsNode).SetAttribute("ver", ver)));
        if (!expectQuery) return;
        using var timeout = new CancellationTokenSource(5000);
        Element query;
        do query = await client.ReceiveAsync(timeout.Token);
        while (!(query.LocalName == "iq" && query.Child("query", Ns.DiscoInfo) is not null));
        Assert.Equal(CapsNode + "#" + ver, query.Child("query", Ns.DiscoInfo)!.GetAttribute("node"));
        var reply = info.Clone().SetAttribute("node", CapsNode + "#" + ver);
        await client.SendAsync(new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", query.GetAttribute("id"))
            .SetAttribute("to", query.GetAttribute("from")).Add(reply));
    }

    private static Element Publish(string node, string id, Element payload, params (string Var, string Value)[] options)
    {
        var pubsub = new Element("pubsub", Ns.PubSub).Add(new Element("publish", Ns.PubSub).SetAttribute("node", node).Add(new Element("item", Ns.PubSub).SetAttribute("id", id).Add(payload)));
        if (options.Length > 0)
        {
            var x = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
                .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(Ns.PubSub + "#publish-options")));
            foreach (var (v, value) in options) x.Add(new Element("field", Ns.DataForms).SetAttribute("var", v).Add(new Element("value", Ns.DataForms).AddText(value)));
            pubsub.Add(new Element("publish-options", Ns.PubSub).Add(x));
        }
        return new Element("iq", Ns.Client).SetAttribute("type", "set").Add(pubsub);
    }

    private static Element Items(string owner, string node) =>
        new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", owner).Add(new Element("pubsub", Ns.PubSub).Add(new Element("items", Ns.PubSub).SetAttribute("node", node)));

    private static string Concat(Element parent)
    {
        var s = new System.Text.StringBuilder();
        foreach (var child in parent.Children) s.Append(child);
        return s.ToString();
    }

    private static Element NickPayload(string nick) => new Element("nick", Nick).AddText(nick);

    private static async Task<Element> NextEventAsync(XmppClient client)
    {
        using var timeout = new CancellationTokenSource(5000);
        Element e;
        do e = await client.ReceiveAsync(timeout.Token);
        while (e.Child("event", Ns.PubSubEvent) is null);
        return e.Child("event", Ns.PubSubEvent)!;
    }

    private static async Task SyncAsync(XmppClient client) =>
        await client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

    private static async Task BefriendAsync(XmppClient a, XmppClient b)
    {
        await a.SendAsync(Presence("subscribe", b.BoundJid.Bare.ToString()));
        await SyncAsync(a);
        await b.SendAsync(Presence("subscribed", a.BoundJid.Bare.ToString()));
        await b.SendAsync(Presence("subscribe", a.BoundJid.Bare.ToString()));
        await SyncAsync(b);
        await a.SendAsync(Presence("subscribed", b.BoundJid.Bare.ToString()));
        await SyncAsync(a);
    }

    [Fact]
    public async Task Xep0163_a_publish_reaches_subscribed_contacts_whose_caps_ask_for_the_node_and_new_sessions_get_the_last_item()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice", "phone");
        await using var bob = await server.LoginAsync("bob", "desk");
        await BefriendAsync(alice, bob);
        await AnnounceCapsAsync(bob, ClientInfo(Nick));
        await SyncAsync(bob);

        var published = await alice.RequestAsync(Publish(Nick, "current", NickPayload("Ali")));
        Assert.Equal("current", published.Child("pubsub", Ns.PubSub)!.Child("publish", Ns.PubSub)!.Child("item", Ns.PubSub)!.GetAttribute("id"));
        var items = (await NextEventAsync(bob)).Child("items", Ns.PubSubEvent)!;
        Assert.Equal(Nick, items.GetAttribute("node"));
        Assert.Equal("Ali", items.Child("item", Ns.PubSubEvent)!.ChildText("nick", Nick));

        // A second session of bob with the same (now verified) caps is not asked again and gets the last item.
        await using var laptop = await server.LoginAsync("bob", "laptop");
        await AnnounceCapsAsync(laptop, ClientInfo(Nick), expectQuery: false);
        var last = (await NextEventAsync(laptop)).Child("items", Ns.PubSubEvent)!;
        Assert.Equal("Ali", last.Child("item", Ns.PubSubEvent)!.ChildText("nick", Nick));

        // Bob reads the node; a stranger may not (presence access model).
        Assert.Equal("Ali", (await bob.RequestAsync(Items("alice@example.test", Nick))).Child("pubsub", Ns.PubSub)!.Child("items", Ns.PubSub)!.Child("item", Ns.PubSub)!.ChildText("nick", Nick));
        await using var mallory = await server.LoginAsync("mallory");
        var refused = (await mallory.RequestAsync(Items("alice@example.test", Nick))).Child("error", Ns.Client)!;
        Assert.NotNull(refused.Child("not-authorized", Ns.Stanzas));
        Assert.NotNull(refused.Child("presence-subscription-required", Ns.PubSubErrors));
    }

    [Fact]
    public async Task Xep0223_publish_options_create_the_node_and_must_match_it_afterwards_and_max_items_keeps_the_newest()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var mallory = await server.LoginAsync("mallory");
        var list = new Element("list", "eu.siacs.conversations.axolotl").Add(new Element("device", "eu.siacs.conversations.axolotl").SetAttribute("id", "1"));
        Assert.Equal("result", (await alice.RequestAsync(Publish(Devices, "current", list, ("pubsub#access_model", "open")))).GetAttribute("type"));
        Assert.Equal("result", (await mallory.RequestAsync(Items("alice@example.test", Devices))).GetAttribute("type"));   // open

        var conflict = (await alice.RequestAsync(Publish(Devices, "current", list, ("pubsub#access_model", "whitelist")))).Child("error", Ns.Client)!;
        Assert.NotNull(conflict.Child("precondition-not-met", Ns.PubSubErrors));

        for (var i = 0; i < 3; i++)
            await alice.RequestAsync(Publish("urn:example:log", "i" + i, new Element("entry", "urn:example").AddText("n" + i), ("pubsub#max_items", "2"), ("pubsub#access_model", "whitelist")));
        var kept = (await alice.RequestAsync(Items("alice@example.test", "urn:example:log"))).Child("pubsub", Ns.PubSub)!.Child("items", Ns.PubSub)!;
        Assert.Equal("<item xmlns='http://jabber.org/protocol/pubsub' id='i1'><entry xmlns='urn:example'>n1</entry></item><item xmlns='http://jabber.org/protocol/pubsub' id='i2'><entry xmlns='urn:example'>n2</entry></item>",
            Concat(kept));
        var closed = (await mallory.RequestAsync(Items("alice@example.test", "urn:example:log"))).Child("error", Ns.Client)!;
        Assert.NotNull(closed.Child("closed-node", Ns.PubSubErrors));

        var disco = await mallory.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", "alice@example.test").Add(new Element("query", Ns.DiscoItems)));
        Assert.Contains($"node='{Devices}'", disco.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("urn:example:log", disco.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0060_retract_and_delete_notify_and_the_owner_configures_the_node()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice", "phone");
        await AnnounceCapsAsync(alice, ClientInfo(Nick));
        await alice.RequestAsync(Publish(Nick, "a", NickPayload("A")));
        Assert.Equal("A", (await NextEventAsync(alice)).Child("items", Ns.PubSubEvent)!.Child("item", Ns.PubSubEvent)!.ChildText("nick", Nick));

        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("pubsub", Ns.PubSub)
            .Add(new Element("retract", Ns.PubSub).SetAttribute("node", Nick).SetAttribute("notify", "true").Add(new Element("item", Ns.PubSub).SetAttribute("id", "a")))));
        Assert.Equal("a", (await NextEventAsync(alice)).Child("items", Ns.PubSubEvent)!.Child("retract", Ns.PubSubEvent)!.GetAttribute("id"));

        var form = (await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("pubsub", Ns.PubSubOwner)
            .Add(new Element("configure", Ns.PubSubOwner).SetAttribute("node", Nick))))).ToString();
        Assert.Contains("<value>presence</value>", form, StringComparison.Ordinal);
        var set = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "pubsub#access_model").Add(new Element("value", Ns.DataForms).AddText("roster")));
        Assert.Equal("result", (await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("pubsub", Ns.PubSubOwner)
            .Add(new Element("configure", Ns.PubSubOwner).SetAttribute("node", Nick).Add(set))))).GetAttribute("type"));

        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("pubsub", Ns.PubSubOwner)
            .Add(new Element("delete", Ns.PubSubOwner).SetAttribute("node", Nick))));
        Assert.Equal(Nick, (await NextEventAsync(alice)).Child("delete", Ns.PubSubEvent)!.GetAttribute("node"));
        var gone = await alice.RequestAsync(Items("alice@example.test", Nick));
        Assert.NotNull(gone.Child("error", Ns.Client)?.Child("item-not-found", Ns.Stanzas));
    }

    private static Element PrivateIq(string type, Element content) =>
        new Element("iq", Ns.Client).SetAttribute("type", type).Add(new Element("query", Ns.PrivateXml).Add(content));

    [Fact]
    public async Task Xep0402_5_3_bookmarks_in_pep_and_in_private_storage_are_one_list()
    {
        await using var server = await TestServer.StartAsync();
        await using var modern = await server.LoginAsync("alice", "modern");
        await AnnounceCapsAsync(modern, ClientInfo("urn:xmpp:bookmarks:1"));
        await using var legacy = await server.LoginAsync("alice", "legacy");
        var own = await modern.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", "alice@example.test").Add(new Element("query", Ns.DiscoInfo)));
        Assert.Contains("var='urn:xmpp:bookmarks:1#compat'", own.ToString(), StringComparison.Ordinal);

        // A client of the old kind stores two conferences in private XML storage: they appear as PEP items, notified.
        var storage = new Element("storage", "storage:bookmarks")
            .Add(new Element("conference", "storage:bookmarks").SetAttribute("jid", "council@conference.example.test").SetAttribute("name", "Council").SetAttribute("autojoin", "true")
                .Add(new Element("nick", "storage:bookmarks").AddText("Puck")))
            .Add(new Element("conference", "storage:bookmarks").SetAttribute("jid", "orchard@conference.example.test").SetAttribute("autojoin", "false"))
            .Add(new Element("url", "storage:bookmarks").SetAttribute("name", "Site").SetAttribute("url", "https://example.test/"));
        Assert.Equal("result", (await legacy.RequestAsync(PrivateIq("set", storage))).GetAttribute("type"));
        var first = (await NextEventAsync(modern)).Child("items", Ns.PubSubEvent)!.Child("item", Ns.PubSubEvent)!;
        Assert.Equal("council@conference.example.test", first.GetAttribute("id"));
        Assert.Equal("Puck", first.Child("conference", "urn:xmpp:bookmarks:1")!.ChildText("nick", "urn:xmpp:bookmarks:1"));
        await NextEventAsync(modern);

        // The modern client retracts one via PEP; the old kind reads the list and finds one conference and its url.
        await modern.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("pubsub", Ns.PubSub)
            .Add(new Element("retract", Ns.PubSub).SetAttribute("node", "urn:xmpp:bookmarks:1").SetAttribute("notify", "true")
                .Add(new Element("item", Ns.PubSub).SetAttribute("id", "orchard@conference.example.test")))));
        var read = (await legacy.RequestAsync(PrivateIq("get", new Element("storage", "storage:bookmarks")))).Child("query", Ns.PrivateXml)!.Child("storage", "storage:bookmarks")!;
        Assert.Equal("<storage xmlns='storage:bookmarks'><url name='Site' url='https://example.test/'/><conference jid='council@conference.example.test' name='Council' autojoin='true'><nick>Puck</nick></conference></storage>", read.ToString());

        // Storing the list again with the council gone retracts it.
        await NextEventAsync(modern);                       // the retraction of the orchard, notified above
        Assert.Equal("result", (await legacy.RequestAsync(PrivateIq("set", new Element("storage", "storage:bookmarks")))).GetAttribute("type"));
        Assert.Equal("council@conference.example.test", (await NextEventAsync(modern)).Child("items", Ns.PubSubEvent)!.Child("retract", Ns.PubSubEvent)!.GetAttribute("id"));
    }
}
