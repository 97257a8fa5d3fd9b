using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>Message archive management (XEP-0313, urn:xmpp:mam:2) of the account or of a room, with XEP-0059 paging.</summary>
public sealed class Mam
{
    private readonly XmppClient _client;
    private readonly ConcurrentDictionary<string, (string Archive, List<ArchivedMessage> Results)> _queries = new(StringComparer.Ordinal);

    internal Mam(XmppClient client) => _client = client;

    /// <summary>
    /// Queries an archive (null: the account's own; a room's bare JID for its archive). Filters: <paramref name="with"/>
    /// (§4.1.1), <paramref name="start"/>/<paramref name="end"/>. Paging: <paramref name="after"/> for the page after
    /// an id, <paramref name="before"/> for the page before one ("" for the last page).
    /// </summary>
    public async Task<MamPage> QueryAsync(Jid? archive = null, Jid? with = null, DateTimeOffset? start = null, DateTimeOffset? end = null,
        string? after = null, string? before = null, int max = 50, CancellationToken ct = default)
    {
        var queryId = _client.NextId();
        var form = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").SetAttribute("type", "hidden")
                .Add(new Element("value", Ns.DataForms).AddText(Ns.Mam)));
        if (with is { } w) form.Add(Field("with", w.ToString()));
        if (start is { } s) form.Add(Field("start", s.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        if (end is { } e) form.Add(Field("end", e.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        var set = new Element("set", Ns.Rsm).Add(new Element("max", Ns.Rsm).AddText(max.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (after is not null) set.Add(new Element("after", Ns.Rsm).AddText(after));
        if (before is not null) set.Add(new Element("before", Ns.Rsm).AddText(before));
        var query = new Element("query", Ns.Mam).SetAttribute("queryid", queryId).Add(form).Add(set);

        var results = new List<ArchivedMessage>();
        _queries[queryId] = (archive?.Bare.ToString() ?? "", results);
        try
        {
            // The results arrive before the IQ result (§4.2), on the same ordered stream.
            var fin = await _client.IqAsync(IqType.Set, archive?.Bare, query, ct).ConfigureAwait(false);
            var rsm = fin?.Child("set", Ns.Rsm);
            int? count = int.TryParse(rsm?.ChildText("count", Ns.Rsm), System.Globalization.CultureInfo.InvariantCulture, out var c) ? c : null;
            return new MamPage(results, rsm?.ChildText("first", Ns.Rsm), rsm?.ChildText("last", Ns.Rsm), count,
                fin?.GetAttribute("complete") is "true" or "1");
        }
        finally
        {
            _queries.TryRemove(queryId, out _);
        }

        static Element Field(string var, string value) =>
            new Element("field", Ns.DataForms).SetAttribute("var", var).Add(new Element("value", Ns.DataForms).AddText(value));
    }

    /// <summary>Every message of an archive, oldest first, fetched a page at a time.</summary>
    public async IAsyncEnumerable<ArchivedMessage> ReadAllAsync(Jid? archive = null, Jid? with = null, int pageSize = 100,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? after = null;
        while (true)
        {
            var page = await QueryAsync(archive, with, null, null, after, null, pageSize, ct).ConfigureAwait(false);
            foreach (var m in page.Messages) yield return m;
            if (page.Complete || page.Last is null || page.Messages.Count == 0) yield break;
            after = page.Last;
        }
    }

    // §4.2: results come from the archive queried (the account's results from its bare JID or no 'from').
    internal bool Deliver(string? from, Element result)
    {
        if (result.GetAttribute("queryid") is not { } queryId || !_queries.TryGetValue(queryId, out var query)) return false;
        var fromArchive = query.Archive.Length == 0 ? _client.IsFromOwnAccount(from) && (from is null || !from.Contains('/', StringComparison.Ordinal)) : from == query.Archive;
        if (!fromArchive) return false;
        var forwarded = result.Child("forwarded", Ns.Forward);
        if (forwarded?.Child("message", Ns.Client) is not { } message) return true;
        DateTimeOffset? stamp = null;
        if (forwarded.Child("delay", Ns.Delay)?.GetAttribute("stamp") is { } text
            && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            stamp = parsed;
        lock (query.Results) query.Results.Add(new ArchivedMessage(result.GetAttribute("id") ?? "", stamp, ChatMessage.Parse(message, delay: stamp)));
        return true;
    }
}
