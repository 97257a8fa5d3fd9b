using System.Collections.Concurrent;
using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;
using Parley.Server.Modules.Roster;

namespace Parley.Server.Modules.Blocking;

/// <summary>
/// XEP-0191: the block list (get, block, unblock, pushes to resources that asked for it), its enforcement on
/// every stanza, both to and from the blocking account (§3.3), and the presence a block or unblock implies:
/// unavailable to a blocked contact that could see the user's presence, the current presence again on unblock.
/// </summary>
public sealed class BlockingModule(Blocklists blocklists, RosterStore roster, SessionRegistry sessions, Addresses addresses, ServerOrigin server, IServiceProvider services) : IModule
{
    private readonly ConcurrentDictionary<IClientSession, byte> _interested = new(ReferenceEqualityComparer.Instance);
    private IRemoteRouter? _remote;

    private IRemoteRouter Remote => _remote ??= (IRemoteRouter)services.GetService(typeof(IRemoteRouter))!;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("blocking", Xeps: [191]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        blocklists.Enabled = true;
        m.Feature(Ns.Blocking);
        m.OnIq<BlockList>(IqType.Get, IqTarget.Self, async (iq, ct) =>
        {
            if (iq.Origin is IClientSession session) _interested[session] = 0;
            var list = await blocklists.ListAsync(iq.From.Bare, ct).ConfigureAwait(false);
            list.Sort(StringComparer.Ordinal);
            return IqReply.Ok(new BlockList("blocklist", list));
        });
        m.OnIq<BlockCommand>(IqType.Set, IqTarget.Self, (iq, ct) => ChangeAsync(iq.From.Bare, iq.Payload.Items, block: true, ct));
        m.OnIq<UnblockCommand>(IqType.Set, IqTarget.Self, (iq, ct) => ChangeAsync(iq.From.Bare, iq.Payload.Items, block: false, ct));
        m.Hook<Hooks.Routing>(EnforceAsync, priority: 100);
        m.Hook<SessionClosed>((e, ct) =>
        {
            _interested.TryRemove(e.Session, out _);
            return ValueTask.CompletedTask;
        });
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(blocklists.DeleteAsync(e.Account, ct)));
    }

    private async ValueTask<IqReply> ChangeAsync(Jid account, IReadOnlyList<string> items, bool block, CancellationToken ct)
    {
        // §3.3: a block needs at least one item; an unblock without items unblocks everyone (§3.5).
        if (block && items.Count == 0) return StanzaError.BadRequest("Name at least one JID to block");
        var jids = new List<string>(items.Count);
        foreach (var text in items)
        {
            if (!Jid.TryParse(text, out var jid)) return StanzaError.JidMalformed("Not a valid JID: " + text);
            jids.Add(jid.ToString());
        }
        List<string> changed;
        if (!block && jids.Count == 0)
        {
            changed = await blocklists.ClearAsync(account, ct).ConfigureAwait(false);
        }
        else
        {
            // Presence that a block stops must go out before the block is in force (§3.3: unavailable).
            if (block) await AnnounceAsync(account, jids, unavailable: true, ct).ConfigureAwait(false);
            changed = await blocklists.ChangeAsync(account, jids, block, ct).ConfigureAwait(false);
        }
        // §3.4: after an unblock, the contacts entitled to the user's presence get it again.
        if (!block) await AnnounceAsync(account, changed, unavailable: false, ct).ConfigureAwait(false);
        Push(account, new BlockList(block ? "block" : "unblock", jids).ToElement());
        return IqReply.Empty;
    }

    // Sends the user's presence (unavailable, or each available resource's last presence) to the roster contacts
    // with a subscription from the user that the block items match, and to the matching recipients of directed presence.
    private async Task AnnounceAsync(Jid account, List<string> items, bool unavailable, CancellationToken ct)
    {
        if (items.Count == 0) return;
        var resources = sessions.Resources(account);
        if (resources.Length == 0) return;
        var targets = new HashSet<Jid>();
        foreach (var (key, item) in await roster.GetAllAsync(account, ct).ConfigureAwait(false))
            if (item.GetAttribute("subscription") is "from" or "both" && Jid.TryParse(key, out var contact) && Matches(items, contact))
                targets.Add(contact);
        foreach (var resource in resources)
        {
            if (!resource.Presence.IsAvailable) continue;
            lock (resource.Presence.Directed)
                foreach (var to in resource.Presence.Directed)
                    if (Matches(items, to)) targets.Add(to);
        }
        foreach (var resource in resources)
        {
            if (resource.Presence is not { IsAvailable: true } presence) continue;
            foreach (var target in targets)
            {
                var stanza = unavailable || presence.Last is null
                    ? new Element("presence", Ns.Client).SetAttribute("type", "unavailable")
                    : presence.Last.Clone();
                stanza.SetAttribute("from", resource.Jid.ToString()).SetAttribute("to", target.ToString());
                await SendPresenceAsync(target, stanza, ct).ConfigureAwait(false);
            }
        }
    }

    private static bool Matches(List<string> items, Jid jid)
    {
        foreach (var item in items)
        {
            if (!Jid.TryParse(item, out var blocked)) continue;
            if (blocked.Local is null && blocked.Resource is null ? jid.Domain == blocked.Domain
                : blocked.Resource is null ? jid.Bare == blocked : jid == blocked || jid == blocked.Bare)
                return true;
        }
        return false;
    }

    private async ValueTask SendPresenceAsync(Jid to, Element presence, CancellationToken ct)
    {
        if (!addresses.IsLocal(to))
        {
            await Remote.SendAsync(Stanza.Create(presence), server, ct).ConfigureAwait(false);
            return;
        }
        if (to.Resource is not null)
        {
            if (sessions.TryGet(to, out var session)) session.TryDeliver(presence);
            return;
        }
        foreach (var session in sessions.Resources(to))
            if (session.Presence.IsAvailable) session.TryDeliver(presence.Clone());
    }

    // §3.3.1 / §3.3.2: every resource that asked for the list hears of the change.
    private void Push(Jid account, Element payload)
    {
        foreach (var session in sessions.Resources(account))
        {
            if (!_interested.ContainsKey(session)) continue;
            session.TryDeliver(new Element("iq", Ns.Client).SetAttribute("type", "set")
                .SetAttribute("id", "block-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)))
                .SetAttribute("to", session.Jid.ToString()).Add(payload.Clone()));
        }
    }

    private async ValueTask EnforceAsync(Hooks.Routing routing, CancellationToken ct)
    {
        var stanza = routing.Stanza;
        if (stanza.From is not { } from) return;
        var to = stanza.To ?? from.Bare;
        // §3.3: the blocking user sends to someone it blocks.
        if (addresses.IsLocal(from) && from.Local is not null && !to.BareEquals(from) && await blocklists.BlocksAsync(from.Bare, to, ct).ConfigureAwait(false))
        {
            if (stanza.Kind != StanzaKind.Presence)
                Router.Bounce(stanza, StanzaError.NotAcceptable() with { ApplicationCondition = new Element("blocked", Ns.BlockingErrors) }, routing.Origin);
            routing.Drop();
            return;
        }
        // §3.3: someone the user blocks sends to the user: presence is dropped, message and IQ requests are refused.
        if (addresses.IsLocal(to) && to.Local is not null && !to.BareEquals(from) && await blocklists.BlocksAsync(to.Bare, from, ct).ConfigureAwait(false))
        {
            if (stanza.Kind == StanzaKind.Message || stanza.IqType is IqType.Get or IqType.Set)
                Router.Bounce(stanza, StanzaError.ServiceUnavailable, routing.Origin);
            routing.Drop();
        }
    }
}

/// <summary>XEP-0191: &lt;blocklist/&gt;, &lt;block/&gt; or &lt;unblock/&gt; with items.</summary>
public sealed record BlockList(string Kind, IReadOnlyList<string> Items) : IPayload<BlockList>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Blocking, "blocklist");

    /// <inheritdoc />
    public static BlockList Parse(Element element) => new(element.LocalName, BlockItems.Read(element));

    /// <inheritdoc />
    public Element ToElement()
    {
        var e = new Element(Kind, Ns.Blocking);
        foreach (var jid in Items) e.Add(new Element("item", Ns.Blocking).SetAttribute("jid", jid));
        return e;
    }
}

/// <summary>XEP-0191 §3.3: &lt;block/&gt;.</summary>
public sealed record BlockCommand(IReadOnlyList<string> Items) : IPayload<BlockCommand>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Blocking, "block");

    /// <inheritdoc />
    public static BlockCommand Parse(Element element) => new(BlockItems.Read(element));

    /// <inheritdoc />
    public Element ToElement() => new BlockList("block", Items).ToElement();
}

/// <summary>XEP-0191 §3.4: &lt;unblock/&gt;.</summary>
public sealed record UnblockCommand(IReadOnlyList<string> Items) : IPayload<UnblockCommand>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Blocking, "unblock");

    /// <inheritdoc />
    public static UnblockCommand Parse(Element element) => new(BlockItems.Read(element));

    /// <inheritdoc />
    public Element ToElement() => new BlockList("unblock", Items).ToElement();
}

internal static class BlockItems
{
    public static List<string> Read(Element element)
    {
        var items = new List<string>();
        foreach (var child in element.Children)
        {
            if (child.LocalName != "item" || child.Namespace != Ns.Blocking) continue;
            items.Add(child.GetAttribute("jid") ?? throw new StanzaException(StanzaError.BadRequest("An item needs a jid")));
        }
        return items;
    }
}
