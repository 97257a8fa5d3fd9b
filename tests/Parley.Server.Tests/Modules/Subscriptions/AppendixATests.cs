using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Modules.Roster;
using Parley.Server.Routing;
using Parley.Server.Storage;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Subscriptions;

/// <summary>
/// RFC 6121 Appendix A, every row of Tables 2–9, for the user's server. The contact is on another server (a
/// recording remote router stands in for federation), so each half is seen alone: A.2 by what the user's
/// outbound stanza does to the user's roster and whether it is routed, A.3 by what an inbound stanza from the
/// contact does to the user's roster and whether it is delivered to the user.
/// </summary>
public sealed class AppendixATests(AppendixATests.Fixture fixture) : IClassFixture<AppendixATests.Fixture>
{
    public const string NoChange = "no state change";
    public const string PreApproval = "pre-approval";

    private static readonly string[] States =
        ["None", "None + Pending Out", "None + Pending In", "None + Pending Out+In", "To", "To + Pending In", "From", "From + Pending Out", "Both"];

    // Table 2 to 5: (existing state, routed?, new state), in the order of States.
    private static readonly (bool Route, string New)[] OutSubscribe =
        [(true, "None + Pending Out"), (true, NoChange), (true, "None + Pending Out+In"), (true, NoChange), (true, NoChange), (true, NoChange), (true, "From + Pending Out"), (true, NoChange), (true, NoChange)];
    private static readonly (bool Route, string New)[] OutUnsubscribe =
        [(true, NoChange), (true, "None"), (true, NoChange), (true, "None + Pending In"), (true, "None"), (true, "None + Pending In"), (true, NoChange), (true, "From"), (true, "From")];
    private static readonly (bool Route, string New)[] OutSubscribed =
        [(false, PreApproval), (false, PreApproval), (true, "From"), (true, "From + Pending Out"), (false, PreApproval), (true, "Both"), (false, NoChange), (false, NoChange), (false, NoChange)];
    private static readonly (bool Route, string New)[] OutUnsubscribed =
        [(false, NoChange), (false, NoChange), (true, "None"), (true, "None + Pending Out"), (false, NoChange), (true, "To"), (true, "None"), (true, "None + Pending Out"), (true, "To")];

    // Table 6 to 9: (existing state, delivered?, new state, auto-reply to the contact or null).
    private static readonly (bool Deliver, string New, string? Reply)[] InSubscribe =
        [(true, "None + Pending In", null), (true, "None + Pending Out+In", null), (false, NoChange, null), (false, NoChange, null), (true, "To + Pending In", null), (false, NoChange, null), (false, NoChange, "subscribed"), (false, NoChange, "subscribed"), (false, NoChange, "subscribed")];
    private static readonly (bool Deliver, string New, string? Reply)[] InUnsubscribe =
        [(false, NoChange, null), (false, NoChange, null), (true, "None", "unsubscribed"), (true, "None + Pending Out", "unsubscribed"), (false, NoChange, null), (true, "To", "unsubscribed"), (true, "None", "unsubscribed"), (true, "None + Pending Out", "unsubscribed"), (true, "To", "unsubscribed")];
    private static readonly (bool Deliver, string New, string? Reply)[] InSubscribed =
        [(false, NoChange, null), (true, "To", null), (false, NoChange, null), (true, "To + Pending In", null), (false, NoChange, null), (false, NoChange, null), (false, NoChange, null), (true, "Both", null), (false, NoChange, null)];
    private static readonly (bool Deliver, string New, string? Reply)[] InUnsubscribed =
        [(false, NoChange, null), (true, "None", null), (false, NoChange, null), (true, "None + Pending In", null), (true, "None", null), (true, "None + Pending In", null), (false, NoChange, null), (true, "From", null), (true, "From", null)];

    public static TheoryData<string, string, bool, string> Outbound()
    {
        var data = new TheoryData<string, string, bool, string>();
        foreach (var (type, table) in new[] { ("subscribe", OutSubscribe), ("unsubscribe", OutUnsubscribe), ("subscribed", OutSubscribed), ("unsubscribed", OutUnsubscribed) })
            for (var i = 0; i < States.Length; i++) data.Add(type, States[i], table[i].Route, table[i].New);
        return data;
    }

    public static TheoryData<string, string, bool, string, string> Inbound()
    {
        var data = new TheoryData<string, string, bool, string, string>();
        foreach (var (type, table) in new[] { ("subscribe", InSubscribe), ("unsubscribe", InUnsubscribe), ("subscribed", InSubscribed), ("unsubscribed", InUnsubscribed) })
            for (var i = 0; i < States.Length; i++) data.Add(type, States[i], table[i].Deliver, table[i].New, table[i].Reply ?? "none");
        return data;
    }

    [Theory]
    [MemberData(nameof(Outbound))]
    public async Task A2_outbound(string type, string existing, bool routed, string expected)
    {
        var contact = fixture.NextContact();
        await fixture.SetStateAsync(contact, existing);
        await fixture.Alice.SendAsync(new Element("presence", Ns.Client).SetAttribute("type", type).SetAttribute("to", contact.ToString()));
        await fixture.Alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

        Assert.Equal(routed, fixture.Remote.SentTo(contact, type));
        var (state, approved) = await fixture.GetStateAsync(contact);
        Assert.Equal(expected is NoChange or PreApproval ? existing : expected, state);
        if (expected == PreApproval) Assert.True(approved, "§3.4: the approval is kept as a pre-approval");
    }

    [Theory]
    [MemberData(nameof(Inbound))]
    public async Task A3_inbound(string type, string existing, bool delivered, string expected, string reply)
    {
        var contact = fixture.NextContact();
        await fixture.SetStateAsync(contact, existing);
        var presence = new Element("presence", Ns.Client).SetAttribute("type", type).SetAttribute("from", contact.ToString()).SetAttribute("to", fixture.Alice.BoundJid.Bare.ToString());
        await fixture.Router.RouteAsync(Stanza.Create(presence), fixture.RemoteServer, CancellationToken.None);

        Assert.Equal(delivered, await fixture.DeliveredAsync(contact, type));
        var (state, _) = await fixture.GetStateAsync(contact);
        Assert.Equal(expected == NoChange ? existing : expected, state);
        foreach (var answer in new[] { "subscribed", "unsubscribed" })
            Assert.Equal(reply == answer, fixture.Remote.SentTo(contact, answer));
    }

    [Theory]
    [InlineData("From", "available")]
    [InlineData("Both", "available")]
    [InlineData("None", "unsubscribed")]
    [InlineData("To", "unsubscribed")]
    public async Task Rfc6121_4_3_2_a_probe_from_another_server_is_answered_by_subscription(string existing, string answer)
    {
        var contact = fixture.NextContact();
        await fixture.SetStateAsync(contact, existing);
        var probe = new Element("presence", Ns.Client).SetAttribute("type", "probe").SetAttribute("from", contact.ToString()).SetAttribute("to", fixture.Alice.BoundJid.Bare.ToString());
        await fixture.Router.RouteAsync(Stanza.Create(probe), fixture.RemoteServer, CancellationToken.None);
        if (answer == "available")
        {
            var presence = Assert.Single(fixture.Remote.To(contact));
            Assert.Null(presence.GetAttribute("type"));
            Assert.Equal(fixture.Alice.BoundJid.ToString(), presence.GetAttribute("from"));   // §4.3.2 step 4: each resource's full JID
        }
        else
        {
            var presence = Assert.Single(fixture.Remote.To(contact));
            Assert.Equal("unsubscribed", presence.GetAttribute("type"));
            Assert.Equal(fixture.Alice.BoundJid.Bare.ToString(), presence.GetAttribute("from"));   // step 1: never a full JID
        }
    }

    /// <summary>Records what would go to other servers.</summary>
    public sealed class RecordingRemote : IRemoteRouter
    {
        private readonly ConcurrentQueue<Element> _sent = new();

        public ValueTask SendAsync(Stanza stanza, ISession origin, CancellationToken ct)
        {
            _sent.Enqueue(stanza.Element.Clone());
            return ValueTask.CompletedTask;
        }

        public List<Element> To(Jid contact)
        {
            var list = new List<Element>();
            foreach (var e in _sent)
                if (e.GetAttribute("to") == contact.ToString()) list.Add(e);
            return list;
        }

        public bool SentTo(Jid contact, string type)
        {
            foreach (var e in _sent)
                if (e.GetAttribute("to") == contact.ToString() && e.GetAttribute("type") == type) return true;
            return false;
        }
    }

    /// <summary>The contact's server, as an origin of inbound stanzas.</summary>
    public sealed class RemoteSession(Jid domain) : ISession
    {
        public Jid Jid => domain;

        public bool TryDeliver(Element stanza) => true;
    }

    /// <summary>One server and one available session of alice; each row uses its own remote contact.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private int _next;

        public RecordingRemote Remote { get; } = new();

        public RemoteSession RemoteServer { get; } = new(Jid.Create(null, "remote.test"));

        public TestServer Server { get; private set; } = null!;

        public XmppClient Alice { get; private set; } = null!;

        public Router Router => Server.Services.GetRequiredService<Router>();

        public Jid NextContact() => Jid.Create("c" + Interlocked.Increment(ref _next), "remote.test");

        public async Task InitializeAsync()
        {
            Server = await TestServer.StartAsync(services: s => s.AddSingleton<IRemoteRouter>(Remote));
            Alice = await Server.LoginAsync("alice", "desk");
            await Alice.SendAsync(new Element("presence", Ns.Client));
        }

        public async Task DisposeAsync()
        {
            await Alice.DisposeAsync();
            await Server.DisposeAsync();
        }

        private Jid AliceBare => Alice.BoundJid.Bare;

        private IMapStore Pending => Server.Services.GetRequiredService<IStorage>().Map("roster.pending");

        public async Task SetStateAsync(Jid contact, string state)
        {
            var sub = state.Split(' ')[0].ToLowerInvariant();
            var pendingOut = state.Contains("Pending Out", StringComparison.Ordinal);
            var pendingIn = state.EndsWith("In", StringComparison.Ordinal);
            // A.1: "None + Pending In" need not be reflected in the roster; "None" is no item at all.
            if (state is not ("None" or "None + Pending In"))
            {
                var item = new Element("item", Ns.Roster).SetAttribute("jid", contact.ToString()).SetAttribute("subscription", sub);
                if (pendingOut) item.SetAttribute("ask", "subscribe");
                await Server.Services.GetRequiredService<RosterStore>().ChangeAsync(AliceBare, contact, _ => item, CancellationToken.None);
            }
            if (pendingIn)
            {
                var request = new Element("presence", Ns.Client).SetAttribute("type", "subscribe").SetAttribute("from", contact.ToString()).SetAttribute("to", AliceBare.ToString());
                await Pending.SetAsync(AliceBare, contact.ToString(), request, CancellationToken.None);
            }
        }

        public async Task<(string State, bool Approved)> GetStateAsync(Jid contact)
        {
            var item = await Server.Services.GetRequiredService<RosterStore>().GetAsync(AliceBare, contact, CancellationToken.None);
            var pendingIn = await Pending.GetAsync(AliceBare, contact.ToString(), CancellationToken.None) is not null;
            var state = (item?.GetAttribute("subscription") ?? "none") switch { "to" => "To", "from" => "From", "both" => "Both", _ => "None" };
            var pendingOut = item?.GetAttribute("ask") == "subscribe";
            if (pendingOut && pendingIn) state += " + Pending Out+In";
            else if (pendingOut) state += " + Pending Out";
            else if (pendingIn) state += " + Pending In";
            return (state, item?.GetAttribute("approved") == "true");
        }

        // Whatever was delivered to alice for this row was queued before a message she then sends to herself.
        public async Task<bool> DeliveredAsync(Jid contact, string type)
        {
            var marker = "marker-" + contact.Local;
            await Alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Alice.BoundJid.ToString()).SetAttribute("id", marker));
            using var timeout = new CancellationTokenSource(5000);
            var seen = false;
            while (true)
            {
                var e = await Alice.ReceiveAsync(timeout.Token);
                if (e.LocalName == "message" && e.GetAttribute("id") == marker) return seen;
                if (e.LocalName == "presence" && e.GetAttribute("from") == contact.ToString() && e.GetAttribute("type") == type) seen = true;
            }
        }
    }
}
