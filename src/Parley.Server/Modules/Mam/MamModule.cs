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
public sealed class MamModule(IStorage storage, RosterStore roster, Addresses addresses, TimeProvider time, IOptions<ParleyOptions> options) : IModule
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
        var inbound = to.Local is not null && addresses.IsLocal(to) && to.Bare != from.Bare;
        // XEP-0359 §3.1: a stanza-id claiming to be by the recipient account is not to be trusted.
        if (inbound) RemoveStanzaIds(stanza.Element, to.Bare);
        if (!Archivable(stanza)) return;
        var now = time.GetUtcNow();
        if (routing.Origin is IClientSession sender && sender.Jid.Bare == from.Bare
            && await ShouldArchiveAsync(from.Bare, to, ct).ConfigureAwait(false))
            await storage.Archive.AppendAsync(from.Bare, new ArchivedMessage(NewId(), now, to, stanza.Element.Clone()), ct).ConfigureAwait(false);
        if (inbound && await storage.Accounts.GetAsync(to.Bare, ct).ConfigureAwait(false) is not null
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

    private async ValueTask<IqReply> QueryAsync(IqRequest<MamQuery> iq, CancellationToken ct)
    {
        var query = iq.Payload.Element;
        var parsed = ParseQuery(query, out var error);
        if (parsed is null) return error!;
        var page = await storage.Archive.QueryAsync(iq.From.Bare, parsed, ct).ConfigureAwait(false);
        if (page is null) return StanzaError.ItemNotFound("No such message in the archive");
        var queryId = query.GetAttribute("queryid");
        var requester = iq.From.ToString();
        var flip = query.Child("flip-page", Ns.Mam) is not null;
        var origin = iq.Origin;
        if (origin is not null)
        {
            for (var i = 0; i < page.Items.Count; i++)
            {
                var item = page.Items[flip ? page.Items.Count - 1 - i : i];
                var result = new Element("result", Ns.Mam).SetAttribute("id", item.Id);
                if (queryId is not null) result.SetAttribute("queryid", queryId);
                result.Add(new Element("forwarded", Ns.Forward)
                    .Add(new Element("delay", Ns.Delay).SetAttribute("stamp", Stamp(item.Timestamp)))
                    .Add(item.Message.Clone()));
                origin.TryDeliver(new Element("message", Ns.Client).SetAttribute("to", requester).Add(result));
            }
        }
        // §4.2: <fin/> after the results, with the RSM summary (XEP-0059 §2.6).
        var set = new Element("set", Ns.Rsm);
        if (page.Items.Count > 0)
        {
            var first = flip ? page.Items[^1] : page.Items[0];
            var last = flip ? page.Items[0] : page.Items[^1];
            set.Add(new Element("first", Ns.Rsm).SetAttribute("index", page.FirstIndex.ToString(CultureInfo.InvariantCulture)).AddText(first.Id));
            set.Add(new Element("last", Ns.Rsm).AddText(last.Id));
        }
        set.Add(new Element("count", Ns.Rsm).AddText(page.Count.ToString(CultureInfo.InvariantCulture)));
        var fin = new Element("fin", Ns.Mam).Add(set);
        if (page.Complete) fin.SetAttribute("complete", "true");
        return IqReply.Ok(new MamFin(fin));
    }

    private ArchiveQuery? ParseQuery(Element query, out StanzaError? error)
    {
        error = null;
        var q = new ArchiveQuery { Max = _options.MaxPageSize };
        if (query.Child("x", Ns.DataForms) is { } form)
        {
            foreach (var field in form.Children)
            {
                if (field.LocalName != "field") continue;
                var name = field.GetAttribute("var");
                var values = DataForm.Values(form, name ?? "");
                var value = values.Count == 0 ? null : values[0];
                switch (name)
                {
                    case "FORM_TYPE":
                        if (value != Ns.Mam) return Fail(StanzaError.BadRequest("FORM_TYPE must be " + Ns.Mam), out error);
                        break;
                    case "with" when value is not null:
                        if (!Jid.TryParse(value, out var with)) return Fail(StanzaError.BadRequest("'with' is not a JID"), out error);
                        q = q with { With = with };
                        break;
                    case "start" when value is not null:
                        if (!TryParseTime(value, out var start)) return Fail(StanzaError.BadRequest("'start' is not a XEP-0082 date and time"), out error);
                        q = q with { Start = start };
                        break;
                    case "end" when value is not null:
                        if (!TryParseTime(value, out var end)) return Fail(StanzaError.BadRequest("'end' is not a XEP-0082 date and time"), out error);
                        q = q with { End = end };
                        break;
                    case "after-id":
                        q = q with { AfterId = value };
                        break;
                    case "before-id":
                        q = q with { BeforeId = value };
                        break;
                    case "ids":
                        q = q with { Ids = values };
                        break;
                    case "with" or "start" or "end":
                        break;
                    default:
                        // §4.1.5: a field the server does not know.
                        return Fail(StanzaError.FeatureNotImplemented("Unknown field '" + name + "'"), out error);
                }
            }
        }
        if (query.Child("set", Ns.Rsm) is { } rsm)
        {
            if (rsm.Child("max", Ns.Rsm) is { } maxElement)
            {
                if (!int.TryParse(maxElement.Text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var max))
                    return Fail(StanzaError.BadRequest("<max/> must be a non-negative integer"), out error);
                q = q with { Max = Math.Min(max, _options.MaxPageSize) };
            }
            if (rsm.Child("after", Ns.Rsm) is { } after) q = q with { PageAfter = after.Text.Trim() };
            if (rsm.Child("before", Ns.Rsm) is { } before)
            {
                var id = before.Text.Trim();
                q = q with { FromEnd = true, PageBefore = id.Length == 0 ? null : id };
            }
            if (rsm.Child("index", Ns.Rsm) is not null)
                return Fail(StanzaError.FeatureNotImplemented("Paging by <index/> is not supported; use <after/> or <before/>"), out error);
        }
        return q;
    }

    private static ArchiveQuery? Fail(StanzaError e, out StanzaError? error)
    {
        error = e;
        return null;
    }

    // XEP-0082 §3.3: CCYY-MM-DDThh:mm:ss[.sss]TZD.
    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
        && text.Contains('T', StringComparison.Ordinal);

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

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
