using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Modules.Blocking;
using Parley.Server.Modules.Roster;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Subscriptions;

/// <summary>
/// RFC 6121 §3 and Appendix A: presence subscriptions between accounts, with the user's-server (outbound) and
/// contact's-server (inbound) halves kept apart so that a remote contact needs only the other half; requests
/// wait for an offline contact (§3.1.3); pre-approval (§3.4). §4: presence broadcast to contacts with a
/// subscription from the user, probes of contacts the user subscribes to, and directed presence (§4.6).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "A semaphore without a wait handle holds nothing to free; the module lives as long as the server.")]
public sealed class SubscriptionModule(RosterStore roster, Blocklists blocklists, IStorage storage, SessionRegistry sessions, Addresses addresses, ServerOrigin server, IServiceProvider services) : IModule
{
    private readonly IMapStore _pending = storage.Map("roster.pending");
    private IRemoteRouter? _remote;

    // Resolved on first use: the remote router may itself depend on the router, which the modules must not.
    private IRemoteRouter Remote => _remote ??= (IRemoteRouter)services.GetService(typeof(IRemoteRouter))!;

    private Router? _router;

    private Router Router => _router ??= (Router)services.GetService(typeof(Router))!;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("subscriptions");

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.StreamFeature(Stage.Authenticated, _ => new Element("sub", "urn:xmpp:features:pre-approval"));
        m.Hook<Hooks.Routing>(OnRoutingAsync, priority: 50);
        m.Hook<PresenceBroadcast>(OnBroadcastAsync);
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(_pending.DeleteAllAsync(e.Account, ct)));
        // §4.6.3 for a session that sent directed presence (e.g. entered a chat room) but never broadcast any: it
        // goes away without a broadcast, so its directed-presence recipients are told here.
        m.Hook<SessionClosed>(async (e, ct) =>
        {
            List<Jid> directed;
            lock (e.Session.Presence.Directed)
            {
                if (e.Session.Presence.IsAvailable || e.Session.Presence.Directed.Count == 0) return;
                directed = [.. e.Session.Presence.Directed];
                e.Session.Presence.Directed.Clear();
            }
            foreach (var to in directed)
            {
                var unavailable = new Element("presence", Ns.Client).SetAttribute("type", "unavailable")
                    .SetAttribute("from", e.Session.Jid.ToString()).SetAttribute("to", to.ToString());
                if (addresses.IsLocal(to) && to.Local is not null)
                {
                    if (to.Resource is null) await DeliverToAvailableAsync(to, unavailable, ct).ConfigureAwait(false);
                    else if (sessions.TryGet(to, out var target)) target.TryDeliver(unavailable);
                }
                else
                {
                    // A chat room or a remote entity: through the router.
                    await Router.RouteAsync(Stanza.Create(unavailable), server, ct).ConfigureAwait(false);
                }
            }
        }, priority: -10);
    }

    // Subscription state spans two accounts (both halves, auto-replies, pre-approvals), and two connections can
    // change it at once: one request and its approval crossing each other must not leave a pending request next to a
    // pre-approval. Subscription stanzas are rare, so they are handled one at a time, server-wide.
    private readonly SemaphoreSlim _subscriptionGate = new(1, 1);

    private async ValueTask OnRoutingAsync(Hooks.Routing routing, CancellationToken ct)
    {
        if (routing.Stanza.Kind != StanzaKind.Presence || routing.Stanza.Type is not ("subscribe" or "subscribed" or "unsubscribe" or "unsubscribed" or "probe"))
        {
            await OnRoutingCoreAsync(routing, ct).ConfigureAwait(false);
            return;
        }
        await _subscriptionGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await OnRoutingCoreAsync(routing, ct).ConfigureAwait(false);
        }
        finally
        {
            _subscriptionGate.Release();
        }
    }

    private async ValueTask OnRoutingCoreAsync(Hooks.Routing routing, CancellationToken ct)
    {
        var stanza = routing.Stanza;
        if (stanza.Kind != StanzaKind.Presence || stanza.From is not { } from) return;
        var type = stanza.Type;
        if (routing.Origin is not IClientSession sender)
        {
            // Appendix A.3: a subscription stanza from a contact on another server, for a local account; §4.3.2:
            // a probe from another server on behalf of one of its users.
            if (!addresses.IsLocal(from) && stanza.To is { Local: not null } target && addresses.IsLocal(target))
            {
                if (type is "subscribe" or "subscribed" or "unsubscribe" or "unsubscribed")
                {
                    routing.Drop();
                    await InboundAsync(target.Bare, from.Bare, type, stanza.Element, ct).ConfigureAwait(false);
                }
                else if (type == "probe")
                {
                    routing.Drop();
                    await AnswerProbeAsync(target, from.Bare, p => Remote.SendAsync(Stanza.Create(p), server, ct), ct).ConfigureAwait(false);
                }
            }
            return;
        }
        if (type == "probe")
        {
            routing.Drop();                         // §4.3: probes are the server's business, not clients'
            return;
        }
        if (stanza.To is not { } to) return;
        if (type is null or "unavailable")
        {
            // §4.6: remember who got directed available presence.
            lock (sender.Presence.Directed)
            {
                if (type is null) sender.Presence.Directed.Add(to);
                else sender.Presence.Directed.Remove(to);
            }
            return;
        }
        if (type is not ("subscribe" or "subscribed" or "unsubscribe" or "unsubscribed")) return;
        var user = from.Bare;
        var contact = to.Bare;
        if (contact == user) { routing.Drop(); return; }
        // §3.1.2: the user's server stamps the bare JID on subscription stanzas.
        stanza.From = user;
        var forward = await OutboundAsync(user, contact, type, sender, ct).ConfigureAwait(false);
        if (!forward) { routing.Drop(); return; }
        if (addresses.IsLocal(contact))
        {
            routing.Drop();
            await InboundAsync(contact, user, type, stanza.Element, ct).ConfigureAwait(false);
        }
        else
        {
            // A remote contact: the stanza goes on to the remote router; the approval must reach it first.
            routing.Drop();
            await Remote.SendAsync(stanza, server, ct).ConfigureAwait(false);
        }
        // §3.1.5: after the approval itself, the new subscriber gets the user's current presence.
        if (type == "subscribed") await SendAvailableAsync(user, contact, ct).ConfigureAwait(false);
    }

    // The user's server (Appendix A.2). Returns whether the stanza goes on to the contact.
    private async Task<bool> OutboundAsync(Jid user, Jid contact, string type, IClientSession sender, CancellationToken ct)
    {
        switch (type)
        {
            case "subscribe":
                // A.2.1: None/From → ask=subscribe; To/Both unchanged. The request is sent either way.
                await roster.ChangeAsync(user, contact, item =>
                {
                    var sub = Sub(item);
                    if (sub is "to" or "both" || item?.GetAttribute("ask") == "subscribe") return item;
                    return With(item, contact, sub, ask: "subscribe", approved: item?.GetAttribute("approved"));
                }, ct).ConfigureAwait(false);
                return true;
            case "subscribed":
            {
                var request = await _pending.GetAsync(user, contact.ToString(), ct).ConfigureAwait(false);
                if (request is null)
                {
                    // §3.4: approval before any request is a pre-approval, kept and not sent.
                    await roster.ChangeAsync(user, contact, item =>
                        Sub(item) is "from" or "both" || item?.GetAttribute("approved") == "true"
                            ? item
                            : With(item, contact, Sub(item), item?.GetAttribute("ask"), approved: "true"), ct).ConfigureAwait(false);
                    return false;
                }
                // A.2.3: Pending In → From, To + Pending In → Both.
                await _pending.SetAsync(user, contact.ToString(), null, ct).ConfigureAwait(false);
                await roster.ChangeAsync(user, contact, item =>
                    With(item, contact, Sub(item) is "to" or "both" ? "both" : "from", item?.GetAttribute("ask"), approved: null), ct).ConfigureAwait(false);
                return true;
            }
            case "unsubscribe":
                // A.2.2: To → None, Both → From; a pending request is cancelled.
                await roster.ChangeAsync(user, contact, item =>
                {
                    if (item is null) return null;
                    var sub = Sub(item) switch { "to" => "none", "both" => "from", var s => s };
                    return sub == Sub(item) && item.GetAttribute("ask") is null ? item : With(item, contact, sub, ask: null, item.GetAttribute("approved"));
                }, ct).ConfigureAwait(false);
                return true;
            default: // unsubscribed
            {
                // A.2.4: From → None, Both → To; a pending request is denied and a pre-approval withdrawn.
                var hadRequest = await _pending.GetAsync(user, contact.ToString(), ct).ConfigureAwait(false) is not null;
                await _pending.SetAsync(user, contact.ToString(), null, ct).ConfigureAwait(false);
                var before = await roster.GetAsync(user, contact, ct).ConfigureAwait(false);
                await roster.ChangeAsync(user, contact, item =>
                {
                    if (item is null) return null;
                    var sub = Sub(item) switch { "from" => "none", "both" => "to", var s => s };
                    return sub == Sub(item) && item.GetAttribute("approved") is null ? item : With(item, contact, sub, item.GetAttribute("ask"), approved: null);
                }, ct).ConfigureAwait(false);
                // §3.2.2: a former subscriber sees the user go unavailable.
                if (Sub(before) is "from" or "both") await SendUnavailableAsync(user, contact, ct).ConfigureAwait(false);
                return hadRequest || Sub(before) is "from" or "both";
            }
        }
    }

    // The contact's server (Appendix A.3): the contact receives a subscription stanza from the user.
    private async Task InboundAsync(Jid contact, Jid user, string type, Element stanza, CancellationToken ct)
    {
        if (await storage.Accounts.GetAsync(contact, ct).ConfigureAwait(false) is null)
        {
            // §3.1.3: no such contact: the request is answered with unsubscribed.
            if (type == "subscribe") await ReplyAsync(contact, user, "unsubscribed", ct).ConfigureAwait(false);
            return;
        }
        switch (type)
        {
            case "subscribe":
            {
                var item = await roster.GetAsync(contact, user, ct).ConfigureAwait(false);
                if (Sub(item) is "from" or "both")
                {
                    // §3.1.3 step 1: already subscribed: answered on the contact's behalf.
                    await ReplyAsync(contact, user, "subscribed", ct).ConfigureAwait(false);
                    return;
                }
                if (item?.GetAttribute("approved") == "true")
                {
                    // §3.4: pre-approved: the subscription is granted at once.
                    await roster.ChangeAsync(contact, user, i => With(i, user, Sub(i) is "to" ? "both" : "from", i?.GetAttribute("ask"), approved: null), ct).ConfigureAwait(false);
                    await ReplyAsync(contact, user, "subscribed", ct).ConfigureAwait(false);
                    await SendAvailableAsync(contact, user, ct).ConfigureAwait(false);
                    return;
                }
                // A.3.1: Pending In. Kept until the contact answers, delivered now or at its next login; a repeated
                // request while one is pending is not delivered again (S.N.).
                var request = Presence(user, contact, "subscribe");
                foreach (var child in stanza.Children) request.Add(child.Clone());    // e.g. a XEP-0172 nick
                var repeated = await _pending.GetAsync(contact, user.ToString(), ct).ConfigureAwait(false) is not null;
                await _pending.SetAsync(contact, user.ToString(), request, ct).ConfigureAwait(false);
                if (!repeated) await DeliverToAvailableAsync(contact, request, ct).ConfigureAwait(false);
                return;
            }
            case "subscribed":
            {
                // A.3.3: only an outstanding request is completed: None + Pending Out → To, From + Pending Out → Both.
                var item = await roster.GetAsync(contact, user, ct).ConfigureAwait(false);
                if (item?.GetAttribute("ask") != "subscribe") return;
                await roster.ChangeAsync(contact, user, i => With(i, user, Sub(i) is "from" or "both" ? "both" : "to", ask: null, i?.GetAttribute("approved")), ct).ConfigureAwait(false);
                await DeliverToAvailableAsync(contact, Presence(user, contact, "subscribed"), ct).ConfigureAwait(false);
                return;
            }
            case "unsubscribe":
            {
                // A.3.2: From → None, Both → To; a pending request is withdrawn. Only a change is delivered, and
                // answered with unsubscribed on the contact's behalf.
                var hadRequest = await _pending.GetAsync(contact, user.ToString(), ct).ConfigureAwait(false) is not null;
                await _pending.SetAsync(contact, user.ToString(), null, ct).ConfigureAwait(false);
                var before = await roster.GetAsync(contact, user, ct).ConfigureAwait(false);
                await roster.ChangeAsync(contact, user, i =>
                {
                    if (i is null) return null;
                    var sub = Sub(i) switch { "from" => "none", "both" => "to", var s => s };
                    return sub == Sub(i) ? i : With(i, user, sub, i.GetAttribute("ask"), i.GetAttribute("approved"));
                }, ct).ConfigureAwait(false);
                if (hadRequest || Sub(before) is "from" or "both")
                {
                    await DeliverToAvailableAsync(contact, Presence(user, contact, "unsubscribe"), ct).ConfigureAwait(false);
                    await ReplyAsync(contact, user, "unsubscribed", ct).ConfigureAwait(false);
                }
                // §3.3.3: the former subscriber sees the contact go unavailable.
                if (Sub(before) is "from" or "both") await SendUnavailableAsync(contact, user, ct).ConfigureAwait(false);
                return;
            }
            default: // unsubscribed
            {
                // A.3.4: To → None, Both → From; an outstanding request is denied.
                var before = await roster.GetAsync(contact, user, ct).ConfigureAwait(false);
                await roster.ChangeAsync(contact, user, i =>
                {
                    if (i is null) return null;
                    var sub = Sub(i) switch { "to" => "none", "both" => "from", var s => s };
                    return sub == Sub(i) && i.GetAttribute("ask") is null ? i : With(i, user, sub, ask: null, i.GetAttribute("approved"));
                }, ct).ConfigureAwait(false);
                if (Sub(before) is "to" or "both" || before?.GetAttribute("ask") == "subscribe")
                    await DeliverToAvailableAsync(contact, Presence(user, contact, "unsubscribed"), ct).ConfigureAwait(false);
                return;
            }
        }
    }

    private async ValueTask OnBroadcastAsync(PresenceBroadcast e, CancellationToken ct)
    {
        var session = e.Session;
        var user = session.Jid.Bare;
        var items = await roster.GetAllAsync(user, ct).ConfigureAwait(false);
        var unavailable = e.Presence.GetAttribute("type") == "unavailable";
        var reached = new HashSet<Jid>();
        foreach (var (key, item) in items)
        {
            if (!Jid.TryParse(key, out var contact)) continue;
            var sub = Sub(item);
            // §4.2.2 / §4.4.2: contacts subscribed to the user get the broadcast.
            if (sub is "from" or "both")
            {
                reached.Add(contact);
                var copy = e.Presence.Clone().SetAttribute("from", session.Jid.ToString()).SetAttribute("to", contact.ToString());
                await DeliverToAvailableAsync(contact, copy, ct).ConfigureAwait(false);
            }
            // §4.2.3 / §4.3: on initial presence, the contacts the user subscribes to are probed; local ones answer at once.
            if (e.Initial && sub is "to" or "both")
            {
                if (!addresses.IsLocal(contact))
                {
                    await DeliverToAvailableAsync(contact, Presence(user, contact, "probe"), ct).ConfigureAwait(false);
                    continue;
                }
                await _subscriptionGate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await AnswerProbeAsync(contact, user, p =>
                    {
                        session.TryDeliver(p.SetAttribute("to", session.Jid.ToString()));
                        return ValueTask.CompletedTask;
                    }, ct).ConfigureAwait(false);
                }
                finally
                {
                    _subscriptionGate.Release();
                }
            }
        }
        if (e.Initial)
        {
            // §3.1.3: subscription requests that waited for the user (unless the user has since blocked the requester).
            foreach (var (key, request) in await _pending.GetAllAsync(user, ct).ConfigureAwait(false))
                if (!Jid.TryParse(key, out var requester) || !await blocklists.BlocksAsync(user, requester, ct).ConfigureAwait(false))
                    session.TryDeliver(request);
        }
        if (unavailable)
        {
            // §4.6.3: directed presence recipients the broadcast did not reach hear of unavailability too.
            List<Jid> directed;
            lock (session.Presence.Directed)
            {
                directed = [.. session.Presence.Directed];
                session.Presence.Directed.Clear();
            }
            foreach (var to in directed)
            {
                if (reached.Contains(to.Bare)) continue;
                var copy = e.Presence.Clone().SetAttribute("from", session.Jid.ToString()).SetAttribute("to", to.ToString());
                if (to.Resource is null || !addresses.IsLocal(to)) await DeliverToAvailableAsync(to, copy, ct).ConfigureAwait(false);
                else if (sessions.TryGet(to, out var target) && !await blocklists.EitherBlocksAsync(user, to, ct).ConfigureAwait(false)) target.TryDeliver(copy);
            }
        }
    }

    // §4.3.2: the contact's server answers a probe from the user's server: unsubscribed when the user is not
    // entitled to the contact's presence; unavailable from the bare JID, stamped with the last logout, when the
    // contact has no available resource; otherwise the last presence of each available resource (only of the
    // probed one for a probe to a full JID). A block in either direction means no answer at all (XEP-0191).
    private async Task AnswerProbeAsync(Jid contact, Jid user, Func<Element, ValueTask> answer, CancellationToken ct)
    {
        if (await blocklists.EitherBlocksAsync(user, contact, ct).ConfigureAwait(false)) return;
        var bare = contact.Bare;
        var entitled = await storage.Accounts.GetAsync(bare, ct).ConfigureAwait(false) is not null
            && Sub(await roster.GetAsync(bare, user, ct).ConfigureAwait(false)) is "from" or "both";
        if (!entitled)
        {
            await ReplyAsync(bare, user, "unsubscribed", ct).ConfigureAwait(false);
            return;
        }
        var any = false;
        foreach (var resource in sessions.Resources(bare))
        {
            if (resource.Presence is not { IsAvailable: true, Last: { } last }) continue;
            if (contact.Resource is not null && resource.Jid != contact) continue;
            any = true;
            await answer(last.Clone().SetAttribute("from", resource.Jid.ToString()).SetAttribute("to", user.ToString())).ConfigureAwait(false);
        }
        if (any) return;
        var unavailable = Presence(bare, user, "unavailable");
        if (await LastActivity.LastActivityModule.LastLogoutAsync(storage, bare, ct).ConfigureAwait(false) is { } at)
            unavailable.Add(new Element("delay", Ns.Delay).SetAttribute("from", addresses.Domain)
                .SetAttribute("stamp", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        await answer(unavailable).ConfigureAwait(false);
    }

    // §3.1.5: the current presence of each available resource of the user, to a contact.
    private async Task SendAvailableAsync(Jid user, Jid contact, CancellationToken ct)
    {
        foreach (var resource in sessions.Resources(user))
            if (resource.Presence is { IsAvailable: true, Last: { } last })
                await DeliverToAvailableAsync(contact, last.Clone().SetAttribute("from", resource.Jid.ToString()).SetAttribute("to", contact.ToString()), ct).ConfigureAwait(false);
    }

    // §3.2.2 / §3.3.3: unavailable presence from each available resource of the user, to a contact.
    private async Task SendUnavailableAsync(Jid user, Jid contact, CancellationToken ct)
    {
        foreach (var resource in sessions.Resources(user))
            if (resource.Presence.IsAvailable)
                await DeliverToAvailableAsync(contact, new Element("presence", Ns.Client).SetAttribute("type", "unavailable")
                    .SetAttribute("from", resource.Jid.ToString()).SetAttribute("to", contact.ToString()), ct).ConfigureAwait(false);
    }

    // A subscription stanza a local account's server sends on its behalf (an auto-reply): processed as inbound
    // by the contact's server, which is this one for a local contact.
    private async Task ReplyAsync(Jid account, Jid contact, string type, CancellationToken ct)
    {
        var presence = Presence(account, contact, type);
        if (addresses.IsLocal(contact)) await InboundAsync(contact, account, type, presence, ct).ConfigureAwait(false);
        else await Remote.SendAsync(Stanza.Create(presence), server, ct).ConfigureAwait(false);
    }

    // Presence from (or on behalf of) one party to another: to the available sessions of a local account, through
    // the remote router otherwise; never across a block (XEP-0191 §3.3) in either direction.
    private async ValueTask DeliverToAvailableAsync(Jid account, Element presence, CancellationToken ct)
    {
        if (Jid.TryParse(presence.GetAttribute("from"), out var from) && await blocklists.EitherBlocksAsync(from, account, ct).ConfigureAwait(false)) return;
        if (!addresses.IsLocal(account))
        {
            // Another server, or a service of this one (a chat room hearing that an occupant left): the router knows.
            await Router.RouteAsync(Stanza.Create(presence), server, ct).ConfigureAwait(false);
            return;
        }
        foreach (var session in sessions.Resources(account.Bare))
            if (session.Presence.IsAvailable) session.TryDeliver(presence);
    }

    private static Element Presence(Jid from, Jid to, string type) =>
        new Element("presence", Ns.Client).SetAttribute("type", type).SetAttribute("from", from.ToString()).SetAttribute("to", to.ToString());

    private static string Sub(Element? item) => item?.GetAttribute("subscription") ?? "none";

    private static Element With(Element? item, Jid contact, string subscription, string? ask, string? approved)
    {
        var next = new Element("item", Ns.Roster).SetAttribute("jid", contact.ToString());
        if (item?.GetAttribute("name") is { } name) next.SetAttribute("name", name);
        next.SetAttribute("subscription", subscription);
        if (ask is not null) next.SetAttribute("ask", ask);
        if (approved is not null) next.SetAttribute("approved", approved);
        if (item is not null)
            foreach (var g in item.Children) next.Add(g.Clone());
        return next;
    }
}
