using System.Collections.Concurrent;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>
/// The library's built-in handling of what the server sends: IQ requests always answered, and nothing from the network
/// trusted as coming from the account unless it does (roster pushes, carbons, archive results).
/// </summary>
public sealed class IncomingStanzaTests
{
    private static XmppClientOptions Options(int port) => new()
    {
        Jid = Jid.Parse("alice@example.test"),
        Password = "pw",
        Host = "127.0.0.1",
        Port = port,
        RequireTls = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(5),
    };

    // The server runs `script` when the client sends <message id='go'/>, and collects the client's IQ replies.
    private static ScriptedServer Server(string script, ConcurrentQueue<Element> replies) => new(async (e, s) =>
    {
        if (e.LocalName == "message" && e.GetAttribute("id") == "go") await s.SendAsync(script);
        else if (e.LocalName == "iq" && e.GetAttribute("type") is "result" or "error") replies.Enqueue(e);
    });

    private static Task GoAsync(XmppClient client) =>
        client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", "example.test").SetAttribute("id", "go"));

    private static async Task<Element> ReplyAsync(ConcurrentQueue<Element> replies, string id)
    {
        for (var i = 0; i < 100; i++)
        {
            foreach (var r in replies)
                if (r.GetAttribute("id") == id) return r;
            await Task.Delay(50);
        }
        throw new TimeoutException("No reply to " + id);
    }

    [Fact]
    public async Task Rfc6121_2_1_6_a_roster_push_from_someone_else_is_refused_and_one_from_the_account_applied()
    {
        var replies = new ConcurrentQueue<Element>();
        await using var server = Server(
            "<iq type='set' id='evil' from='mallory@example.test/x'><query xmlns='jabber:iq:roster'><item jid='mallory@example.test' subscription='both'/></query></iq>"
            + "<iq type='set' id='good'><query xmlns='jabber:iq:roster' ver='v2'><item jid='bob@example.test' name='Bob' subscription='to'/></query></iq>", replies);
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        await GoAsync(client);
        Assert.Equal("error", (await ReplyAsync(replies, "evil")).GetAttribute("type"));
        Assert.Equal("result", (await ReplyAsync(replies, "good")).GetAttribute("type"));
        var item = Assert.Single(client.Roster.Items);
        Assert.Equal(Jid.Parse("bob@example.test"), item.Jid);
        Assert.Equal("to", item.Subscription);
        Assert.Equal("v2", client.Roster.Version);
    }

    [Fact]
    public async Task Rfc6120_8_4_an_unknown_request_gets_service_unavailable_and_ping_and_disco_are_answered()
    {
        var replies = new ConcurrentQueue<Element>();
        await using var server = Server(
            "<iq type='get' id='u1' from='example.test'><query xmlns='urn:example:unknown'/></iq>"
            + "<iq type='get' id='p1' from='example.test'><ping xmlns='urn:xmpp:ping'/></iq>"
            + "<iq type='get' id='d1' from='bob@example.test/x'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", replies);
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        await GoAsync(client);
        var unknown = await ReplyAsync(replies, "u1");
        Assert.Equal("error", unknown.GetAttribute("type"));
        Assert.NotNull(unknown.Child("error", Ns.Client)?.Child("service-unavailable", Ns.Stanzas));
        Assert.Equal("result", (await ReplyAsync(replies, "p1")).GetAttribute("type"));
        var disco = await ReplyAsync(replies, "d1");
        Assert.Equal("bob@example.test/x", disco.GetAttribute("to"));
        var info = DiscoInfo.Parse(disco.Child("query", Ns.DiscoInfo)!);
        Assert.True(info.Supports(Ns.Ping));
        // XEP-0115 §5: the caps ver hashes exactly what disco#info says.
        Assert.Equal(client.CapsVer, CapsVerification.Ver(info.Element, "sha-1"));
    }

    [Fact]
    public async Task Xep0280_11_a_carbon_from_someone_else_is_not_unwrapped()
    {
        var replies = new ConcurrentQueue<Element>();
        await using var server = Server(
            "<message from='mallory@example.test/x' id='fake'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            + "<message xmlns='jabber:client' from='bob@example.test/y' to='alice@example.test/other' type='chat'><body>forged</body></message></forwarded></received></message>"
            + "<message from='alice@example.test' id='real'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            + "<message xmlns='jabber:client' from='bob@example.test/y' to='alice@example.test/other' type='chat'><body>genuine</body></message></forwarded></received></message>", replies);
        await using var client = new XmppClient(Options(server.Port));
        var messages = new ConcurrentQueue<ChatMessage>();
        client.MessageReceived += (_, m) => messages.Enqueue(m);
        await client.ConnectAsync();
        await GoAsync(client);
        for (var i = 0; i < 100 && messages.Count < 2; i++) await Task.Delay(50);
        var list = messages.ToArray();
        Assert.Equal(2, list.Length);
        Assert.Equal(CarbonDirection.None, list[0].Carbon);
        Assert.Equal(Jid.Parse("mallory@example.test/x"), list[0].From);
        Assert.Null(list[0].Body);
        Assert.Equal(CarbonDirection.Received, list[1].Carbon);
        Assert.Equal("genuine", list[1].Body);
        Assert.Equal(Jid.Parse("bob@example.test/y"), list[1].From);
    }

    [Fact]
    public async Task Xep0184_5_1_a_receipt_request_is_answered_with_the_message_id_but_not_for_groupchat()
    {
        var received = new ConcurrentQueue<Element>();
        await using var server = new ScriptedServer(async (e, s) =>
        {
            if (e.LocalName == "message" && e.GetAttribute("id") == "go")
                await s.SendAsync("<message from='room@muc.example.test/bob' type='groupchat' id='g1'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>"
                    + "<message from='bob@example.test/y' type='chat' id='c1'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>");
            else if (e.LocalName == "message") received.Enqueue(e);
        });
        await using var client = new XmppClient(Options(server.Port));
        await client.ConnectAsync();
        await GoAsync(client);
        for (var i = 0; i < 100 && received.IsEmpty; i++) await Task.Delay(50);
        await Task.Delay(200);
        var receipt = Assert.Single(received);
        Assert.Equal("bob@example.test/y", receipt.GetAttribute("to"));
        Assert.Equal("c1", receipt.Child("received", Ns.Receipts)?.GetAttribute("id"));
    }

    [Fact]
    public async Task Xep0199_4_2_a_server_that_stops_answering_is_found_dead_by_the_keepalive()
    {
        // The scripted server answers nothing: the first keepalive ping times out and the connection is cut.
        await using var server = new ScriptedServer();
        await using var client = new XmppClient(Options(server.Port) with
        {
            KeepaliveInterval = TimeSpan.FromMilliseconds(300),
            IqTimeout = TimeSpan.FromMilliseconds(500),
        });
        await client.ConnectAsync();
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, client.KeepaliveFailures);
    }
}
