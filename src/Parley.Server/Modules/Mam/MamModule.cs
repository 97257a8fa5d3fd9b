using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Modules.Roster;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Mam;

/// <summary>
/// XEP-0313 message archive management for every account, with XEP-0359 stanza ids. Chat and normal messages
/// with a body (or a XEP-0334 store hint) are archived on both sides as they are routed: the sender's copy when
/// it leaves, the recipient's when it arrives, which also gets a &lt;stanza-id by='account'/&gt; (any such element
/// claiming to be from the account is removed first). Queries filter by with, start, end, before-id, after-id and
/// ids, page with XEP-0059 both ways (and flip-page), and end with &lt;fin/&gt;; preferences (always, never, roster
/// and JID lists) and the metadata query are supported.
/// </summary>
public sealed class MamModule(IStorage storage, RosterStore roster, SessionRegistry sessions, Addresses addresses, TimeProvider time, IOptions<ParleyOptions> options) : IModule
{
    private readonly IMapStore _prefs = storage.Map("mam.prefs");
    private readonly ConcurrentDictionary<Jid, Prefs> _prefsCache = new();
    private readonly ArchiveOptions _options = options.Value.Archive;

    private sealed record Prefs(string Default, HashSet<Jid> Always, HashSet<Jid> Never);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("mam", Xeps: [313, 359]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        // Only the account's own archive can be queried, so only the account is told of it.
        m.OwnAccountFeature(Ns.Mam);
        m.OwnAccountFeature(Ns.MamExtended);
        m.OwnAccountFeature(Ns.StanzaId);
        m.OnIq<MamQuery>(IqType.Get, IqTarget.Self, (_, _) => ValueTask.FromResult(IqReply.Ok(new MamQuery(SearchForm()))));
        m.OnIq<MamQuery>(IqType.Set, IqTarget.Self, QueryAsync);
        m.OnIq<MamMetadata>(IqType.Get, IqTarget.Self, MetadataAsync);
        m.OnIq<MamPrefs>(IqType.Get, IqTarget.Self, async (iq, ct) => IqReply.Ok(new MamPrefs(ToElement(await PrefsAsync(iq.From.Bare, ct).ConfigureAwait(false)))));
        m.OnIq<MamPrefs>(IqType.Set, IqTarget.Self, SetPrefsAsync);
        // After blocking (100): a dropped message is not archived. After carbons' sent copies (-40), which must not
        // carry the recipient's stanza-id; the received copies are made after delivery and do.
        m.Hook<Hooks.Routing>(ArchiveAsync, priority: -50);
        m.Hook<AccountDeleted>(async (e, ct) =>
        {
            _prefsCache.TryRemove(e.Account, out _);
            await storage.Archive.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
            await _prefs.DeleteAllAsync(e.Account, ct).ConfigureAwait(false);
        });
    }

    private async ValueTask ArchiveAsync(Hooks.Routing routing, CancellationToken ct)
    {
        var stanza = routing.Stanza;
        if (routing.Dropped || stanza.Kind != StanzaKind.Message || stanza.From is not { } from) return;
        var to = stanza.To ?? from.Bare;
        var inbound = to.Local is not null && addresses.IsLocal(to) && !to.BareEquals(from);
        // XEP-0359 §3.1: a stanza-id claiming to be by the recipient account is not to be trusted.
        if (inbound) RemoveStanzaIds(stanza.Element, to.Bare);
        if (!Archivable(stanza)) return;
        var now = time.GetUtcNow();
        if (routing.Origin is IClientSession sender && sender.Jid.BareEquals(from)
            && await ShouldArchiveAsync(from.Bare, to, ct).ConfigureAwait(false))
            await storage.Archive.AppendAsync(from.Bare, new ArchivedMessage(NewId(), now, to, stanza.Element.Clone()), ct).ConfigureAwait(false);
        // The account exists if it has a session (no database read on the common path).
        if (inbound && (sessions.Resources(to.Bare).Length > 0 || await storage.Accounts.GetAsync(to.Bare, ct).ConfigureAwait(false) is not null)
            && await ShouldArchiveAsync(to.Bare, from, ct).ConfigureAwait(false))
        {
            var id = NewId();
            stanza.Element.Add(new Element("stanza-id", Ns.StanzaId).SetAttribute("by", to.Bare.ToString()).SetAttribute("id", id));
            await storage.Archive.AppendAsync(to.Bare, new ArchivedMessage(id, now, from, stanza.Element.Clone()), ct).ConfigureAwait(false);
        }
    }

    // XEP-0313 §7 and XEP-0334: messages people read (a body), not chat states or receipts alone; never groupchat,
    // headlines or errors; the no-store and no-permanent-store hints keep a message out, a store hint puts it in.
    internal static bool Archivable(Stanza message)
    {
        if (message.Type is "groupchat" or "headline" or "error") return false;
        var body = false;
        foreach (var child in message.Element.Children)
        {
            if (child.Namespace == Ns.Hints)
            {
                if (child.LocalName is "no-store" or "no-permanent-store") return false;
                if (child.LocalName == "store") body = true;
            }
            else if (child.LocalName == "body" && child.Namespace == Ns.Client)
            {
                body = true;
            }
        }
        return body;
    }

    private static void RemoveStanzaIds(Element message, Jid account)
    {
        var by = account.ToString();
        Element? spoofed = null;
        do
        {
            spoofed = null;
            foreach (var child in message.Children)
            {
                if (child.LocalName == "stanza-id" && child.Namespace == Ns.StanzaId && child.GetAttribute("by") == by)
                {
                    spoofed = child;
                    break;
                }
            }
        }
        while (spoofed is not null && message.Remove(spoofed));
    }

    private static string NewId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', '-').Replace('/', '_');

    // XEP-0313 §6: the account's preferences decide whether a message with this party is archived.
    private async ValueTask<bool> ShouldArchiveAsync(Jid account, Jid other, CancellationToken ct)
    {
        var prefs = await PrefsAsync(account, ct).ConfigureAwait(false);
        var bare = other.Bare;
        if (prefs.Never.Contains(bare)) return false;
        if (prefs.Always.Contains(bare)) return true;
        return prefs.Default switch
        {
            "always" => true,
            "roster" => await roster.GetAsync(account, bare, ct).ConfigureAwait(false) is not null,
            _ => false,
        };
    }

    private async ValueTask<Prefs> PrefsAsync(Jid account, CancellationToken ct)
    {
        if (_prefsCache.TryGetValue(account, out var cached)) return cached;
        var stored = await _prefs.GetAsync(account, "prefs", ct).ConfigureAwait(false);
        var prefs = stored is null ? new Prefs(_options.DefaultMode, [], []) : ParsePrefs(stored) ?? new Prefs(_options.DefaultMode, [], []);
        return _prefsCache.GetOrAdd(account, prefs);
    }

    private async ValueTask<IqReply> SetPrefsAsync(IqRequest<MamPrefs> iq, CancellationToken ct)
    {
        var prefs = ParsePrefs(iq.Payload.Element);
        if (prefs is null) return StanzaError.BadRequest("default must be always, never or roster, and every jid valid");
        var account = iq.From.Bare;
        await _prefs.SetAsync(account, "prefs", ToElement(prefs), ct).ConfigureAwait(false);
        _prefsCache[account] = prefs;
        return IqReply.Ok(new MamPrefs(ToElement(prefs)));
    }

    private static Prefs? ParsePrefs(Element element)
    {
        var mode = element.GetAttribute("default");
        if (mode is not ("always" or "never" or "roster")) return null;
        var always = new HashSet<Jid>();
        var never = new HashSet<Jid>();
        foreach (var list in element.Children)
        {
            var target = list.LocalName switch { "always" => always, "never" => never, _ => null };
            if (target is null) continue;
            foreach (var jid in list.Children)
            {
                if (jid.LocalName != "jid") continue;
                if (!Jid.TryParse(jid.Text.Trim(), out var parsed)) return null;
                target.Add(parsed.Bare);
            }
        }
        return new Prefs(mode, always, never);
    }

    private static Element ToElement(Prefs prefs)
    {
        var e = new Element("prefs", Ns.Mam).SetAttribute("default", prefs.Default);
        foreach (var (name, set) in new[] { ("always", prefs.Always), ("never", prefs.Never) })
        {
            var list = new Element(name, Ns.Mam);
            foreach (var jid in set.OrderBy(j => j.ToString(), StringComparer.Ordinal)) list.Add(new Element("jid", Ns.Mam).AddText(jid.ToString()));
            e.Add(list);
        }
        return e;
    }

    private static Element SearchForm() =>
        DataForm.Create("form", null, Ns.Mam,
            DataForm.Field("with", "jid-single", null, false),
            DataForm.Field("start", "text-single", null, false),
            DataForm.Field("end", "text-single", null, false),
            DataForm.Field("before-id", "text-single", null, false),
            DataForm.Field("after-id", "text-single", null, false),
            DataForm.Field("ids", "list-multi", null, false));

    private ValueTask<IqReply> QueryAsync(IqRequest<MamQuery> iq, CancellationToken ct) =>
        iq.Origin is null
            ? ValueTask.FromResult<IqReply>(StanzaError.ServiceUnavailable)
            : new ValueTask<IqReply>(MamQueries.RunAsync(storage.Archive, iq.From.Bare, iq.Payload.Element, iq.From, null, iq.Origin.TryDeliver, _options.MaxPageSize, ct));

    private static string Stamp(DateTimeOffset t) => MamQueries.Stamp(t);

    // §5.1: the ids and times of the first and last archived messages.
    private async ValueTask<IqReply> MetadataAsync(IqRequest<MamMetadata> iq, CancellationToken ct)
    {
        var (first, last) = await storage.Archive.BoundsAsync(iq.From.Bare, ct).ConfigureAwait(false);
        var metadata = new Element("metadata", Ns.Mam);
        if (first is not null && last is not null)
        {
            metadata.Add(new Element("start", Ns.Mam).SetAttribute("id", first.Id).SetAttribute("timestamp", Stamp(first.Timestamp)));
            metadata.Add(new Element("end", Ns.Mam).SetAttribute("id", last.Id).SetAttribute("timestamp", Stamp(last.Timestamp)));
        }
        return IqReply.Ok(new MamMetadata(metadata));
    }
}

/// <summary>XEP-0313 &lt;query/&gt; (read as an element; a reply carries the search form).</summary>
public sealed record MamQuery(Element Element) : IPayload<MamQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Mam, "query");

    /// <inheritdoc />
    public static MamQuery Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element.LocalName == "query" ? Element : new Element(Name).Add(Element);
}

/// <summary>XEP-0313 &lt;fin/&gt;.</summary>
public sealed record MamFin(Element Element) : IPayload<MamFin>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Mam, "fin");

    /// <inheritdoc />
    public static MamFin Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}

/// <summary>XEP-0313 §5.1 &lt;metadata/&gt;.</summary>
public sealed record MamMetadata(Element Element) : IPayload<MamMetadata>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Mam, "metadata");

    /// <inheritdoc />
    public static MamMetadata Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}

/// <summary>XEP-0313 §6 &lt;prefs/&gt;.</summary>
public sealed record MamPrefs(Element Element) : IPayload<MamPrefs>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Mam, "prefs");

    /// <inheritdoc />
    public static MamPrefs Parse(Element element) => new(element);

    /// <inheritdoc />
    public Element ToElement() => Element;
}
