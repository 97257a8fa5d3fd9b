using System.Collections.Concurrent;
using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Blocking;

/// <summary>
/// XEP-0191: the block list (get, block, unblock, pushes to resources that asked for it) and its enforcement on
/// every stanza, both to and from the blocking account (§3.4, §3.5).
/// </summary>
public sealed class BlockingModule(IStorage storage, SessionRegistry sessions, Addresses addresses) : IModule
{
    private readonly IMapStore _store = storage.Map("blocklist");
    private readonly ConcurrentDictionary<Jid, HashSet<string>> _cache = new();
    private readonly ConcurrentDictionary<IClientSession, byte> _interested = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("blocking", Xeps: [191]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Blocking);
        m.OnIq<BlockList>(IqType.Get, IqTarget.Self, async (iq, ct) =>
        {
            if (iq.Origin is IClientSession session) _interested[session] = 0;
            var list = new List<string>(await ListAsync(iq.From.Bare, ct).ConfigureAwait(false));
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
        m.Hook<AccountDeleted>(async (e, ct) =>
        {
            _cache.TryRemove(e.Account, out _);
            await _store.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
        });
    }

    private async ValueTask<IqReply> ChangeAsync(Jid account, IReadOnlyList<string> items, bool block, CancellationToken ct)
    {
        // §3.3: a block needs at least one item; an unblock without items unblocks everyone.
        if (block && items.Count == 0) return StanzaError.BadRequest("Name at least one JID to block");
        var jids = new List<string>(items.Count);
        foreach (var text in items)
        {
            if (!Jid.TryParse(text, out var jid)) return StanzaError.JidMalformed("Not a valid JID: " + text);
            jids.Add(jid.ToString());
        }
        var set = await LoadAsync(account, ct).ConfigureAwait(false);
        if (!block && jids.Count == 0)
        {
            lock (set) set.Clear();
            await _store.DeleteAllAsync(account, ct).ConfigureAwait(false);
        }
        else
        {
            foreach (var jid in jids)
            {
                lock (set)
                {
                    if (block) set.Add(jid);
                    else set.Remove(jid);
                }
                await _store.SetAsync(account, jid, block ? new Element("item", Ns.Blocking).SetAttribute("jid", jid) : null, ct).ConfigureAwait(false);
            }
        }
        Push(account, new BlockList(block ? "block" : "unblock", jids).ToElement());
        return IqReply.Empty;
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
        // §3.5: the blocking user sends to someone it blocks.
        if (addresses.IsLocal(from) && from.Local is not null && to.Bare != from.Bare && await BlocksAsync(from.Bare, to, ct).ConfigureAwait(false))
        {
            if (stanza.Kind != StanzaKind.Presence)
                Router.Bounce(stanza, StanzaError.NotAcceptable() with { ApplicationCondition = new Element("blocked", Ns.BlockingErrors) }, routing.Origin);
            routing.Drop();
            return;
        }
        // §3.4: someone the user blocks sends to the user: presence is dropped, message and IQ requests are refused.
        if (addresses.IsLocal(to) && to.Local is not null && to.Bare != from.Bare && await BlocksAsync(to.Bare, from, ct).ConfigureAwait(false))
        {
            if (stanza.Kind == StanzaKind.Message || stanza.IqType is IqType.Get or IqType.Set)
                Router.Bounce(stanza, StanzaError.ServiceUnavailable, routing.Origin);
            routing.Drop();
        }
    }

    // Blocked JIDs match the full JID, the bare JID or the domain of the other party.
    private async ValueTask<bool> BlocksAsync(Jid account, Jid other, CancellationToken ct)
    {
        var set = await LoadAsync(account, ct).ConfigureAwait(false);
        lock (set)
        {
            if (set.Count == 0) return false;
            return set.Contains(other.ToString()) || set.Contains(other.Bare.ToString()) || set.Contains(other.Domain);
        }
    }

    private async ValueTask<IReadOnlyCollection<string>> ListAsync(Jid account, CancellationToken ct)
    {
        var set = await LoadAsync(account, ct).ConfigureAwait(false);
        lock (set) return [.. set];
    }

    private async ValueTask<HashSet<string>> LoadAsync(Jid account, CancellationToken ct)
    {
        if (_cache.TryGetValue(account, out var cached)) return cached;
        var stored = await _store.GetAllAsync(account, ct).ConfigureAwait(false);
        return _cache.GetOrAdd(account, _ => new HashSet<string>(stored.Keys, StringComparer.Ordinal));
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
