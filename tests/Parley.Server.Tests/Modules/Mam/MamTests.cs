using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Mam;

/// <summary>XEP-0313 message archive management with XEP-0359 stanza ids and XEP-0059 paging.</summary>
public sealed class MamTests
{
    private const string Rsm = "http://jabber.org/protocol/rsm";

    private static Element Chat(string to, string body) =>
        new Element("message", Ns.Client).SetAttribute("to", to).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText(body));

    private static Element Query(string queryId, Element? form = null, Element? set = null, bool flip = false)
    {
        var query = new Element("query", Ns.Mam).SetAttribute("queryid", queryId);
        if (form is not null) query.Add(form);
        if (set is not null) query.Add(set);
        if (flip) query.Add(new Element("flip-page", Ns.Mam));
        return new Element("iq", Ns.Client).SetAttribute("type", "set").Add(query);
    }

    private static Element Form(params (string Var, string Value)[] fields)
    {
        var x = new Element("x", Ns.DataForms).SetAttribute("type", "submit");
        x.Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").SetAttribute("type", "hidden").Add(new Element("value", Ns.DataForms).AddText(Ns.Mam)));
        foreach (var (v, value) in fields) x.Add(new Element("field", Ns.DataForms).SetAttribute("var", v).Add(new Element("value", Ns.DataForms).AddText(value)));
        return x;
    }

    private static Element Set(int max, string? after = null, string? before = null)
    {
        var set = new Element("set", Rsm).Add(new Element("max", Rsm).AddText(max.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (after is not null) set.Add(new Element("after", Rsm).AddText(after));
        if (before is not null) set.Add(new Element("before", Rsm).AddText(before));
        return set;
    }

    // Sends the query; collects the result messages that arrive before the IQ result, then the <fin/>.
    private static async Task<(List<(string Id, Element Forwarded)> Results, Element Reply)> RunAsync(XmppClient client, Element iq)
    {
        var reply = await client.RequestAsync(iq);
        var results = new List<(string, Element)>();
        var marker = "end-" + Guid.NewGuid().ToString("N");
        await client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", client.BoundJid.ToString()).SetAttribute("id", marker));
        using var timeout = new CancellationTokenSource(5000);
        while (true)
        {
            var e = await client.ReceiveAsync(timeout.Token);
            if (e.GetAttribute("id") == marker) break;
            if (e.Child("result", Ns.Mam) is { } result) results.Add((result.GetAttribute("id")!, result.Child("forwarded", Ns.Forward)!));
        }
        return (results, reply);
    }

    private static List<string> Bodies(List<(string Id, Element Forwarded)> results) =>
        results.ConvertAll(r => r.Forwarded.Child("message", Ns.Client)!.ChildText("body", Ns.Client)!);

    private sealed record Conversation(TestServer Server, XmppClient Alice, XmppClient Bob) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Alice.DisposeAsync();
            await Bob.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private static async Task<Conversation> ConversationAsync(int messages)
    {
        var server = await TestServer.StartAsync();
        var alice = await server.LoginAsync("alice", "phone");
        var bob = await server.LoginAsync("bob", "desk");
        for (var i = 0; i < messages; i++)
        {
            var (from, to) = i % 2 == 0 ? (bob, "alice@example.test/phone") : (alice, "bob@example.test/desk");
            await from.SendAsync(Chat(to, "m" + i));
            await from.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));
        }
        return new Conversation(server, alice, bob);
    }

    [Fact]
    public async Task Xep0313_both_sides_are_archived_and_the_recipient_copy_carries_its_stanza_id()
    {
        await using var c = await ConversationAsync(2);
        var (server, alice, bob) = c;
        // m0 went bob -> alice: alice received it with a stanza-id by her account.
        Element m0;
        using (var timeout = new CancellationTokenSource(5000))
            do m0 = await alice.ReceiveAsync(timeout.Token);
            while (m0.ChildText("body", Ns.Client) != "m0");
        var stanzaId = m0.Child("stanza-id", Ns.StanzaId)!;
        Assert.Equal("alice@example.test", stanzaId.GetAttribute("by"));

        var (results, reply) = await RunAsync(alice, Query("q1"));
        Assert.Equal(["m0", "m1"], Bodies(results));
        Assert.Equal(stanzaId.GetAttribute("id"), results[0].Id);
        Assert.NotNull(results[0].Forwarded.Child("delay", Ns.Delay)?.GetAttribute("stamp"));
        var fin = reply.Child("fin", Ns.Mam)!;
        Assert.Equal("true", fin.GetAttribute("complete"));
        Assert.Equal("2", fin.Child("set", Rsm)!.ChildText("count", Rsm));

        var (bobs, _) = await RunAsync(bob, Query("q2"));
        Assert.Equal(["m0", "m1"], Bodies(bobs));
    }

    [Fact]
    public async Task Xep0059_pages_forward_backward_and_flipped_with_first_last_and_complete()
    {
        await using var c = await ConversationAsync(5);
        var (server, alice, bob) = c;
        var (page1, reply1) = await RunAsync(alice, Query("p1", set: Set(2)));
        Assert.Equal(["m0", "m1"], Bodies(page1));
        var set1 = reply1.Child("fin", Ns.Mam)!.Child("set", Rsm)!;
        Assert.Null(reply1.Child("fin", Ns.Mam)!.GetAttribute("complete"));
        Assert.Equal(("0", "5"), (set1.Child("first", Rsm)!.GetAttribute("index"), set1.ChildText("count", Rsm)));

        var (page2, _) = await RunAsync(alice, Query("p2", set: Set(2, after: set1.ChildText("last", Rsm))));
        Assert.Equal(["m2", "m3"], Bodies(page2));

        var (last, lastReply) = await RunAsync(alice, Query("p3", set: Set(2, before: "")));
        Assert.Equal(["m3", "m4"], Bodies(last));
        var lastSet = lastReply.Child("fin", Ns.Mam)!.Child("set", Rsm)!;
        Assert.Equal("3", lastSet.Child("first", Rsm)!.GetAttribute("index"));
        var (earlier, earlierReply) = await RunAsync(alice, Query("p4", set: Set(5, before: lastSet.ChildText("first", Rsm))));
        Assert.Equal(["m0", "m1", "m2"], Bodies(earlier));
        Assert.Equal("true", earlierReply.Child("fin", Ns.Mam)!.GetAttribute("complete"));

        var (flipped, _) = await RunAsync(alice, Query("p5", set: Set(2, before: ""), flip: true));
        Assert.Equal(["m4", "m3"], Bodies(flipped));
    }

    [Fact]
    public async Task Xep0313_4_1_filters_and_their_errors()
    {
        await using var c = await ConversationAsync(4);
        var (server, alice, bob) = c;
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Chat("alice@example.test/phone", "from carol"));
        await carol.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

        var (withCarol, _) = await RunAsync(alice, Query("f1", Form(("with", "carol@example.test"))));
        Assert.Equal(["from carol"], Bodies(withCarol));
        var (all, _) = await RunAsync(alice, Query("f2"));
        var ids = all.ConvertAll(r => r.Id);
        var (between, _) = await RunAsync(alice, Query("f3", Form(("after-id", ids[0]), ("before-id", ids[3]))));
        Assert.Equal(["m1", "m2"], Bodies(between));
        var (future, futureReply) = await RunAsync(alice, Query("f4", Form(("start", "2999-01-01T00:00:00Z"))));
        Assert.Empty(future);
        Assert.Equal("0", futureReply.Child("fin", Ns.Mam)!.Child("set", Rsm)!.ChildText("count", Rsm));

        var unknownField = await alice.RequestAsync(Query("f5", Form(("{urn:example}fulltext", "x"))));
        Assert.NotNull(unknownField.Child("error", Ns.Client)?.Child("feature-not-implemented", Ns.Stanzas));
        var unknownId = await alice.RequestAsync(Query("f6", set: Set(5, after: "not-an-id")));
        Assert.NotNull(unknownId.Child("error", Ns.Client)?.Child("item-not-found", Ns.Stanzas));
        var badDate = await alice.RequestAsync(Query("f7", Form(("start", "yesterday"))));
        Assert.NotNull(badDate.Child("error", Ns.Client)?.Child("bad-request", Ns.Stanzas));
    }

    [Fact]
    public async Task Xep0313_6_preferences_decide_what_is_archived_and_xep0359_spoofed_ids_are_removed()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice", "phone");
        await using var bob = await server.LoginAsync("bob", "desk");
        var prefs = new Element("prefs", Ns.Mam).SetAttribute("default", "never")
            .Add(new Element("always", Ns.Mam).Add(new Element("jid", Ns.Mam).AddText("carol@example.test")));
        var set = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(prefs));
        Assert.Equal("never", set.Child("prefs", Ns.Mam)!.GetAttribute("default"));

        var spoof = Chat("alice@example.test/phone", "not archived")
            .Add(new Element("stanza-id", Ns.StanzaId).SetAttribute("by", "alice@example.test").SetAttribute("id", "forged"));
        await bob.SendAsync(spoof);
        using var timeout = new CancellationTokenSource(5000);
        var received = await alice.ReceiveAsync(timeout.Token);
        Assert.Null(received.Child("stanza-id", Ns.StanzaId));
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Chat("alice@example.test/phone", "archived"));
        await carol.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

        var (results, _) = await RunAsync(alice, Query("q"));
        Assert.Equal(["archived"], Bodies(results));
        var got = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("prefs", Ns.Mam)));
        Assert.Equal("carol@example.test", got.Child("prefs", Ns.Mam)!.Child("always", Ns.Mam)!.ChildText("jid", Ns.Mam));
    }

    [Fact]
    public async Task Xep0313_metadata_form_and_disco_on_the_account()
    {
        await using var c = await ConversationAsync(3);
        var (server, alice, bob) = c;
        var metadata = (await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("metadata", Ns.Mam)))).Child("metadata", Ns.Mam)!;
        var (all, _) = await RunAsync(alice, Query("m"));
        Assert.Equal(all[0].Id, metadata.Child("start", Ns.Mam)!.GetAttribute("id"));
        Assert.Equal(all[^1].Id, metadata.Child("end", Ns.Mam)!.GetAttribute("id"));

        var form = (await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("query", Ns.Mam)))).Child("query", Ns.Mam)!;
        Assert.Contains("<field var='after-id'", form.ToString(), StringComparison.Ordinal);

        var disco = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", "alice@example.test").Add(new Element("query", Ns.DiscoInfo)));
        var features = disco.ToString();
        foreach (var f in new[] { Ns.Mam, Ns.MamExtended, Ns.StanzaId })
            Assert.Contains($"var='{f}'", features, StringComparison.Ordinal);
    }
}
