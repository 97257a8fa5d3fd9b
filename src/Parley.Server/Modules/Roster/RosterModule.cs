using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Roster;

/// <summary>
/// RFC 6121 §2: roster get, set and remove, pushes to every interested resource (§2.1.6), roster versioning
/// with a counter (§2.6), and a configurable maximum roster size. Removing an item also cancels the
/// subscriptions it carried (§2.5.2), through the router.
/// </summary>
public sealed class RosterModule(RosterStore roster, IServiceProvider services, IOptions<ParleyOptions> options) : IModule
{
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
            roster.Forget(e.Session);
            return ValueTask.CompletedTask;
        });
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(roster.DeleteAllAsync(e.Account, ct)));
    }

    // §2.2 and §2.6.3: the whole roster, or an empty result when the client's version is current.
    private async ValueTask<IqReply> GetAsync(IqRequest<RosterQuery> iq, CancellationToken ct)
    {
        if (iq.Origin is IClientSession session) roster.Interested(session);
        var account = iq.From.Bare;
        var version = await roster.VersionAsync(account, ct).ConfigureAwait(false);
        if (iq.Payload.Ver is not null && iq.Payload.Ver == version) return IqReply.Empty;
        var all = await roster.GetAllAsync(account, ct).ConfigureAwait(false);
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
        if (request.GetAttribute("subscription") == "remove") return await RemoveAsync(iq, account, contact, ct).ConfigureAwait(false);

        var limits = options.Value.Limits;
        var name = request.GetAttribute("name");
        if (name is not null && Encoding.UTF8.GetByteCount(name) > limits.MaxRosterTextBytes)
            return StanzaError.NotAcceptable("The name is too long");
        var groups = new List<Element>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in request.Children)
        {
            if (child.LocalName != "group" || child.Namespace != Ns.Roster) continue;
            var group = child.Text;
            if (group.Length == 0) return StanzaError.NotAcceptable("A group name may not be empty");
            if (Encoding.UTF8.GetByteCount(group) > limits.MaxRosterTextBytes) return StanzaError.NotAcceptable("A group name is too long");
            if (!seen.Add(group)) return StanzaError.BadRequest("The item names a group twice");
            groups.Add(new Element("group", Ns.Roster).AddText(group));
        }
        if (await roster.GetAsync(account, contact, ct).ConfigureAwait(false) is null
            && await roster.CountAsync(account, ct).ConfigureAwait(false) >= limits.MaxRosterItems)
            return StanzaError.NotAcceptable($"A roster holds at most {limits.MaxRosterItems} items");

        await roster.ChangeAsync(account, contact, existing =>
        {
            var item = new Element("item", Ns.Roster).SetAttribute("jid", contact.ToString());
            if (!string.IsNullOrEmpty(name)) item.SetAttribute("name", name);
            // The subscription state is the server's (§2.1.2.5); a client cannot set it.
            item.SetAttribute("subscription", existing?.GetAttribute("subscription") ?? "none");
            if (existing?.GetAttribute("ask") is { } ask) item.SetAttribute("ask", ask);
            if (existing?.GetAttribute("approved") is { } approved) item.SetAttribute("approved", approved);
            foreach (var g in groups) item.Add(g);
            return item;
        }, ct).ConfigureAwait(false);
        return IqReply.Empty;
    }

    private async ValueTask<IqReply> RemoveAsync(IqRequest<RosterQuery> iq, Jid account, Jid contact, CancellationToken ct)
    {
        var existing = await roster.GetAsync(account, contact, ct).ConfigureAwait(false);
        if (existing is null) return StanzaError.ItemNotFound("The item is not in the roster");
        // §2.5.2: removing an item cancels the subscriptions in both directions.
        var subscription = existing.GetAttribute("subscription");
        if (subscription is "to" or "both" || existing.GetAttribute("ask") == "subscribe")
            await SendAsync(iq, account, contact, "unsubscribe", ct).ConfigureAwait(false);
        if (subscription is "from" or "both")
            await SendAsync(iq, account, contact, "unsubscribed", ct).ConfigureAwait(false);
        await roster.ChangeAsync(account, contact, _ => null, ct).ConfigureAwait(false);
        return IqReply.Empty;
    }

    private async Task SendAsync(IqRequest<RosterQuery> iq, Jid account, Jid contact, string type, CancellationToken ct)
    {
        if (iq.Origin is null) return;
        var presence = Stanza.Create(new Element("presence", Ns.Client).SetAttribute("type", type).SetAttribute("to", contact.ToString()));
        presence.From = account;
        // Resolved on use: the router depends on the module registry that builds this module.
        var router = (Router)services.GetService(typeof(Router))!;
        await router.RouteAsync(presence, iq.Origin, ct).ConfigureAwait(false);
    }
}
