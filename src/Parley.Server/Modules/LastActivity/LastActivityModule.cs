using System.Globalization;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Modules.Roster;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.LastActivity;

/// <summary>
/// XEP-0012: the server's uptime (§5), and for an account (§4) the seconds since its last available resource went
/// away, with that presence's status, told only to entities subscribed to the account's presence; an account
/// that is online reports 0.
/// </summary>
public sealed class LastActivityModule(IStorage storage, RosterStore roster, SessionRegistry sessions, TimeProvider time) : IModule
{
    private const string Key = "last";
    private readonly IMapStore _store = storage.Map("last");
    private readonly DateTimeOffset _started = time.GetUtcNow();

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("last", Xeps: [12]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.LastActivity);
        m.OnIq<LastQuery>(IqType.Get, IqTarget.Server, (_, _) =>
            ValueTask.FromResult(IqReply.Ok(new LastQuery(Seconds(_started), null))));
        m.OnIq<LastQuery>(IqType.Get, IqTarget.Account, AccountAsync);
        m.OnIq<LastQuery>(IqType.Get, IqTarget.Self, AccountAsync);
        m.Hook<PresenceBroadcast>(async (e, ct) =>
        {
            if (e.Presence.GetAttribute("type") != "unavailable") return;
            foreach (var s in sessions.Resources(e.Session.Jid.Bare))
                if (!ReferenceEquals(s, e.Session) && s.Presence.IsAvailable) return;
            var record = new Element("last", Ns.LastActivity)
                .SetAttribute("at", time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            if (e.Presence.ChildText("status", Ns.Client) is { } status) record.AddText(status);
            await _store.SetAsync(e.Session.Jid.Bare, Key, record, ct).ConfigureAwait(false);
        });
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(_store.DeleteAllAsync(e.Account, ct)));
    }

    /// <summary>When the account's last available resource went away, if recorded (for probe answers, RFC 6121 §4.3.2).</summary>
    internal static async Task<DateTimeOffset?> LastLogoutAsync(IStorage storage, Jid account, CancellationToken ct)
    {
        var record = await storage.Map("last").GetAsync(account.Bare, Key, ct).ConfigureAwait(false);
        return record is not null && long.TryParse(record.GetAttribute("at"), NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            ? DateTimeOffset.FromUnixTimeSeconds(at)
            : null;
    }

    private async ValueTask<IqReply> AccountAsync(IqRequest<LastQuery> iq, CancellationToken ct)
    {
        var account = iq.To.Bare;
        if (await storage.Accounts.GetAsync(account, ct).ConfigureAwait(false) is null) return StanzaError.ServiceUnavailable;
        if (iq.From.Bare != account)
        {
            // §4: only an entity subscribed to the account's presence may learn it.
            var item = await roster.GetAsync(account, iq.From.Bare, ct).ConfigureAwait(false);
            if (item?.GetAttribute("subscription") is not ("from" or "both")) return StanzaError.Forbidden();
        }
        foreach (var s in sessions.Resources(account))
            if (s.Presence.IsAvailable) return IqReply.Ok(new LastQuery(0, null));
        var record = await _store.GetAsync(account, Key, ct).ConfigureAwait(false);
        if (record is null || !long.TryParse(record.GetAttribute("at"), NumberStyles.None, CultureInfo.InvariantCulture, out var at))
            return StanzaError.ItemNotFound("No activity recorded");
        var status = record.Text;
        return IqReply.Ok(new LastQuery(Seconds(DateTimeOffset.FromUnixTimeSeconds(at)), status.Length == 0 ? null : status));
    }

    private long Seconds(DateTimeOffset since) => Math.Max(0, (long)(time.GetUtcNow() - since).TotalSeconds);
}

/// <summary>XEP-0012 §2: &lt;query xmlns='jabber:iq:last' seconds='…'&gt;status&lt;/query&gt;.</summary>
public sealed record LastQuery(long? Seconds, string? Status) : IPayload<LastQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.LastActivity, "query");

    /// <inheritdoc />
    public static LastQuery Parse(Element element) =>
        new(long.TryParse(element.GetAttribute("seconds"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null, element.Text.Length == 0 ? null : element.Text);

    /// <inheritdoc />
    public Element ToElement()
    {
        var e = new Element(Name);
        if (Seconds is { } s) e.SetAttribute("seconds", s.ToString(CultureInfo.InvariantCulture));
        if (Status is not null) e.AddText(Status);
        return e;
    }
}
