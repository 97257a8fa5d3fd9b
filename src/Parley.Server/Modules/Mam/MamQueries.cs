using System.Globalization;
using Parley.Protocol;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Mam;

/// <summary>XEP-0313 §4 queries with XEP-0059 paging, shared by account archives and room archives (MUC).</summary>
internal static class MamQueries
{
    /// <summary>
    /// Runs a query on <paramref name="owner"/>'s archive (an account's, or a room's): the result messages go to
    /// <paramref name="deliver"/> (from <paramref name="from"/>, when it is a room), then the &lt;fin/&gt; is returned.
    /// </summary>
    public static async Task<IqReply> RunAsync(IArchiveStore archive, Jid owner, Element query, Jid requester, Jid? from, Func<Element, bool> deliver, int maxPageSize, CancellationToken ct)
    {
        var parsed = ParseQuery(query, maxPageSize, out var error);
        if (parsed is null) return error!;
        var page = await archive.QueryAsync(owner, parsed, ct).ConfigureAwait(false);
        if (page is null) return StanzaError.ItemNotFound("No such message in the archive");
        var queryId = query.GetAttribute("queryid");
        var flip = query.Child("flip-page", Ns.Mam) is not null;
        for (var i = 0; i < page.Items.Count; i++)
        {
            var item = page.Items[flip ? page.Items.Count - 1 - i : i];
            var result = new Element("result", Ns.Mam).SetAttribute("id", item.Id);
            if (queryId is not null) result.SetAttribute("queryid", queryId);
            result.Add(new Element("forwarded", Ns.Forward)
                .Add(new Element("delay", Ns.Delay).SetAttribute("stamp", Stamp(item.Timestamp)))
                .Add(item.Message.Clone()));
            var message = new Element("message", Ns.Client).SetAttribute("to", requester.ToString());
            if (from is { } f) message.SetAttribute("from", f.ToString());
            deliver(message.Add(result));
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

    private static ArchiveQuery? ParseQuery(Element query, int maxPageSize, out StanzaError? error)
    {
        error = null;
        var q = new ArchiveQuery { Max = maxPageSize };
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
                q = q with { Max = Math.Min(max, maxPageSize) };
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

    /// <summary>A XEP-0082 timestamp with milliseconds.</summary>
    public static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
