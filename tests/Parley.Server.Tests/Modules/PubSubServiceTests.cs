using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules;

/// <summary>XEP-0060 on pubsub.example.test: the owner, publisher and subscriber use cases clients use.</summary>
public sealed class PubSubServiceTests
{
    private const string Service = "pubsub.example.test";

    private static Element Iq(string type, string ns, Element request) =>
        new Element("iq", Ns.Client).SetAttribute("type", type).SetAttribute("to", Service).Add(new Element("pubsub", ns).Add(request));

    private static Element Form(string formType, params (string Var, string Value)[] fields)
    {
        var x = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(formType)));
        foreach (var (v, value) in fields) x.Add(new Element("field", Ns.DataForms).SetAttribute("var", v).Add(new Element("value", Ns.DataForms).AddText(value)));
        return x;
    }

    private static Element Publish(string node, string id, string text) =>
        Iq("set", Ns.PubSub, new Element("publish", Ns.PubSub).SetAttribute("node", node)
            .Add(new Element("item", Ns.PubSub).SetAttribute("id", id).Add(new Element("entry", "http://www.w3.org/2005/Atom").AddText(text))));

    private static async Task<Element> NextEventAsync(XmppClient client)
    {
        using var timeout = new CancellationTokenSource(5000);
        Element e;
        do e = await client.ReceiveAsync(timeout.Token);
        while (e.Child("event", Ns.PubSubEvent) is null);
        Assert.Equal(Service, e.GetAttribute("from"));
        return e.Child("event", Ns.PubSubEvent)!;
    }

    private static void AssertOk(Element reply) => Assert.True(reply.GetAttribute("type") == "result", reply.ToString());

    [Fact]
    public async Task Xep0060_an_owner_creates_publishes_and_subscribers_are_notified_and_can_read_back()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        var items = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("query", Ns.DiscoItems)));
        Assert.Contains($"jid='{Service}'", items.ToString(), StringComparison.Ordinal);

        AssertOk(await alice.RequestAsync(Iq("set", Ns.PubSub, new Element("create", Ns.PubSub).SetAttribute("node", "news"))));
        Assert.NotNull((await alice.RequestAsync(Iq("set", Ns.PubSub, new Element("create", Ns.PubSub).SetAttribute("node", "news")))).Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas));
        AssertOk(await alice.RequestAsync(Publish("news", "first", "Hello")));

        // Subscribing brings the last item; later publications arrive as they happen.
        var sub = await bob.RequestAsync(Iq("set", Ns.PubSub, new Element("subscribe", Ns.PubSub).SetAttribute("node", "news").SetAttribute("jid", bob.BoundJid.ToString())));
        Assert.Equal("subscribed", sub.Child("pubsub", Ns.PubSub)!.Child("subscription", Ns.PubSub)!.GetAttribute("subscription"));
        Assert.Equal("first", (await NextEventAsync(bob)).Child("items", Ns.PubSubEvent)!.Child("item", Ns.PubSubEvent)!.GetAttribute("id"));
        AssertOk(await alice.RequestAsync(Publish("news", "second", "Again")));
        Assert.Equal("Again", (await NextEventAsync(bob)).Child("items", Ns.PubSubEvent)!.Child("item", Ns.PubSubEvent)!.ChildText("entry", "http://www.w3.org/2005/Atom"));

        // Bob is no publisher, may not subscribe someone else, and reads the items back.
        Assert.NotNull((await bob.RequestAsync(Publish("news", "x", "spam"))).Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
        Assert.NotNull((await bob.RequestAsync(Iq("set", Ns.PubSub, new Element("subscribe", Ns.PubSub).SetAttribute("node", "news").SetAttribute("jid", "alice@example.test")))).Child("error", Ns.Client)?.Child("invalid-jid", Ns.PubSubErrors));
        var read = await bob.RequestAsync(Iq("get", Ns.PubSub, new Element("items", Ns.PubSub).SetAttribute("node", "news")));
        Assert.Equal(2, read.Child("pubsub", Ns.PubSub)!.Child("items", Ns.PubSub)!.ChildCount);
        var mine = await bob.RequestAsync(Iq("get", Ns.PubSub, new Element("subscriptions", Ns.PubSub)));
        Assert.Contains("node='news'", mine.ToString(), StringComparison.Ordinal);

        AssertOk(await bob.RequestAsync(Iq("set", Ns.PubSub, new Element("unsubscribe", Ns.PubSub).SetAttribute("node", "news").SetAttribute("jid", bob.BoundJid.ToString()))));
        var owners = await alice.RequestAsync(Iq("get", Ns.PubSubOwner, new Element("subscriptions", Ns.PubSubOwner).SetAttribute("node", "news")));
        Assert.Equal(0, owners.Child("pubsub", Ns.PubSubOwner)!.Child("subscriptions", Ns.PubSubOwner)!.ChildCount);
    }

    [Fact]
    public async Task Xep0060_8_owners_configure_affiliate_purge_and_delete_and_whitelist_nodes_stay_closed()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        await using var carol = await server.LoginAsync("carol");
        var instant = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Service)
            .Add(new Element("pubsub", Ns.PubSub).Add(new Element("create", Ns.PubSub))
                .Add(new Element("configure", Ns.PubSub).Add(Form(Ns.PubSub + "#node_config", ("pubsub#access_model", "whitelist"), ("pubsub#max_items", "2"))))));
        var node = instant.Child("pubsub", Ns.PubSub)!.Child("create", Ns.PubSub)!.GetAttribute("node")!;
        Assert.NotNull((await carol.RequestAsync(Iq("set", Ns.PubSub, new Element("subscribe", Ns.PubSub).SetAttribute("node", node).SetAttribute("jid", "carol@example.test")))).Child("error", Ns.Client)?.Child("closed-node", Ns.PubSubErrors));

        AssertOk(await alice.RequestAsync(Iq("set", Ns.PubSubOwner, new Element("affiliations", Ns.PubSubOwner).SetAttribute("node", node)
            .Add(new Element("affiliation", Ns.PubSubOwner).SetAttribute("jid", "bob@example.test").SetAttribute("affiliation", "publisher")))));
        Assert.NotNull((await bob.RequestAsync(Iq("set", Ns.PubSubOwner, new Element("purge", Ns.PubSubOwner).SetAttribute("node", node)))).Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
        for (var i = 0; i < 3; i++) AssertOk(await bob.RequestAsync(Publish(node, "i" + i, "n" + i)));
        var kept = await bob.RequestAsync(Iq("get", Ns.PubSub, new Element("items", Ns.PubSub).SetAttribute("node", node)));
        Assert.Equal(2, kept.Child("pubsub", Ns.PubSub)!.Child("items", Ns.PubSub)!.ChildCount);   // max_items 2

        var config = await alice.RequestAsync(Iq("get", Ns.PubSubOwner, new Element("configure", Ns.PubSubOwner).SetAttribute("node", node)));
        Assert.Contains("<value>whitelist</value>", config.ToString(), StringComparison.Ordinal);
        AssertOk(await alice.RequestAsync(Iq("set", Ns.PubSub, new Element("subscribe", Ns.PubSub).SetAttribute("node", node).SetAttribute("jid", alice.BoundJid.ToString()))));
        await NextEventAsync(alice);      // the last item on subscribing
        AssertOk(await alice.RequestAsync(Iq("set", Ns.PubSubOwner, new Element("purge", Ns.PubSubOwner).SetAttribute("node", node))));
        Assert.NotNull((await NextEventAsync(alice)).Child("purge", Ns.PubSubEvent));
        AssertOk(await alice.RequestAsync(Iq("set", Ns.PubSubOwner, new Element("delete", Ns.PubSubOwner).SetAttribute("node", node))));
        Assert.NotNull((await NextEventAsync(alice)).Child("delete", Ns.PubSubEvent));
        Assert.NotNull((await alice.RequestAsync(Iq("get", Ns.PubSub, new Element("items", Ns.PubSub).SetAttribute("node", node)))).Child("error", Ns.Client)?.Child("item-not-found", Ns.Stanzas));
    }
}
