using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Roster;

/// <summary>
/// RFC 6121 §2: roster get, set and remove, pushes to every interested resource (§2.1.6), roster versioning
/// with a counter (§2.6), and a configurable maximum roster size.
/// </summary>
public sealed class RosterModule(IStorage storage, SessionRegistry sessions, IOptions<ParleyOptions> options) : IModule
{
    private const string VersionKey = "version";
    private readonly IMapStore _items = storage.Map("roster");
    private readonly IMapStore _meta = storage.Map("roster.meta");
    private readonly ConcurrentDictionary<IClientSession, byte> _interested = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim[] _locks = CreateLocks(64);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("roster");

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Roster);
        m.StreamFeature(Stage.Authenticated, _ => new Element("ver", Ns.RosterVersioning));
        m.OnIq<RosterQuery>(IqType.Get, IqTarget.Self, GetAsync);
        m.OnIq<RosterQuery>(IqType.Set, IqTarget.Self, SetAsync);
        // §2.3.3: only the account itself may read or change its roster.
        m.OnIq<RosterQuery>(IqType.Get, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
        m.OnIq<RosterQuery>(IqType.Set, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
        m.Hook<SessionClosed>((e, ct) =>
        {
            _interested.TryRemove(e.Session, out _);
            return ValueTask.CompletedTask;
        });
        m.Hook<AccountDeleted>(async (e, ct) =>
        {
            await _items.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
            await _meta.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
        });
    }

    // §2.2 and §2.6.3: the whole roster, or an empty result when the client's version is current.
    private async ValueTask<IqReply> GetAsync(IqRequest<RosterQuery> iq, CancellationToken ct)
    {
        if (iq.Origin is IClientSession session) _interested[session] = 0;
        var account = iq.From.Bare;
        var version = await VersionAsync(account, ct).ConfigureAwait(false);
        if (iq.Payload.Ver is not null && iq.Payload.Ver == version) return IqReply.Empty;
        var all = await _items.GetAllAsync(account, ct).ConfigureAwait(false);
        var keys = new List<string>(all.Keys);
        keys.Sort(StringComparer.Ordinal);
        var items = new List<Element>(keys.Count);
        foreach (var key in keys) items.Add(all[key]);
        return IqReply.Ok(new RosterQuery(version, items));
    }

    // §2.3 (add or update) and §2.5 (remove).
    private async ValueTask<IqReply> SetAsync(IqRequest<RosterQuery> iq, CancellationToken ct)
    {
        var items = iq.Payload.Items;
        if (items.Count != 1) return StanzaError.BadRequest("A roster set carries exactly one item");
        var request = items[0];
        if (!Jid.TryParse(request.GetAttribute("jid"), out var contact)) return StanzaError.BadRequest("The item's jid is not a valid JID");
        contact = contact.Bare;
        var account = iq.From.Bare;
        var key = contact.ToString();
        var limits = options.Value.Limits;

        var gate = _locks[(account.GetHashCode() & int.MaxValue) % _locks.Length];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        Element pushed;
        string version;
        try
        {
            var existing = await _items.GetAsync(account, key, ct).ConfigureAwait(false);
            if (request.GetAttribute("subscription") == "remove")
            {
                if (existing is null) return StanzaError.ItemNotFound("The item is not in the roster");
                await _items.SetAsync(account, key, null, ct).ConfigureAwait(false);
                pushed = new Element("item", Ns.Roster).SetAttribute("jid", key).SetAttribute("subscription", "remove");
            }
            else
            {
                var name = request.GetAttribute("name");
                if (name is not null && Encoding.UTF8.GetByteCount(name) > limits.MaxRosterTextBytes)
                    return StanzaError.NotAcceptable("The name is too long");
                var item = new Element("item", Ns.Roster).SetAttribute("jid", key);
                if (!string.IsNullOrEmpty(name)) item.SetAttribute("name", name);
                // The subscription state is the server's (§2.1.2.5); a client cannot set it.
                item.SetAttribute("subscription", existing?.GetAttribute("subscription") ?? "none");
                if (existing?.GetAttribute("ask") is { } ask) item.SetAttribute("ask", ask);
                var groups = new HashSet<string>(StringComparer.Ordinal);
                foreach (var child in request.Children)
                {
                    if (child.LocalName != "group" || child.Namespace != Ns.Roster) continue;
                    var group = child.Text;
                    if (group.Length == 0) return StanzaError.NotAcceptable("A group name may not be empty");
                    if (Encoding.UTF8.GetByteCount(group) > limits.MaxRosterTextBytes) return StanzaError.NotAcceptable("A group name is too long");
                    if (!groups.Add(group)) return StanzaError.BadRequest("The item names a group twice");
                    item.Add(new Element("group", Ns.Roster).AddText(group));
                }
                if (existing is null && await _items.CountAsync(account, ct).ConfigureAwait(false) >= limits.MaxRosterItems)
                    return StanzaError.NotAcceptable($"A roster holds at most {limits.MaxRosterItems} items");
                await _items.SetAsync(account, key, item, ct).ConfigureAwait(false);
                pushed = item;
            }
            version = await BumpVersionAsync(account, ct).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
        Push(account, pushed, version);
        return IqReply.Empty;
    }

    // §2.1.6: a roster push to every resource that asked for the roster.
    private void Push(Jid account, Element item, string version)
    {
        foreach (var session in sessions.Resources(account))
        {
            if (!_interested.ContainsKey(session)) continue;
            var push = new Element("iq", Ns.Client)
                .SetAttribute("type", "set")
                .SetAttribute("id", "push-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)))
                .SetAttribute("to", session.Jid.ToString());
            push.Add(new RosterQuery(version, [item.Clone()]).ToElement());
            session.TryDeliver(push);
        }
    }

    private async Task<string> VersionAsync(Jid account, CancellationToken ct) =>
        (await _meta.GetAsync(account, VersionKey, ct).ConfigureAwait(false))?.Text ?? "0";

    private async Task<string> BumpVersionAsync(Jid account, CancellationToken ct)
    {
        var current = long.TryParse(await VersionAsync(account, ct).ConfigureAwait(false), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var next = (current + 1).ToString(CultureInfo.InvariantCulture);
        await _meta.SetAsync(account, VersionKey, new Element("version", "urn:parley:roster").AddText(next), ct).ConfigureAwait(false);
        return next;
    }

    private static SemaphoreSlim[] CreateLocks(int n)
    {
        var locks = new SemaphoreSlim[n];
        for (var i = 0; i < n; i++) locks[i] = new SemaphoreSlim(1, 1);
        return locks;
    }
}
