using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Server.Tests.Modules.Roster;

/// <summary>RFC 6121 §3 and §4 stories that need connections to come and go.</summary>
public sealed class SubscriptionTests
{
    private static async Task SyncAsync(XmppClient client) =>
        await client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

    private static async Task BefriendAsync(XmppClient a, XmppClient b)
    {
        await a.SendAsync(Presence("subscribe", b.BoundJid.Bare.ToString()));
        Assert.Equal("subscribe", (await NextAsync(b, "presence")).GetAttribute("type"));
        await b.SendAsync(Presence("subscribed", a.BoundJid.Bare.ToString()));
        await b.SendAsync(Presence("subscribe", a.BoundJid.Bare.ToString()));
        // As a client does: approve b's request once it has arrived.
        Element request;
        do request = await NextAsync(a, "presence");
        while (request.GetAttribute("type") != "subscribe");
        await a.SendAsync(Presence("subscribed", b.BoundJid.Bare.ToString()));
        await SyncAsync(a);
        await SyncAsync(b);
    }

    [Fact]
    public async Task Rfc6121_3_1_3_a_request_to_an_offline_contact_waits_for_its_next_login()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("bob");
        await using var alice = await server.LoginAsync("alice");
        await alice.SendAsync(Presence("subscribe", "bob@example.test"));
        await SyncAsync(alice);
        await using var bob = await server.LoginAsync("bob");
        await bob.SendAsync(Presence());
        var request = await NextAsync(bob, "presence");
        Assert.Equal("subscribe", request.GetAttribute("type"));
        Assert.Equal("alice@example.test", request.GetAttribute("from"));
    }

    [Fact]
    public async Task Rfc6121_4_3_initial_presence_probes_contacts_and_4_5_2_a_lost_connection_is_announced_unavailable()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice", "phone");
        await using var bob = await server.LoginAsync("bob", "desk");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence(show: "dnd"));
        await SyncAsync(alice);
        await SyncAsync(bob);
        await BefriendAsync(alice, bob);

        // A second resource of Alice comes online and learns Bob's presence by the probe.
        await using var laptop = await server.LoginAsync("alice", "laptop");
        await laptop.SendAsync(Presence());
        var probed = await NextAsync(laptop, "presence");
        while (probed.GetAttribute("from") != bob.BoundJid.ToString()) probed = await NextAsync(laptop, "presence");
        Assert.Equal("dnd", probed.ChildText("show", Ns.Client));

        // Bob's connection is dropped without a close: his contact still hears he is gone.
        await bob.DisposeAsync();
        Element gone;
        do gone = await NextAsync(laptop, "presence");
        while (gone.GetAttribute("from") != "bob@example.test/desk");
        Assert.Equal("unavailable", gone.GetAttribute("type"));
    }

    [Fact]
    public async Task Rfc6121_3_4_a_pre_approved_request_is_granted_at_once()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        await bob.SendAsync(Presence());
        await bob.SendAsync(Presence("subscribed", "alice@example.test"));   // approval before any request
        await SyncAsync(bob);
        await alice.SendAsync(Presence());
        await alice.SendAsync(Presence("subscribe", "bob@example.test"));
        var answer = await NextAsync(alice, "presence");
        Assert.Equal("subscribed", answer.GetAttribute("type"));
        var roster = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("query", Ns.Roster)));
        Assert.Equal("to", roster.Child("query", Ns.Roster)!.Child("item", Ns.Roster)!.GetAttribute("subscription"));
    }

    [Fact]
    public async Task Rfc6121_3_3_unsubscribing_ends_the_presence_flow()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence());
        await SyncAsync(alice);
        await SyncAsync(bob);
        await BefriendAsync(alice, bob);
        await alice.SendAsync(Presence("unsubscribe", "bob@example.test"));
        await SyncAsync(alice);
        var roster = await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("query", Ns.Roster)));
        Assert.Equal("to", roster.Child("query", Ns.Roster)!.Child("item", Ns.Roster)!.GetAttribute("subscription"));
        var mine = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("query", Ns.Roster)));
        Assert.Equal("from", mine.Child("query", Ns.Roster)!.Child("item", Ns.Roster)!.GetAttribute("subscription"));
    }

    [Fact]
    public async Task Rfc6121_3_1_3_a_request_to_an_account_that_does_not_exist_is_answered_with_unsubscribed()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await alice.SendAsync(Presence());
        await alice.SendAsync(Presence("subscribe", "nobody@example.test"));
        var answer = await NextAsync(alice, "presence");
        Assert.Equal("unsubscribed", answer.GetAttribute("type"));
        Assert.Equal("nobody@example.test", answer.GetAttribute("from"));
    }

    [Fact]
    public async Task Xep0012_last_activity_is_uptime_for_the_server_and_for_subscribers_the_time_since_logout()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var bob = await server.LoginAsync("bob");
        await using var mallory = await server.LoginAsync("mallory");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence());
        await SyncAsync(alice);
        await SyncAsync(bob);
        await BefriendAsync(alice, bob);
        static Element Last(string to) => new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", to).Add(new Element("query", "jabber:iq:last"));

        var uptime = await alice.RequestAsync(Last(TestServer.Domain));
        Assert.NotNull(uptime.Child("query", "jabber:iq:last")!.GetAttribute("seconds"));
        Assert.Equal("0", (await alice.RequestAsync(Last("bob@example.test"))).Child("query", "jabber:iq:last")!.GetAttribute("seconds"));

        await bob.SendAsync(new Element("presence", Ns.Client).SetAttribute("type", "unavailable").Add(new Element("status", Ns.Client).AddText("gone fishing")));
        await SyncAsync(bob);
        await bob.DisposeAsync();
        var last = (await alice.RequestAsync(Last("bob@example.test"))).Child("query", "jabber:iq:last")!;
        Assert.Equal("gone fishing", last.Text);
        Assert.True(long.Parse(last.GetAttribute("seconds")!, System.Globalization.CultureInfo.InvariantCulture) >= 0);

        var refused = await mallory.RequestAsync(Last("bob@example.test"));
        Assert.NotNull(refused.Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
    }

    [Fact]
    public async Task Rfc6121_4_3_2_a_probe_of_a_contact_with_no_available_resource_is_answered_unavailable_with_the_time()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice", "phone");
        var bob = await server.LoginAsync("bob", "desk");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence());
        await SyncAsync(alice);
        await SyncAsync(bob);
        await BefriendAsync(alice, bob);
        await bob.SendAsync(Presence("unavailable"));
        await SyncAsync(bob);
        await bob.DisposeAsync();

        await using var laptop = await server.LoginAsync("alice", "laptop");
        await laptop.SendAsync(Presence());
        Element answer;
        do answer = await NextAsync(laptop, "presence");
        while (answer.GetAttribute("from") != "bob@example.test");
        Assert.Equal("unavailable", answer.GetAttribute("type"));
        Assert.NotNull(answer.Child("delay", Ns.Delay)?.GetAttribute("stamp"));
    }

    [Fact]
    public async Task Rfc6121_3_a_request_and_an_approval_that_cross_on_two_connections_still_end_in_both()
    {
        // Bob's subscribed and subscribe, and alice's subscribed sent before bob's request reaches her: handled
        // concurrently, they once left a pending request beside a pre-approval. Ten pairs make the race likely.
        await using var server = await TestServer.StartAsync();
        for (var i = 0; i < 10; i++)
        {
            await using var a = await server.LoginAsync("a" + i);
            await using var b = await server.LoginAsync("b" + i);
            await a.SendAsync(Presence());
            await b.SendAsync(Presence());
            await SyncAsync(a);
            await SyncAsync(b);
            await a.SendAsync(Presence("subscribe", b.BoundJid.Bare.ToString()));
            Assert.Equal("subscribe", (await NextAsync(b, "presence")).GetAttribute("type"));
            await Task.WhenAll(
                b.SendAsync(Presence("subscribed", a.BoundJid.Bare.ToString())).ContinueWith(_ => b.SendAsync(Presence("subscribe", a.BoundJid.Bare.ToString()))).Unwrap(),
                a.SendAsync(Presence("subscribed", b.BoundJid.Bare.ToString())));
            await SyncAsync(a);
            await SyncAsync(b);
            foreach (var c in new[] { a, b })
            {
                var roster = await c.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("query", Ns.Roster)));
                Assert.Equal("both", roster.Child("query", Ns.Roster)!.Child("item", Ns.Roster)!.GetAttribute("subscription"));
            }
        }
    }
}
