using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Server.Tests.Modules.Blocking;

/// <summary>XEP-0191 §3.3 and §3.4: what blocking and unblocking do to presence between two subscribed contacts.</summary>
public sealed class BlockingPresenceTests
{
    private static Element Iq(string type, Element payload) => new Element("iq", Ns.Client).SetAttribute("type", type).Add(payload);

    private static Element Items(string name, string jid) => new Element(name, Ns.Blocking).Add(new Element("item", Ns.Blocking).SetAttribute("jid", jid));

    // Every presence the client got before a message it then sends to itself.
    private static async Task<List<Element>> PresencesSoFarAsync(XmppClient client)
    {
        var marker = "m" + Guid.NewGuid().ToString("N");
        await client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", client.BoundJid.ToString()).SetAttribute("id", marker));
        using var timeout = new CancellationTokenSource(5000);
        var seen = new List<Element>();
        while (true)
        {
            var e = await client.ReceiveAsync(timeout.Token);
            if (e.LocalName == "message" && e.GetAttribute("id") == marker) return seen;
            if (e.LocalName == "presence") seen.Add(e);
        }
    }

    private static async Task<(XmppClient Alice, XmppClient Bob)> FriendsAsync(TestServer server)
    {
        var alice = await server.LoginAsync("alice", "phone");
        var bob = await server.LoginAsync("bob", "desk");
        await alice.SendAsync(Presence());
        await bob.SendAsync(Presence());
        await alice.SendAsync(Presence("subscribe", "bob@example.test"));
        await bob.SendAsync(Presence("subscribed", "alice@example.test"));
        await bob.SendAsync(Presence("subscribe", "alice@example.test"));
        await alice.SendAsync(Presence("subscribed", "bob@example.test"));
        // Connections are not ordered with each other: bob's stanzas are all handled when his marker returns,
        // alice's when hers does, and what hers caused for bob is drained by his second marker.
        await PresencesSoFarAsync(bob);
        await PresencesSoFarAsync(alice);
        await PresencesSoFarAsync(bob);
        return (alice, bob);
    }

    [Fact]
    public async Task Xep0191_3_3_blocking_sends_unavailable_and_stops_presence_both_ways_and_unblocking_restores_it()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await FriendsAsync(server);
        await using var _ = alice;
        await using var __ = bob;

        await bob.RequestAsync(Iq("set", Items("block", "alice@example.test")));
        var gone = await PresencesSoFarAsync(alice);
        Assert.Contains(gone, p => p.GetAttribute("from") == "bob@example.test/desk" && p.GetAttribute("type") == "unavailable");

        // While blocked, neither side's presence changes reach the other.
        await bob.SendAsync(Presence(show: "away"));
        await alice.SendAsync(Presence(show: "dnd"));
        Assert.DoesNotContain(await PresencesSoFarAsync(alice), p => p.GetAttribute("from") == "bob@example.test/desk");
        Assert.DoesNotContain(await PresencesSoFarAsync(bob), p => p.GetAttribute("from") == "alice@example.test/phone");

        // A new resource of Alice probes Bob on login and learns nothing.
        await using var laptop = await server.LoginAsync("alice", "laptop");
        await laptop.SendAsync(Presence());
        Assert.DoesNotContain(await PresencesSoFarAsync(laptop), p => p.GetAttribute("from") == "bob@example.test/desk");

        // §3.4: unblocking sends Bob's current presence again.
        await bob.RequestAsync(Iq("set", Items("unblock", "alice@example.test")));
        var back = await PresencesSoFarAsync(alice);
        var away = Assert.Single(back, p => p.GetAttribute("from") == "bob@example.test/desk");
        Assert.Equal("away", away.ChildText("show", Ns.Client));
    }

    [Fact]
    public async Task Xep0191_a_subscription_request_from_a_blocked_account_never_arrives()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("carol");
        await using var mallory = await server.LoginAsync("mallory");
        await using (var carol = await server.LoginAsync("carol"))
            await carol.RequestAsync(Iq("set", Items("block", "mallory@example.test")));
        await mallory.SendAsync(Presence("subscribe", "carol@example.test"));
        await PresencesSoFarAsync(mallory);
        await using var again = await server.LoginAsync("carol");
        await again.SendAsync(Presence());
        Assert.DoesNotContain(await PresencesSoFarAsync(again), p => p.GetAttribute("type") == "subscribe");
    }
}
