using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Modules.Mam;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Muc;

/// <summary>
/// XEP-0045 multi-user chat on conference.&lt;Domain&gt; — the core a client exercises first: rooms created on
/// first entry (locked until the owner configures them or accepts the defaults, §10.1), entering with the XEP's
/// checks and errors, the occupants' presence with every status code of that flow (110, 100, 201, 303, 307, 301),
/// discussion history and the subject on entry, groupchat and private messages, nickname changes, changing the
/// subject, leaving; moderators kick and grant voice, admins ban and grant membership, owners configure (the
/// muc#roomconfig form), list affiliations and destroy rooms; persistent rooms survive a restart. Rooms keep a
/// XEP-0313 archive (status 170) that occupants page through, and stamp XEP-0359 stanza ids and XEP-0421 occupant ids.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "A semaphore without a wait handle holds nothing to free; the module lives as long as the server.")]
public sealed class MucModule(IStorage storage, ComponentRegistry components, Addresses addresses, TimeProvider time, IServiceProvider services, IOptions<ParleyOptions> options) : IModule, IComponent
{
    /// <summary>XEP-0045's namespaces.</summary>
    public const string Muc = "http://jabber.org/protocol/muc";
    private const string User = Muc + "#user";
    private const string Admin = Muc + "#admin";
    private const string Owner = Muc + "#owner";
    private const string StableId = Muc + "#stable_id";     // §7.4: messages are reflected with the sender's id
    private const string OccupantIdNs = "urn:xmpp:occupant-id:0";
    private const string Retract = "urn:xmpp:message-retract:1";
    private const string Moderate = "urn:xmpp:message-moderate:1";
    private readonly IMapStore _stored = storage.Map("muc.rooms");
    private readonly Dictionary<Jid, MucRoom> _rooms = [];
    private readonly Dictionary<string, (Jid Requester, string? Id, Jid From)> _relayed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Jid _service;
    private Router? _router;
    private bool _loaded;

    private readonly MucOptions _limits = options.Value.Muc;
    private readonly HashSet<Jid> _admins = options.Value.AdminJids();

    private Router Router => _router ??= (Router)services.GetService(typeof(Router))!;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("muc", Xeps: [45]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        _service = Jid.Create(null, "conference." + addresses.Domain);
        components.TryAdd(_service.Domain, this);
        m.ServiceItem(_service.ToString(), "Chatrooms");
        // Status 332: occupants hear that they leave because the service shuts down (before the streams close).
        m.Hook<Hooks.ServerStopping>((_, _) => new ValueTask(ShutdownAsync()));
    }

    /// <summary>The service's address (conference.&lt;Domain&gt;).</summary>
    public Jid Service => _service;

    /// <summary>A room as administration sees it.</summary>
    public sealed record RoomSummary(Jid Jid, string Name, int Occupants, bool Persistent, bool Public, bool MembersOnly, bool Locked, IReadOnlyList<string> Owners);

    /// <summary>Every room of the service (persistent ones also when empty), sorted by address.</summary>
    public async Task<List<RoomSummary>> ListRoomsAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await LoadAsync(ct).ConfigureAwait(false);
            var list = new List<RoomSummary>(_rooms.Count);
            foreach (var room in _rooms.Values)
            {
                var owners = new List<string>();
                foreach (var (jid, affiliation) in room.Affiliations)
                    if (affiliation == "owner") owners.Add(jid.ToString());
                owners.Sort(StringComparer.Ordinal);
                list.Add(new RoomSummary(room.Jid, room.Name, room.Occupants.Count, room.Persistent, room.Public, room.MembersOnly, room.Locked, owners));
            }
            list.Sort((a, b) => string.CompareOrdinal(a.Jid.ToString(), b.Jid.ToString()));
            return list;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Creates a room ready to enter (unlocked, §10.1.2's defaults), owned by <paramref name="owner"/> when given;
    /// false when the room exists.
    /// </summary>
    public async Task<bool> CreateRoomAsync(Jid room, Jid? owner, string? name, bool persistent, bool isPublic, bool membersOnly, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await LoadAsync(ct).ConfigureAwait(false);
            if (_rooms.ContainsKey(room.Bare)) return false;
            var created = new MucRoom(room.Bare)
            {
                Name = name ?? "",
                Persistent = persistent,
                Public = isPublic,
                MembersOnly = membersOnly,
                MaxUsers = Math.Min(100, _limits.MaxOccupantsPerRoom),
                Logging = _limits.ArchiveByDefault,
            };
            if (owner is { } o) created.Affiliations[o.Bare] = "owner";
            _rooms[created.Jid] = created;
            await SaveAsync(created, ct).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Destroys a room as its owner would (§10.9: occupants learn of it, with the reason and alternate
    /// venue); false when there is no such room.</summary>
    public async Task<bool> DestroyRoomAsync(Jid room, string? reason, string? venue, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await LoadAsync(ct).ConfigureAwait(false);
            if (!_rooms.TryGetValue(room.Bare, out var found)) return false;
            await DestroyAsync(found, venue, reason, ct).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ShutdownAsync()
    {
        if (!await _gate.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false)) return;
        try
        {
            foreach (var room in _rooms.Values)
                foreach (var occupant in room.Occupants.Values)
                    foreach (var session in occupant.Sessions)
                        await SendAsync(Presence(room, occupant, session, [110, 332], "unavailable"), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Shutting down: what could not be sent is not sent.
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask HandleAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        if (stanza.From is not { } from || stanza.To is not { } to) return;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await LoadAsync(ct).ConfigureAwait(false);
            if (to.Local is null)
            {
                if (stanza.Kind == StanzaKind.Iq) await ServiceIqAsync(stanza, from, ct).ConfigureAwait(false);
                return;
            }
            var roomJid = to.Bare;
            _rooms.TryGetValue(roomJid, out var room);
            // An error about what the room sent to an occupant's session (its client or server is gone): the
            // session leaves, and the others learn why (333).
            if (room is not null && stanza.Type == "error" && stanza.Kind != StanzaKind.Iq && room.BySession(from) is { } lost)
            {
                lost.Sessions.Remove(from);
                if (lost.Sessions.Count == 0)
                {
                    room.Occupants.Remove(lost.Nick);
                    foreach (var other in room.Occupants.Values)
                        foreach (var session in other.Sessions)
                            await SendAsync(Presence(room, lost, session, [333], "unavailable"), ct).ConfigureAwait(false);
                    if (!room.Persistent && room.Occupants.Count == 0) _rooms.Remove(room.Jid);
                }
                return;
            }
            switch (stanza.Kind)
            {
                case StanzaKind.Presence when to.Resource is not null:
                    await PresenceAsync(room, roomJid, AskedNick(stanza.Element) ?? to.Resource, stanza, from, ct).ConfigureAwait(false);
                    break;
                case StanzaKind.Presence when stanza.Type is null:
                    // §7.2.1: entering needs a nickname.
                    await ErrorAsync(stanza, StanzaError.JidMalformed("Enter the room as room@service/nick"), ct).ConfigureAwait(false);
                    break;
                case StanzaKind.Message when to.Resource is null:
                    await GroupMessageAsync(room, stanza, from, ct).ConfigureAwait(false);
                    break;
                case StanzaKind.Message:
                    await PrivateMessageAsync(room, to.Resource!, stanza, from, ct).ConfigureAwait(false);
                    break;
                case StanzaKind.Iq when stanza.IqType is IqType.Get or IqType.Set:
                    await RoomIqAsync(room, to, stanza, from, ct).ConfigureAwait(false);
                    break;
                case StanzaKind.Iq when to.Resource is not null && stanza.Id is { } id && _relayed.Remove(id, out var relay):
                    // The answer to an IQ relayed to an occupant goes back to who asked, from the occupant's room JID.
                    var answer = stanza.Element.Clone().SetAttribute("id", relay.Id).SetAttribute("from", relay.From.ToString()).SetAttribute("to", relay.Requester.ToString());
                    await SendAsync(answer, ct).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---- entering, presence, leaving (§7.2, §7.4, §7.6, §7.14) ----

    private async Task PresenceAsync(MucRoom? room, Jid roomJid, string requested, Stanza stanza, Jid from, CancellationToken ct)
    {
        var type = stanza.Type;
        var occupant = room?.BySession(from);
        if (type == "unavailable")
        {
            if (room is not null && occupant is not null) await LeaveAsync(room, occupant, from, stanza.Element, ct).ConfigureAwait(false);
            return;
        }
        if (type is not null) return;     // errors and subscriptions have no meaning here
        // RFC 8266 §2.3: the occupant gets the enforced nick (status 210 when it is not the one asked for); §17.1: no
        // empty or invisible nicks.
        if (!MucNick.TryEnforce(requested, out var nick) || !Jid.TryCreate(roomJid.Local, roomJid.Domain, nick, out _))
        {
            await ErrorAsync(stanza, StanzaError.JidMalformed("That nickname is empty or not allowed"), ct).ConfigureAwait(false);
            return;
        }
        if (occupant is not null)
        {
            if (occupant.Nick == nick) await PresenceChangeAsync(room!, occupant, stanza.Element, ct).ConfigureAwait(false);
            else await NickChangeAsync(room!, occupant, nick, requested, stanza, from, ct).ConfigureAwait(false);
            return;
        }
        if (stanza.Element.Child("x", Muc) is null)
        {
            // §7.2.18: presence without <x/> from a non-occupant is a groupchat 1.0 join or a client that lost track
            // of the room: an explicit kick (110, 307, 333) rather than a half-synchronized entry.
            var kick = new Element("presence", Ns.Client).SetAttribute("from", roomJid.WithResource(requested).ToString())
                .SetAttribute("to", from.ToString()).SetAttribute("type", "unavailable")
                .Add(new Element("x", User)
                    .Add(new Element("item", User).SetAttribute("affiliation", room?.Affiliation(from) ?? "none").SetAttribute("role", "none")
                        .Add(new Element("reason", User).AddText("You are not in the room.")))
                    .Add(Status(110)).Add(Status(307)).Add(Status(333)));
            await SendAsync(kick, ct).ConfigureAwait(false);
            return;
        }
        await EnterAsync(room, roomJid, nick, requested, stanza, from, ct).ConfigureAwait(false);
    }

    private async Task EnterAsync(MucRoom? room, Jid roomJid, string nick, string requested, Stanza stanza, Jid from, CancellationToken ct)
    {
        var created = false;
        if (room is null)
        {
            // §10.1.1: only accounts of this server create rooms; the new room is locked and owned by its creator.
            var mayCreate = _limits.CreateRooms switch
            {
                "anyone" => true,
                "admins" => _admins.Contains(from.Bare),
                _ => addresses.IsLocal(from) && from.Local is not null,
            };
            if (!mayCreate)
            {
                await ErrorAsync(stanza, StanzaError.NotAllowed("You may not create rooms on this service"), ct).ConfigureAwait(false);
                return;
            }
            var owned = 0;
            foreach (var r in _rooms.Values)
                if (r.Affiliation(from) == "owner") owned++;
            if (owned >= _limits.MaxRoomsPerAccount)
            {
                await ErrorAsync(stanza, StanzaError.ResourceConstraint("You own as many rooms as this service allows"), ct).ConfigureAwait(false);
                return;
            }
            room = new MucRoom(roomJid) { Locked = true, MaxUsers = Math.Min(100, _limits.MaxOccupantsPerRoom), Logging = _limits.ArchiveByDefault };
            room.Affiliations[from.Bare] = "owner";
            _rooms[roomJid] = room;
            created = true;
        }
        var affiliation = room.Affiliation(from);
        var error = affiliation == "outcast" ? StanzaError.Forbidden("You are banned from this room")
            : room.Locked && affiliation != "owner" ? StanzaError.ItemNotFound("The room is being set up")
            : room.MembersOnly && affiliation == "none" ? new StanzaError(StanzaErrorType.Auth, StanzaErrorCondition.RegistrationRequired, "This room is for members")
            : room.Password is not null && affiliation is not ("owner" or "admin") && stanza.Element.Child("x", Muc)?.ChildText("password", Muc) != room.Password
                ? StanzaError.NotAuthorized("A password is required")
            : room.Occupants.TryGetValue(nick, out var taken) && taken.Account != from.Bare ? StanzaError.Conflict("That nickname is in use")
            : room.ReservedBy(nick) is { } owner && owner != from.Bare ? StanzaError.Conflict("That nickname is reserved")
            : room.Occupants.Count >= room.MaxUsers && affiliation is not ("owner" or "admin")
                ? new StanzaError(StanzaErrorType.Wait, StanzaErrorCondition.ServiceUnavailable, "The room is full")     // §7.2.9: type wait
            : null;
        if (error is not null)
        {
            await ErrorAsync(stanza, error, ct).ConfigureAwait(false);
            return;
        }
        // §7.2.? multi-session: another resource of the same account joins the same nick.
        if (room.Occupants.TryGetValue(nick, out var same))
        {
            same.Sessions.Add(from);
            await SendPresenceToAsync(room, same, from, same.Nick == requested ? [110] : [110, 210], ct).ConfigureAwait(false);
            return;
        }
        var occupant = new MucOccupant(nick, from.Bare) { Role = room.DefaultRole(affiliation), Presence = Strip(stanza.Element) };
        occupant.Sessions.Add(from);
        // §7.2.3: the others first, then the newcomer to everyone, then its own presence with 110.
        foreach (var other in room.Occupants.Values)
            if (room.PresenceBroadcast.Contains(other.Role)) await SendAsync(Presence(room, other, from, []), ct).ConfigureAwait(false);
        room.Occupants[nick] = occupant;
        await BroadcastPresenceAsync(room, occupant, [], ct, toSelf: false).ConfigureAwait(false);
        var codes = new List<int> { 110 };
        if (room.WhoIs == "anyone") codes.Add(100);
        if (room.Logging) codes.Add(170);
        if (created) codes.Add(201);
        if (nick != requested) codes.Add(210);
        await SendPresenceToAsync(room, occupant, from, codes, ct).ConfigureAwait(false);
        // §7.2.15 and §7.2.16: history, then the subject (an empty one for a new room, which clients wait for).
        var history = stanza.Element.Child("x", Muc)?.Child("history", Muc);
        var maxStanzas = int.TryParse(history?.GetAttribute("maxstanzas"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : room.DefaultHistoryMessages;
        var since = DateTimeOffset.TryParse(history?.GetAttribute("since"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s) ? s : DateTimeOffset.MinValue;
        var seconds = int.TryParse(history?.GetAttribute("seconds"), NumberStyles.None, CultureInfo.InvariantCulture, out var sec) ? time.GetUtcNow().AddSeconds(-sec) : DateTimeOffset.MinValue;
        var start = Math.Max(0, room.History.Count - maxStanzas);
        // maxchars counts the characters of the XML of the messages sent, newest first (§7.2.15); 0 means none.
        if (int.TryParse(history?.GetAttribute("maxchars"), NumberStyles.None, CultureInfo.InvariantCulture, out var maxChars))
        {
            var total = 0;
            var first = room.History.Count;
            while (first > start && total + room.History[first - 1].Message.ToString().Length <= maxChars)
                total += room.History[--first].Message.ToString().Length;
            start = first;
        }
        for (var i = start; i < room.History.Count; i++)
        {
            var (at, message) = room.History[i];
            if (at < since || at < seconds) continue;
            var copy = message.Clone().SetAttribute("to", from.ToString());
            // §7.9: history an owner replayed keeps its own stamp; the service adds none.
            if (copy.Child("delay", Ns.Delay) is null) copy.Add(new Element("delay", Ns.Delay).SetAttribute("from", room.Jid.ToString()).SetAttribute("stamp", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
            await SendAsync(copy, ct).ConfigureAwait(false);
        }
        var subject = new Element("message", Ns.Client).SetAttribute("type", "groupchat").SetAttribute("to", from.ToString())
            .SetAttribute("from", room.SubjectNick is null ? room.Jid.ToString() : room.Jid.WithResource(room.SubjectNick).ToString())
            .Add(new Element("subject", Ns.Client).AddText(room.Subject));
        await SendAsync(subject, ct).ConfigureAwait(false);
    }

    private async Task PresenceChangeAsync(MucRoom room, MucOccupant occupant, Element presence, CancellationToken ct)
    {
        occupant.Presence = Strip(presence);
        if (occupant.Role == "visitor" && !room.VisitorStatus) occupant.Presence.RemoveAll(new QName(Ns.Client, "status"));
        await BroadcastPresenceAsync(room, occupant, [], ct).ConfigureAwait(false);
    }

    // §7.6: unavailable with 303 and the new nick from the old one, then available from the new one.
    private async Task NickChangeAsync(MucRoom room, MucOccupant occupant, string nick, string requested, Stanza stanza, Jid from, CancellationToken ct)
    {
        if (occupant.Role == "visitor" && !room.VisitorNickChange)
        {
            await ErrorAsync(stanza, StanzaError.NotAllowed("Visitors may not change their nickname here"), ct).ConfigureAwait(false);
            return;
        }
        if (room.Occupants.TryGetValue(nick, out var taken) && taken.Account != occupant.Account)
        {
            await ErrorAsync(stanza, StanzaError.Conflict("That nickname is in use"), ct).ConfigureAwait(false);
            return;
        }
        if (room.ReservedBy(nick) is { } holder && holder != occupant.Account)
        {
            await ErrorAsync(stanza, StanzaError.Conflict("That nickname is reserved"), ct).ConfigureAwait(false);
            return;
        }
        foreach (var other in room.Occupants.Values)
            foreach (var session in other.Sessions)
            {
                var p = Presence(room, occupant, session, other == occupant ? [303, 110] : [303], "unavailable");
                p.Child("x", User)!.Child("item", User)!.SetAttribute("nick", nick);
                await SendAsync(p, ct).ConfigureAwait(false);
            }
        room.Occupants.Remove(occupant.Nick);
        occupant.Nick = nick;
        occupant.Presence = Strip(stanza.Element);
        room.Occupants[nick] = occupant;
        await BroadcastPresenceAsync(room, occupant, [], ct, toSelf: false).ConfigureAwait(false);
        foreach (var session in occupant.Sessions)
            await SendPresenceToAsync(room, occupant, session, nick == requested ? [110] : [110, 210], ct).ConfigureAwait(false);
    }

    private async Task LeaveAsync(MucRoom room, MucOccupant occupant, Jid session, Element presence, CancellationToken ct)
    {
        occupant.Sessions.Remove(session);
        // §10.1.3: the owner of a new room leaving before it is configured destroys it, and hears so.
        var destroying = room.Locked && occupant.Sessions.Count == 0 && room.Occupants.Count == 1;
        var self = Presence(room, occupant, session, [110], "unavailable");
        if (destroying) self.Child("x", User)!.Add(new Element("destroy", User));
        if (presence.ChildText("status", Ns.Client) is { } status) self.Add(new Element("status", Ns.Client).AddText(status));
        await SendAsync(self, ct).ConfigureAwait(false);
        if (destroying)
        {
            room.Occupants.Remove(occupant.Nick);
            _rooms.Remove(room.Jid);
            await _stored.SetAsync(_service, room.Jid.Local!, null, ct).ConfigureAwait(false);
            return;
        }
        if (occupant.Sessions.Count > 0) return;
        room.Occupants.Remove(occupant.Nick);
        foreach (var other in room.Occupants.Values)
            foreach (var s in other.Sessions)
                await SendAsync(Presence(room, occupant, s, [], "unavailable"), ct).ConfigureAwait(false);
        if (!room.Persistent && room.Occupants.Count == 0) _rooms.Remove(room.Jid);
    }

    // ---- messages (§7.4, §7.5, §8.1) ----

    private async Task GroupMessageAsync(MucRoom? room, Stanza stanza, Jid from, CancellationToken ct)
    {
        if (stanza.Type == "error") return;
        if (room is not null && stanza.Type is null or "normal" && stanza.Element.Child("x", User) is { } userX)
        {
            await InvitationAsync(room, stanza, userX, from, ct).ConfigureAwait(false);
            return;
        }
        if (room is not null && stanza.Type is null or "normal" && stanza.Element.Child("x", Ns.DataForms) is { } form
            && DataForm.Value(form, "FORM_TYPE") == Muc + "#request")
        {
            await VoiceRequestAsync(room, stanza, form, from, ct).ConfigureAwait(false);
            return;
        }
        var occupant = room?.BySession(from);
        if (room is null || occupant is null)
        {
            await ErrorAsync(stanza, StanzaError.NotAcceptable("Only occupants may send messages to the room"), ct).ConfigureAwait(false);
            return;
        }
        if (stanza.Type != "groupchat")
        {
            await ErrorAsync(stanza, StanzaError.BadRequest("Messages to the room are of type groupchat"), ct).ConfigureAwait(false);
            return;
        }
        var subject = stanza.Element.Child("subject", Ns.Client);
        if (subject is not null && stanza.Element.Child("body", Ns.Client) is null)
        {
            // §8.1: the subject is the moderators' unless the room lets everyone change it.
            if (occupant.Role != "moderator" && !(room.ChangeSubject && occupant.Role == "participant"))
            {
                await ErrorAsync(stanza, StanzaError.Forbidden("You may not change the subject"), ct).ConfigureAwait(false);
                return;
            }
            room.Subject = subject.Text;
            room.SubjectNick = occupant.Nick;
            await SaveAsync(room, ct).ConfigureAwait(false);
        }
        else if (occupant.Role == "visitor")
        {
            await ErrorAsync(stanza, StanzaError.Forbidden("Visitors may not speak in this moderated room"), ct).ConfigureAwait(false);
            return;
        }
        if (!occupant.Allow(time.GetUtcNow(), _limits.MessagesPerMinute))
        {
            // RFC 6120 §8.3.3.13 (policy-violation) for an occupant who floods the room.
            await ErrorAsync(stanza, StanzaError.PolicyViolation("Too many messages; slow down"), ct).ConfigureAwait(false);
            return;
        }
        // XEP-0424: an author retracts their own message; the archive keeps a tombstone.
        if (stanza.Element.Child("retract", Retract)?.GetAttribute("id") is { } retracted
            && !await TombstoneAsync(room, retracted, occupant, null, null, ct).ConfigureAwait(false))
        {
            await ErrorAsync(stanza, StanzaError.Forbidden("Only the author retracts a message this way"), ct).ConfigureAwait(false);
            return;
        }
        var message = stanza.Element.Clone().SetAttribute("from", room.Jid.WithResource(occupant.Nick).ToString());
        // XEP-0359 and XEP-0421: ids only the room may set.
        message.RemoveAll(new QName(Ns.StanzaId, "stanza-id"));
        message.RemoveAll(new QName(OccupantIdNs, "occupant-id"));
        // §7.9: only an owner may replay earlier one-to-one history with its own XEP-0203 stamps; from anyone else a
        // delay element would let them backdate what they say.
        if (room.Affiliation(occupant.Account) != "owner") message.RemoveAll(new QName(Ns.Delay, "delay"));
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', '-').Replace('/', '_');
        message.Add(new Element("occupant-id", OccupantIdNs).SetAttribute("id", room.OccupantId(occupant.Account)));
        message.Add(new Element("stanza-id", Ns.StanzaId).SetAttribute("by", room.Jid.ToString()).SetAttribute("id", id));
        // §7.4: a message without an id gets one, the same in every reflection.
        if (message.GetAttribute("id") is null) message.SetAttribute("id", id);
        if (subject is null)
        {
            var now = time.GetUtcNow();
            room.History.Add((now, message.Clone()));
            while (room.History.Count > room.HistoryLength) room.History.RemoveAt(0);
            // The room's archive (XEP-0313 on the room JID), when the room keeps one.
            if (room.Logging && message.Child("body", Ns.Client) is not null)
                await storage.Archive.AppendAsync(room.Jid, new ArchivedMessage(id, now, room.Jid.WithResource(occupant.Nick), message.Clone()), ct).ConfigureAwait(false);
        }
        foreach (var other in room.Occupants.Values)
            foreach (var session in other.Sessions)
                await SendAsync(message.Clone().SetAttribute("to", session.ToString()), ct).ConfigureAwait(false);
    }

    // §7.8.2: a mediated invitation goes to the invitee from the room (with the password); in a members-only room
    // only admins invite, and the invitee becomes a member. A decline goes back to the inviter.
    private async Task InvitationAsync(MucRoom room, Stanza stanza, Element userX, Jid from, CancellationToken ct)
    {
        if (userX.Child("invite", User) is not null)
        {
            var inviter = room.BySession(from);
            if (inviter is null)
            {
                await ErrorAsync(stanza, StanzaError.NotAcceptable("Only occupants may invite"), ct).ConfigureAwait(false);
                return;
            }
            // §7.9 (Example 63): one message may carry several invitations; all are checked before any goes out.
            var invitations = new List<(Jid Invitee, Element Invite)>();
            foreach (var invite in userX.Children)
            {
                if (invite.LocalName != "invite" || invite.Namespace != User) continue;
                if (!Jid.TryParse(invite.GetAttribute("to"), out var invitee))
                {
                    await ErrorAsync(stanza, StanzaError.JidMalformed("The invitee's address is not a JID"), ct).ConfigureAwait(false);
                    return;
                }
                invitations.Add((invitee, invite));
            }
            if (!room.AllowInvites && inviter.Role != "moderator")
            {
                await ErrorAsync(stanza, StanzaError.Forbidden("Only moderators invite to this room"), ct).ConfigureAwait(false);
                return;
            }
            if (room.MembersOnly && room.Affiliation(from) is not ("owner" or "admin"))
            {
                await ErrorAsync(stanza, StanzaError.Forbidden("Only admins invite to this members-only room"), ct).ConfigureAwait(false);
                return;
            }
            var changed = false;
            foreach (var (invitee, _) in invitations)
            {
                if (!room.MembersOnly || room.Affiliation(invitee) != "none") continue;
                room.Affiliations[invitee.Bare] = "member";
                changed = true;
            }
            if (changed) await SaveAsync(room, ct).ConfigureAwait(false);
            foreach (var (invitee, invite) in invitations)
            {
                var x = new Element("x", User);
                var forwarded = new Element("invite", User).SetAttribute("from", from.Bare.ToString());
                if (invite.ChildText("reason", User) is { } reason) forwarded.Add(new Element("reason", User).AddText(reason));
                // §7.9: the continue flag (and its thread) tells the invitee this continues a one-to-one chat.
                if (invite.Child("continue", User) is { } carryOn)
                {
                    var flag = new Element("continue", User);
                    if (carryOn.GetAttribute("thread") is { } thread) flag.SetAttribute("thread", thread);
                    forwarded.Add(flag);
                }
                x.Add(forwarded);
                if (room.Password is not null) x.Add(new Element("password", User).AddText(room.Password));
                await SendAsync(new Element("message", Ns.Client).SetAttribute("from", room.Jid.ToString()).SetAttribute("to", invitee.ToString())
                    .SetAttribute("id", invitations.Count == 1 ? stanza.Id : Guid.NewGuid().ToString("N")).Add(x), ct).ConfigureAwait(false);
            }
            return;
        }
        if (userX.Child("decline", User) is { } decline && Jid.TryParse(decline.GetAttribute("to"), out var to))
        {
            var back = new Element("decline", User).SetAttribute("from", from.Bare.ToString());
            if (decline.ChildText("reason", User) is { } reason) back.Add(new Element("reason", User).AddText(reason));
            await SendAsync(new Element("message", Ns.Client).SetAttribute("from", room.Jid.ToString()).SetAttribute("to", to.ToString())
                .SetAttribute("id", stanza.Id).Add(new Element("x", User).Add(back)), ct).ConfigureAwait(false);
            return;
        }
        await ErrorAsync(stanza, StanzaError.BadRequest("Send groupchat messages, invitations or declines to the room"), ct).ConfigureAwait(false);
    }

    // §7.13 and §8.6: a visitor asks for voice; the moderators get an approval form; an approval grants it.
    private async Task VoiceRequestAsync(MucRoom room, Stanza stanza, Element form, Jid from, CancellationToken ct)
    {
        var sender = room.BySession(from);
        if (sender is null)
        {
            await ErrorAsync(stanza, StanzaError.NotAcceptable("Only occupants ask for voice"), ct).ConfigureAwait(false);
            return;
        }
        if (form.GetAttribute("type") == "submit" && DataForm.Value(form, "muc#request_allow") is { } allow && sender.Role == "moderator")
        {
            if (allow is "true" or "1" && DataForm.Value(form, "muc#roomnick") is { } nick && room.Occupants.TryGetValue(nick, out var visitor) && visitor.Role == "visitor")
            {
                visitor.Role = "participant";
                await BroadcastPresenceAsync(room, visitor, [], ct).ConfigureAwait(false);
            }
            return;
        }
        if (sender.Role != "visitor") return;
        if (!room.AllowVoiceRequests)
        {
            await ErrorAsync(stanza, StanzaError.Forbidden("This room takes no voice requests"), ct).ConfigureAwait(false);
            return;
        }
        var now = time.GetUtcNow();
        if ((now - sender.LastVoiceRequest).TotalSeconds < room.VoiceRequestInterval)
        {
            await ErrorAsync(stanza, StanzaError.ResourceConstraint("Voice was asked for recently; wait before asking again"), ct).ConfigureAwait(false);
            return;
        }
        sender.LastVoiceRequest = now;
        var approval = DataForm.Create("form", "Voice request", Muc + "#request",
            DataForm.Field("muc#role", "list-single", "Requested role", false, "participant"),
            DataForm.Field("muc#jid", "jid-single", "User ID", false, from.ToString()),
            DataForm.Field("muc#roomnick", "text-single", "Room Nickname", false, sender.Nick),
            DataForm.Field("muc#request_allow", "boolean", "Grant voice to this person?", false, "false"));
        foreach (var moderator in room.Occupants.Values)
        {
            if (moderator.Role != "moderator") continue;
            foreach (var session in moderator.Sessions)
                await SendAsync(new Element("message", Ns.Client).SetAttribute("from", room.Jid.ToString()).SetAttribute("to", session.ToString())
                    .SetAttribute("id", stanza.Id).Add(approval.Clone()), ct).ConfigureAwait(false);
        }
    }

    // §7.10: registering makes the account a member with its nickname reserved.
    private async Task RegisterAsync(MucRoom room, Stanza iq, Element query, Jid from, CancellationToken ct)
    {
        var affiliation = room.Affiliation(from);
        if (affiliation == "outcast")
        {
            await ErrorAsync(iq, StanzaError.Forbidden("You are banned from this room"), ct).ConfigureAwait(false);
            return;
        }
        if (iq.IqType == IqType.Get)
        {
            var reply = new Element("query", Ns.Register);
            if (room.ReservedNicks.TryGetValue(from.Bare, out var current))
                reply.Add(new Element("registered", Ns.Register)).Add(new Element("username", Ns.Register).AddText(current));
            else
                reply.Add(DataForm.Create("form", "Registration", Muc + "#register",
                    DataForm.Field("muc#register_roomnick", "text-single", "Desired nickname", true)));
            await ResultAsync(iq, reply, ct).ConfigureAwait(false);
            return;
        }
        if (query.Child("remove", Ns.Register) is not null)
        {
            room.ReservedNicks.Remove(from.Bare);
            if (affiliation == "member") room.Affiliations.Remove(from.Bare);
            await SaveAsync(room, ct).ConfigureAwait(false);
            await ResultAsync(iq, null, ct).ConfigureAwait(false);
            return;
        }
        var asked = query.Child("x", Ns.DataForms) is { } form ? DataForm.Value(form, "muc#register_roomnick") : null;
        // RFC 8266: the reserved nick is kept in its enforced form, as occupants' nicks are.
        if (asked is null || !MucNick.TryEnforce(asked, out var nick) || !Jid.TryCreate(room.Jid.Local, room.Jid.Domain, nick, out _))
        {
            await ErrorAsync(iq, StanzaError.BadRequest("Give a nickname to reserve"), ct).ConfigureAwait(false);
            return;
        }
        if ((room.ReservedBy(nick) is { } holder && holder != from.Bare) || (room.Occupants.TryGetValue(nick, out var using_) && using_.Account != from.Bare))
        {
            await ErrorAsync(iq, StanzaError.Conflict("That nickname is taken"), ct).ConfigureAwait(false);
            return;
        }
        room.ReservedNicks[from.Bare] = nick;
        if (affiliation == "none") room.Affiliations[from.Bare] = "member";
        await SaveAsync(room, ct).ConfigureAwait(false);
        await ResultAsync(iq, null, ct).ConfigureAwait(false);
    }

    // §7.5: a private message to another occupant, from the sender's room nick.
    private async Task PrivateMessageAsync(MucRoom? room, string nick, Stanza stanza, Jid from, CancellationToken ct)
    {
        if (stanza.Type == "error") return;
        var sender = room?.BySession(from);
        if (room is null || sender is null || !room.Occupants.TryGetValue(nick, out var target))
        {
            await ErrorAsync(stanza, StanzaError.ItemNotFound("No such occupant"), ct).ConfigureAwait(false);
            return;
        }
        if (sender.Role == "visitor" && (room.VisitorPm == "nobody" || (room.VisitorPm == "moderators" && target.Role != "moderator")))
        {
            await ErrorAsync(stanza, StanzaError.Forbidden("Visitors may not send private messages here"), ct).ConfigureAwait(false);
            return;
        }
        var allowed = room.AllowPm switch
        {
            "none" => false,
            "moderators" => sender.Role == "moderator",
            "participants" => sender.Role is "moderator" or "participant",
            _ => true,
        };
        if (!allowed || stanza.Type == "groupchat")
        {
            await ErrorAsync(stanza, stanza.Type == "groupchat" ? StanzaError.BadRequest("Private messages are not groupchat") : StanzaError.Forbidden("Private messages are not allowed here"), ct).ConfigureAwait(false);
            return;
        }
        foreach (var session in target.Sessions)
        {
            var message = stanza.Element.Clone().SetAttribute("from", room.Jid.WithResource(sender.Nick).ToString()).SetAttribute("to", session.ToString());
            if (message.Child("x", User) is null) message.Add(new Element("x", User));
            await SendAsync(message, ct).ConfigureAwait(false);
        }
    }

    // ---- IQs: discovery, self-ping, admin and owner (§6, §8, §9, §10) ----

    private async Task ServiceIqAsync(Stanza iq, Jid from, CancellationToken ct)
    {
        var payload = iq.Element.FirstChild();
        if (iq.IqType == IqType.Get && payload?.Name == new QName(Ns.DiscoInfo, "query") && payload.GetAttribute("node") is null)
        {
            await ResultAsync(iq, new Element("query", Ns.DiscoInfo)
                .Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "conference").SetAttribute("type", "text").SetAttribute("name", "Chatrooms"))
                .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.DiscoInfo))
                .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.DiscoItems))
                .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Muc))
                .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", StableId)), ct).ConfigureAwait(false);
            return;
        }
        if (iq.IqType == IqType.Get && payload?.Name == new QName(Ns.DiscoItems, "query"))
        {
            // §6.3: public rooms only; §6.3 with XEP-0059: large services page with <max/> and <after/>/<before/>.
            var rooms = new List<MucRoom>();
            foreach (var room in _rooms.Values)
                if (room.Public && !room.Locked) rooms.Add(room);
            rooms.Sort((a, b) => string.CompareOrdinal(a.Jid.ToString(), b.Jid.ToString()));
            var set = payload.Child("set", Ns.Rsm);
            var max = int.TryParse(set?.ChildText("max", Ns.Rsm), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? Math.Min(m, 1000) : 1000;
            var start = 0;
            if (set?.ChildText("after", Ns.Rsm) is { } after)
                start = rooms.FindIndex(r => r.Jid.ToString() == after) + 1;
            else if (set?.Child("before", Ns.Rsm) is { } before)
            {
                var end = before.Text.Length == 0 ? rooms.Count : Math.Max(0, rooms.FindIndex(r => r.Jid.ToString() == before.Text));
                start = Math.Max(0, end - max);
                max = Math.Min(max, end - start);
            }
            var items = new Element("query", Ns.DiscoItems);
            var page = rooms.GetRange(Math.Min(start, rooms.Count), Math.Max(0, Math.Min(max, rooms.Count - start)));
            foreach (var room in page)
                items.Add(new Element("item", Ns.DiscoItems).SetAttribute("jid", room.Jid.ToString()).SetAttribute("name", room.Name.Length > 0 ? room.Name : room.Jid.Local));
            if (set is not null)
            {
                var summary = new Element("set", Ns.Rsm);
                if (page.Count > 0)
                {
                    summary.Add(new Element("first", Ns.Rsm).SetAttribute("index", start.ToString(CultureInfo.InvariantCulture)).AddText(page[0].Jid.ToString()));
                    summary.Add(new Element("last", Ns.Rsm).AddText(page[^1].Jid.ToString()));
                }
                items.Add(summary.Add(new Element("count", Ns.Rsm).AddText(rooms.Count.ToString(CultureInfo.InvariantCulture))));
            }
            await ResultAsync(iq, items, ct).ConfigureAwait(false);
            return;
        }
        await ErrorAsync(iq, StanzaError.ServiceUnavailable, ct).ConfigureAwait(false);
    }

    private async Task RoomIqAsync(MucRoom? room, Jid to, Stanza iq, Jid from, CancellationToken ct)
    {
        var payload = iq.Element.FirstChild();
        if (room is null)
        {
            await ErrorAsync(iq, StanzaError.ItemNotFound("No such room"), ct).ConfigureAwait(false);
            return;
        }
        if (to.Resource is not null)
        {
            // XEP-0410 self-ping: answered for one's own occupant.
            var asker = room.BySession(from);
            if (payload?.Name == new QName(Ns.Ping, "ping") && asker is not null && MucNick.Comparer.Equals(asker.Nick, to.Resource))
            {
                await ResultAsync(iq, null, ct).ConfigureAwait(false);
                return;
            }
            // §18.1.3 (IQ semantics): other IQs between occupants are relayed with room JIDs on both sides; vCard requests go
            // to the occupant's account (its server answers for it, XEP-0054), others to one of its sessions.
            if (asker is null)
            {
                // §6.6: a non-occupant's disco request to an occupant is a bad request.
                await ErrorAsync(iq, payload?.Namespace is Ns.DiscoInfo or Ns.DiscoItems ? StanzaError.BadRequest("Only occupants query occupants")
                    : StanzaError.NotAcceptable("Only occupants send IQs to occupants"), ct).ConfigureAwait(false);
                return;
            }
            if (!room.Occupants.TryGetValue(to.Resource, out var target) || target.Sessions.Count == 0)
            {
                await ErrorAsync(iq, StanzaError.ItemNotFound("No such occupant"), ct).ConfigureAwait(false);
                return;
            }
            if (!room.AllowQueryUsers && asker.Role != "moderator")
            {
                await ErrorAsync(iq, StanzaError.NotAllowed("This room does not relay queries to occupants"), ct).ConfigureAwait(false);
                return;
            }
            var relayId = "muc-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            if (_relayed.Count >= 10_000) _relayed.Clear();      // bounded: answers that never came are forgotten
            _relayed[relayId] = (from, iq.Id, to);
            var destination = payload?.Namespace == Ns.VCard ? target.Account : First(target.Sessions);
            var relayed = iq.Element.Clone().SetAttribute("id", relayId).SetAttribute("from", room.Jid.WithResource(asker.Nick).ToString())
                .SetAttribute("to", destination.ToString());
            await SendAsync(relayed, ct).ConfigureAwait(false);
            return;
        }
        switch (payload?.Namespace, payload?.LocalName, iq.IqType)
        {
            case (Ns.DiscoInfo, "query", IqType.Get) when payload!.GetAttribute("node") == "x-roomuser-item":
            {
                // §7.12: the nickname the user reserved, if any.
                var reply = new Element("query", Ns.DiscoInfo).SetAttribute("node", "x-roomuser-item");
                if (room.ReservedNicks.TryGetValue(from.Bare, out var reserved))
                    reply.Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "conference").SetAttribute("type", "text").SetAttribute("name", reserved));
                await ResultAsync(iq, reply, ct).ConfigureAwait(false);
                return;
            }
            case (Ns.DiscoInfo, "query", IqType.Get):
                await ResultAsync(iq, RoomInfo(room), ct).ConfigureAwait(false);
                return;
            case (Ns.Register, "query", _):
                await RegisterAsync(room, iq, payload!, from, ct).ConfigureAwait(false);
                return;
            case (Ns.DiscoItems, "query", IqType.Get):
            {
                // §6.5: the occupants, when the room makes its list public (or to occupants and moderators).
                var items = new Element("query", Ns.DiscoItems);
                if (room.PublicList || room.BySession(from) is not null)
                    foreach (var occupant in room.Occupants.Values)
                        items.Add(new Element("item", Ns.DiscoItems).SetAttribute("jid", room.Jid.WithResource(occupant.Nick).ToString()));
                await ResultAsync(iq, items, ct).ConfigureAwait(false);
                return;
            }
            case (Admin, "query", _):
                await AdminAsync(room, iq, payload!, from, ct).ConfigureAwait(false);
                return;
            case (Moderate, "moderate", IqType.Set):
                await ModerateAsync(room, iq, payload!, from, ct).ConfigureAwait(false);
                return;
            case (Ns.Mam, "query", IqType.Set):
                await ArchiveQueryAsync(room, iq, payload!, from, ct).ConfigureAwait(false);
                return;
            case (Owner, "query", _):
                await OwnerAsync(room, iq, payload!, from, ct).ConfigureAwait(false);
                return;
            default:
                await ErrorAsync(iq, StanzaError.ServiceUnavailable, ct).ConfigureAwait(false);
                return;
        }
    }

    // XEP-0425: a moderator retracts someone's message: everyone is told, the archive keeps a tombstone.
    private async Task ModerateAsync(MucRoom room, Stanza iq, Element moderate, Jid from, CancellationToken ct)
    {
        var moderator = room.BySession(from);
        if (moderator?.Role != "moderator" || moderate.Child("retract", Retract) is null || moderate.GetAttribute("id") is not { } id)
        {
            await ErrorAsync(iq, StanzaError.Forbidden("Only moderators are allowed to moderate other participants' messages"), ct).ConfigureAwait(false);
            return;
        }
        var reason = moderate.ChildText("reason", Moderate);
        if (!await TombstoneAsync(room, id, null, moderator, reason, ct).ConfigureAwait(false))
        {
            await ErrorAsync(iq, StanzaError.ItemNotFound("No such message in the room's archive"), ct).ConfigureAwait(false);
            return;
        }
        var retract = new Element("retract", Retract).SetAttribute("id", id)
            .Add(new Element("moderated", Moderate).SetAttribute("by", room.Jid.WithResource(moderator.Nick).ToString())
                .Add(new Element("occupant-id", OccupantIdNs).SetAttribute("id", room.OccupantId(moderator.Account))));
        if (reason is not null) retract.Add(new Element("reason", Retract).AddText(reason));
        foreach (var occupant in room.Occupants.Values)
            foreach (var session in occupant.Sessions)
                await SendAsync(new Element("message", Ns.Client).SetAttribute("type", "groupchat").SetAttribute("from", room.Jid.ToString())
                    .SetAttribute("to", session.ToString()).SetAttribute("id", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))).Add(retract.Clone()), ct).ConfigureAwait(false);
        await ResultAsync(iq, null, ct).ConfigureAwait(false);
    }

    // Replaces an archived message with its tombstone (and drops it from the history). With an author, only that
    // author's own message qualifies (by occupant id); with a moderator, any message.
    private async Task<bool> TombstoneAsync(MucRoom room, string id, MucOccupant? author, MucOccupant? moderator, string? reason, CancellationToken ct)
    {
        var page = await storage.Archive.QueryAsync(room.Jid, new ArchiveQuery { Ids = [id], Max = 1 }, ct).ConfigureAwait(false);
        if (page is not { Items.Count: 1 }) return false;
        var original = page.Items[0].Message;
        var occupantId = original.Child("occupant-id", OccupantIdNs)?.GetAttribute("id");
        if (author is not null && occupantId != room.OccupantId(author.Account)) return false;
        var tombstone = new Element("message", Ns.Client).SetAttribute("type", "groupchat").SetAttribute("from", original.GetAttribute("from")).SetAttribute("id", original.GetAttribute("id"));
        if (occupantId is not null) tombstone.Add(new Element("occupant-id", OccupantIdNs).SetAttribute("id", occupantId));
        var retracted = new Element("retracted", Retract).SetAttribute("stamp", MamQueries.Stamp(time.GetUtcNow()));
        if (moderator is not null)
            retracted.Add(new Element("moderated", Moderate).SetAttribute("by", room.Jid.WithResource(moderator.Nick).ToString())
                .Add(new Element("occupant-id", OccupantIdNs).SetAttribute("id", room.OccupantId(moderator.Account))));
        if (reason is not null) retracted.Add(new Element("reason", Retract).AddText(reason));
        tombstone.Add(retracted);
        await storage.Archive.ReplaceAsync(room.Jid, id, tombstone, ct).ConfigureAwait(false);
        room.History.RemoveAll(h => h.Message.Child("stanza-id", Ns.StanzaId)?.GetAttribute("id") == id);
        return true;
    }

    // XEP-0313 on a room: occupants (and, for members-only rooms, members) page through what the room kept.
    private async Task ArchiveQueryAsync(MucRoom room, Stanza iq, Element query, Jid from, CancellationToken ct)
    {
        var affiliation = room.Affiliation(from);
        var allowed = room.Logging && affiliation != "outcast" && (room.BySession(from) is not null || affiliation is "owner" or "admin" or "member" || (!room.MembersOnly && room.Password is null));
        if (!allowed)
        {
            await ErrorAsync(iq, StanzaError.Forbidden("You may not read this room's archive"), ct).ConfigureAwait(false);
            return;
        }
        var results = new List<Element>();
        var reply = await MamQueries.RunAsync(storage.Archive, room.Jid, query, from, room.Jid, e =>
        {
            results.Add(e);
            return true;
        }, options.Value.Archive.MaxPageSize, ct).ConfigureAwait(false);
        foreach (var result in results) await SendAsync(result, ct).ConfigureAwait(false);
        if (reply.Error is { } error) await ErrorAsync(iq, error, ct).ConfigureAwait(false);
        else await ResultAsync(iq, reply.Payload, ct).ConfigureAwait(false);
    }

    private static Element RoomInfo(MucRoom room)
    {
        var query = new Element("query", Ns.DiscoInfo)
            .Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "conference").SetAttribute("type", "text").SetAttribute("name", room.Name.Length > 0 ? room.Name : room.Jid.Local));
        foreach (var f in new[]
                 {
                     Muc, StableId, room.Public ? "muc_public" : "muc_hidden", room.MembersOnly ? "muc_membersonly" : "muc_open",
                     room.Moderated ? "muc_moderated" : "muc_unmoderated", room.WhoIs == "anyone" ? "muc_nonanonymous" : "muc_semianonymous",
                     room.Password is null ? "muc_unsecured" : "muc_passwordprotected", room.Persistent ? "muc_persistent" : "muc_temporary",
                     OccupantIdNs, Ns.StanzaId, Moderate, Retract, Ns.Register, Muc + "#request",
                 })
            query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", f));
        if (room.Logging)
        {
            query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.Mam));
            query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.MamExtended));
        }
        // XEP-0128: the room information form.
        query.Add(DataForm.Create("result", null, Muc + "#roominfo",
            DataForm.Field("muc#roominfo_description", "text-single", null, false, room.Description),
            DataForm.Field("muc#roominfo_occupants", "text-single", null, false, room.Occupants.Count.ToString(CultureInfo.InvariantCulture)),
            DataForm.Field("muc#roominfo_subject", "text-single", null, false, room.Subject),
            DataForm.Field("muc#roominfo_pubsub", "text-single", null, false, room.PubSubNode),
            DataForm.Field("muc#roominfo_lang", "text-single", null, false, room.Language)));
        return query;
    }

    // §8 (moderator) and §9 (admin): roles by nick, affiliations by JID, and the lists.
    private async Task AdminAsync(MucRoom room, Stanza iq, Element query, Jid from, CancellationToken ct)
    {
        var actor = room.BySession(from);
        var actorAffiliation = room.Affiliation(from);
        if (iq.IqType == IqType.Get && query.Child("item", Admin)?.GetAttribute("role") is { } roleList)
        {
            // §8.5 (voice list) for moderators and §9.8 (moderator list) for admins.
            if (actor?.Role != "moderator" || (roleList == "moderator" && actorAffiliation is not ("owner" or "admin")))
            {
                await ErrorAsync(iq, StanzaError.Forbidden(roleList == "moderator" ? "Only admins see the moderator list" : "Only moderators see role lists"), ct).ConfigureAwait(false);
                return;
            }
            // §17.4 (item attributes): role items carry nick, role, affiliation and the full JID.
            var roles = new Element("query", Admin);
            foreach (var occupant in room.Occupants.Values)
                if (occupant.Role == roleList)
                    roles.Add(new Element("item", Admin).SetAttribute("nick", occupant.Nick).SetAttribute("role", occupant.Role)
                        .SetAttribute("affiliation", room.Affiliation(occupant.Account)).SetAttribute("jid", First(occupant.Sessions).ToString()));
            await ResultAsync(iq, roles, ct).ConfigureAwait(false);
            return;
        }
        if (iq.IqType == IqType.Get)
        {
            var list = query.Child("item", Admin)?.GetAttribute("affiliation");
            // §9.2 and §9.5: admins see the ban and member lists; §10.5 and §10.8: owners see the owner and admin lists;
            // §7.11: occupants whose role the room names see the member list, and in a non-anonymous members-only room
            // every occupant and member does.
            var mayRead = list switch
            {
                "owner" or "admin" => actorAffiliation == "owner",
                "outcast" => actorAffiliation is "owner" or "admin",
                "member" => actorAffiliation is "owner" or "admin" || (actor is not null && room.GetMemberList.Contains(actor.Role))
                            || (room.MembersOnly && room.WhoIs == "anyone" && (actor is not null || actorAffiliation == "member")),
                _ => false,
            };
            if (!mayRead)
            {
                await ErrorAsync(iq, list is null or "owner" or "admin" or "outcast" or "member" ? StanzaError.Forbidden("You may not see that list") : StanzaError.BadRequest("No such list"), ct).ConfigureAwait(false);
                return;
            }
            var result = new Element("query", Admin);
            foreach (var (account, affiliation) in room.Affiliations)
                if (affiliation == list) result.Add(new Element("item", Admin).SetAttribute("affiliation", affiliation).SetAttribute("jid", account.ToString()));
            await ResultAsync(iq, result, ct).ConfigureAwait(false);
            return;
        }
        // Every item is checked before any takes effect: a list edit of several items (§8.5, §9.2, §9.5, §10.5, §10.8)
        // is applied whole or not at all.
        var changes = new List<AdminChange>();
        var after = new Dictionary<Jid, string>(room.Affiliations);
        foreach (var item in query.Children)
        {
            if (item.LocalName != "item") continue;
            var checkedItem = CheckAdminItem(room, item, actor, actorAffiliation, from);
            if (checkedItem.Error is { } error)
            {
                await ErrorAsync(iq, error, ct).ConfigureAwait(false);
                return;
            }
            var change = checkedItem.Change!;
            changes.Add(change);
            if (change.Affiliation is "none") after.Remove(change.Account);
            else if (change.Affiliation is { } a) after[change.Account] = a;
        }
        // §10.4 and §10.7: a room keeps at least one owner.
        if (!after.ContainsValue("owner"))
        {
            await ErrorAsync(iq, StanzaError.Conflict("A room keeps at least one owner"), ct).ConfigureAwait(false);
            return;
        }
        foreach (var change in changes)
        {
            var reason = change.Item.ChildText("reason", Admin);
            if (change.Role is { } role)
            {
                if (!room.Occupants.TryGetValue(change.Occupant!.Nick, out var target) || target != change.Occupant) continue;    // removed by an earlier item
                if (role == "none") await RemoveAsync(room, target, 307, reason, ct).ConfigureAwait(false);
                else
                {
                    target.Role = role;
                    await BroadcastPresenceAsync(room, target, [], ct).ConfigureAwait(false);
                }
                continue;
            }
            var affiliation = change.Affiliation!;
            if (affiliation == "none") room.Affiliations.Remove(change.Account);
            else room.Affiliations[change.Account] = affiliation;
            // §9.1: an outcast's reserved nick is released.
            if (affiliation == "outcast") room.ReservedNicks.Remove(change.Account);
            if (room.ByAccount(change.Account) is { } occupant)
            {
                if (affiliation == "outcast") await RemoveAsync(room, occupant, 301, reason, ct).ConfigureAwait(false);
                else if (affiliation == "none" && room.MembersOnly) await RemoveAsync(room, occupant, 321, reason, ct).ConfigureAwait(false);
                else
                {
                    occupant.Role = room.DefaultRole(affiliation);
                    await BroadcastPresenceAsync(room, occupant, [], ct).ConfigureAwait(false);
                }
            }
            else
            {
                // §18.1 item 2: a user who is not in the room hears of the change by a message with status 101.
                var item = new Element("item", User).SetAttribute("jid", change.Account.ToString()).SetAttribute("affiliation", affiliation);
                if (reason is not null) item.Add(new Element("reason", User).AddText(reason));
                await SendAsync(new Element("message", Ns.Client).SetAttribute("from", room.Jid.ToString()).SetAttribute("to", change.Account.ToString())
                    .SetAttribute("id", Guid.NewGuid().ToString("N"))
                    .Add(new Element("body", Ns.Client).AddText($"Your affiliation with {room.Jid} is now {affiliation}."))
                    .Add(new Element("x", User).Add(item).Add(new Element("status", User).SetAttribute("code", "101"))), ct).ConfigureAwait(false);
            }
        }
        await SaveAsync(room, ct).ConfigureAwait(false);
        await ResultAsync(iq, null, ct).ConfigureAwait(false);
    }

    private sealed record AdminChange(Element Item, MucOccupant? Occupant, Jid Account, string? Role, string? Affiliation);

    // One item of a muc#admin set: the change it asks for, or why it is refused.
    private static (AdminChange? Change, StanzaError? Error) CheckAdminItem(MucRoom room, Element item, MucOccupant? actor, string actorAffiliation, Jid from)
    {
        var role = item.GetAttribute("role");
        var affiliation = item.GetAttribute("affiliation");
        // §17.4: an item changes a role or an affiliation, never both.
        if ((role is null) == (affiliation is null)) return (null, StanzaError.BadRequest("An item changes either a role or an affiliation"));
        if (role is not null)
        {
            // §8: only moderators change roles (by nick).
            if (actor?.Role != "moderator") return (null, StanzaError.Forbidden("Only moderators change roles"));
            if (role is not ("none" or "visitor" or "participant" or "moderator")) return (null, StanzaError.BadRequest("No such role"));
            if (item.GetAttribute("nick") is not { } nick || !room.Occupants.TryGetValue(nick, out var target))
                return (null, StanzaError.ItemNotFound("No such occupant"));
            var targetAffiliation = room.Affiliation(target.Account);
            // §9.6 and §9.7: granting and revoking moderator status is for admins.
            if ((role == "moderator" || (target.Role == "moderator" && role != "none")) && actorAffiliation is not ("owner" or "admin"))
                return (null, StanzaError.Forbidden("Only admins grant or revoke moderator status"));
            // §8.2: nobody kicks a higher affiliation; §8.4 and §9.7: admins and owners keep voice and moderator status,
            // and no one revokes voice from an equal or higher affiliation.
            var refused = role switch
            {
                "none" => Rank(targetAffiliation) > Rank(actorAffiliation),
                "visitor" => targetAffiliation is "owner" or "admin" || (Rank(targetAffiliation) >= Rank(actorAffiliation) && target != actor),
                "participant" => targetAffiliation is "owner" or "admin",
                _ => false,
            };
            if (refused) return (null, StanzaError.NotAllowed("You may not change that occupant's role"));
            return (new AdminChange(item, target, target.Account, role, null), null);
        }
        // §9 and §10: affiliations by bare JID (a nick names an occupant's account).
        Jid account;
        if (Jid.TryParse(item.GetAttribute("jid"), out var jid)) account = jid.Bare;
        else if (item.GetAttribute("nick") is { } byNick && room.Occupants.TryGetValue(byNick, out var named)) account = named.Account;
        else return (null, StanzaError.BadRequest("An affiliation is changed by JID"));
        if (affiliation is not ("owner" or "admin" or "member" or "none" or "outcast")) return (null, StanzaError.BadRequest("No such affiliation"));
        if (actorAffiliation is not ("owner" or "admin")) return (null, StanzaError.Forbidden("Only admins and owners change affiliations"));
        // §9.1: banning oneself is a conflict.
        if (affiliation == "outcast" && account == from.Bare) return (null, StanzaError.Conflict("You may not ban yourself"));
        var current = room.Affiliation(account);
        if (actorAffiliation != "owner")
        {
            // §10.3 to §10.8: only owners edit the owner and admin lists; §9.1: an admin cannot ban an owner or admin.
            if (affiliation is "owner" or "admin") return (null, StanzaError.Forbidden("Only owners grant owner or admin status"));
            if (current is "owner" or "admin")
                return (null, affiliation == "outcast" ? StanzaError.NotAllowed("You may not ban someone of a higher affiliation") : StanzaError.Forbidden("Only owners revoke owner or admin status"));
        }
        return (new AdminChange(item, null, account, null, affiliation), null);
    }

    private static int Rank(string affiliation) => affiliation switch { "owner" => 3, "admin" => 2, "member" => 1, _ => 0 };

    // §10: the configuration form, instant rooms, destruction.
    private async Task OwnerAsync(MucRoom room, Stanza iq, Element query, Jid from, CancellationToken ct)
    {
        if (room.Affiliation(from) != "owner")
        {
            await ErrorAsync(iq, StanzaError.Forbidden("Only owners configure the room"), ct).ConfigureAwait(false);
            return;
        }
        if (iq.IqType == IqType.Get)
        {
            await ResultAsync(iq, new Element("query", Owner).Add(ConfigForm(room)), ct).ConfigureAwait(false);
            return;
        }
        if (query.Child("destroy", Owner) is { } destroy)
        {
            await DestroyAsync(room, destroy.GetAttribute("jid"), destroy.ChildText("reason", Owner), ct).ConfigureAwait(false);
            await ResultAsync(iq, null, ct).ConfigureAwait(false);
            return;
        }
        var form = query.Child("x", Ns.DataForms);
        if (form is null)
        {
            await ErrorAsync(iq, StanzaError.BadRequest("Submit or cancel the configuration form"), ct).ConfigureAwait(false);
            return;
        }
        if (form.GetAttribute("type") == "cancel")
        {
            // §10.1.3: cancelling the configuration of a new room destroys it, and its owner hears it left (§10.9).
            if (room.Locked)
            {
                await ResultAsync(iq, null, ct).ConfigureAwait(false);
                await DestroyAsync(room, null, null, ct).ConfigureAwait(false);
                return;
            }
            await ResultAsync(iq, null, ct).ConfigureAwait(false);
            return;
        }
        // §10.2: an unacceptable form changes nothing: it is tried on a copy first.
        if ((Configure(MucRoom.FromElement(room.Jid, room.ToElement()), form) ?? Configure(room, form)) is { } why)
        {
            await ErrorAsync(iq, StanzaError.NotAcceptable(why), ct).ConfigureAwait(false);
            return;
        }
        var wasLocked = room.Locked;
        room.Locked = false;
        // §10.2.1: occupants hear that the configuration changed (104).
        if (!wasLocked)
            foreach (var occupant in room.Occupants.Values)
                foreach (var session in occupant.Sessions)
                    await SendAsync(new Element("message", Ns.Client).SetAttribute("from", room.Jid.ToString()).SetAttribute("to", session.ToString())
                        .SetAttribute("type", "groupchat").Add(new Element("x", User).Add(Status(104))), ct).ConfigureAwait(false);
        // §10.2: a room that becomes members-only removes those who are not members (status 322).
        if (room.MembersOnly)
            foreach (var occupant in room.Occupants.Values.ToArray())
                if (room.Affiliation(occupant.Account) == "none") await RemoveAsync(room, occupant, 322, null, ct).ConfigureAwait(false);
        if (room.Persistent) await SaveAsync(room, ct).ConfigureAwait(false);
        else await _stored.SetAsync(_service, room.Jid.Local!, null, ct).ConfigureAwait(false);
        await ResultAsync(iq, null, ct).ConfigureAwait(false);
    }

    // §10.9: every occupant leaves with a <destroy/> (and the alternate venue and reason, if given); the room, its
    // stored state and its archive are gone.
    private async Task DestroyAsync(MucRoom room, string? venue, string? reason, CancellationToken ct)
    {
        foreach (var occupant in room.Occupants.Values)
            foreach (var session in occupant.Sessions)
            {
                var p = Presence(room, occupant, session, [], "unavailable");
                var d = new Element("destroy", User);
                if (venue is not null) d.SetAttribute("jid", venue);
                if (reason is not null) d.Add(new Element("reason", User).AddText(reason));
                p.Child("x", User)!.Add(d);
                await SendAsync(p, ct).ConfigureAwait(false);
            }
        _rooms.Remove(room.Jid);
        await _stored.SetAsync(_service, room.Jid.Local!, null, ct).ConfigureAwait(false);
        await storage.Archive.DeleteAllAsync(room.Jid, ct).ConfigureAwait(false);
    }

    private static Element ConfigForm(MucRoom room) =>
        DataForm.Create("form", "Room configuration", Muc + "#roomconfig",
            DataForm.Field("muc#roomconfig_roomname", "text-single", "Name", false, room.Name),
            DataForm.Field("muc#roomconfig_roomdesc", "text-single", "Description", false, room.Description),
            DataForm.Field("muc#roomconfig_persistentroom", "boolean", "Persistent", false, room.Persistent ? "1" : "0"),
            DataForm.Field("muc#roomconfig_publicroom", "boolean", "Listed", false, room.Public ? "1" : "0"),
            DataForm.Field("muc#roomconfig_membersonly", "boolean", "Members only", false, room.MembersOnly ? "1" : "0"),
            DataForm.Field("muc#roomconfig_moderatedroom", "boolean", "Moderated", false, room.Moderated ? "1" : "0"),
            DataForm.Field("muc#roomconfig_passwordprotectedroom", "boolean", "Password protected", false, room.Password is null ? "0" : "1"),
            DataForm.Field("muc#roomconfig_roomsecret", "text-private", "Password", false, room.Password ?? ""),
            DataForm.Field("muc#roomconfig_whois", "list-single", "Who sees real JIDs", false, room.WhoIs),
            DataForm.Field("muc#roomconfig_maxusers", "list-single", "Most occupants", false, room.MaxUsers.ToString(CultureInfo.InvariantCulture)),
            DataForm.Field("muc#roomconfig_changesubject", "boolean", "Participants change the subject", false, room.ChangeSubject ? "1" : "0"),
            DataForm.Field("muc#roomconfig_allowpm", "list-single", "Who may send private messages", false, room.AllowPm),
            DataForm.Field("muc#roomconfig_enablelogging", "boolean", "Keep an archive (MAM)", false, room.Logging ? "1" : "0"),
            DataForm.Field("muc#roomconfig_lang", "text-single", "Language", false, room.Language),
            DataForm.Field("muc#roomconfig_allowinvites", "boolean", "Participants may invite", false, room.AllowInvites ? "1" : "0"),
            DataForm.Field("muc#roomconfig_allowvoicerequests", "boolean", "Visitors may ask for voice", false, room.AllowVoiceRequests ? "1" : "0"),
            DataForm.Field("muc#roomconfig_allow_query_users", "boolean", "Occupants may query each other", false, room.AllowQueryUsers ? "1" : "0"),
            DataForm.Field("muc#roomconfig_pubsub", "text-single", "Associated pubsub node", false, room.PubSubNode),
            DataForm.Field("muc#roomconfig_public_list", "boolean", "The occupant list is public", false, room.PublicList ? "1" : "0"),
            DataForm.Field("muc#roomconfig_members_by_default", "boolean", "Newcomers have voice in a moderated room", false, room.MembersByDefault ? "1" : "0"),
            DataForm.Field("muc#roomconfig_allow_private_messages_from_visitors", "list-single", "Visitors may send private messages to", false, room.VisitorPm),
            DataForm.Field("muc#roomconfig_allowvisitorstatus", "boolean", "Visitors' status text is shown", false, room.VisitorStatus ? "1" : "0"),
            DataForm.Field("muc#roomconfig_allowvisitornickchange", "boolean", "Visitors may change their nickname", false, room.VisitorNickChange ? "1" : "0"),
            DataForm.Field("muc#roomconfig_voicerequestmininterval", "text-single", "Seconds between voice requests", false, room.VoiceRequestInterval.ToString(CultureInfo.InvariantCulture)),
            DataForm.Field("muc#roomconfig_presencebroadcast", "list-multi", "Roles whose presence is broadcast", false, [.. room.PresenceBroadcast]),
            DataForm.Field("muc#roomconfig_getmemberlist", "list-multi", "Roles that may see the member list", false, [.. room.GetMemberList]),
            DataForm.Field("muc#roomconfig_historylength", "text-single", "Messages kept for history", false, room.HistoryLength.ToString(CultureInfo.InvariantCulture)),
            DataForm.Field("muc#roomconfig_defaulthistorymessages", "text-single", "Messages sent on entry by default", false, room.DefaultHistoryMessages.ToString(CultureInfo.InvariantCulture)),
            DataForm.Field("muc#roomconfig_roomowners", "jid-multi", "Owners", false, [.. Listed(room, "owner")]),
            DataForm.Field("muc#roomconfig_roomadmins", "jid-multi", "Admins", false, [.. Listed(room, "admin")]));

    private static List<string> Listed(MucRoom room, string affiliation)
    {
        var list = new List<string>();
        foreach (var (jid, a) in room.Affiliations)
            if (a == affiliation) list.Add(jid.ToString());
        return list;
    }

    // Returns why the form is not acceptable, or null after applying it.
    private string? Configure(MucRoom room, Element form)
    {
        var values = DataForm.FirstValues(form);
        var protect = room.Password is not null;
        string? secret = room.Password;
        foreach (var (field, value) in values)
        {
            var flag = value is "1" or "true";
            switch (field)
            {
                case "FORM_TYPE": break;
                case "muc#roomconfig_roomname": room.Name = value; break;
                case "muc#roomconfig_roomdesc": room.Description = value; break;
                case "muc#roomconfig_persistentroom": room.Persistent = flag; break;
                case "muc#roomconfig_publicroom": room.Public = flag; break;
                case "muc#roomconfig_membersonly": room.MembersOnly = flag; break;
                case "muc#roomconfig_moderatedroom": room.Moderated = flag; break;
                case "muc#roomconfig_passwordprotectedroom": protect = flag; break;
                case "muc#roomconfig_roomsecret": secret = value; break;
                case "muc#roomconfig_changesubject": room.ChangeSubject = flag; break;
                case "muc#roomconfig_enablelogging": room.Logging = flag; break;
                case "muc#roomconfig_lang": room.Language = value; break;
                case "muc#roomconfig_allowinvites": room.AllowInvites = flag; break;
                case "muc#roomconfig_allowvoicerequests": room.AllowVoiceRequests = flag; break;
                case "muc#roomconfig_allow_query_users": room.AllowQueryUsers = flag; break;
                case "muc#roomconfig_pubsub": room.PubSubNode = value; break;
                case "muc#roomconfig_public_list": room.PublicList = flag; break;
                case "muc#roomconfig_members_by_default": room.MembersByDefault = flag; break;
                case "muc#roomconfig_allowvisitorstatus": room.VisitorStatus = flag; break;
                case "muc#roomconfig_allowvisitornickchange": room.VisitorNickChange = flag; break;
                // Prosody's and ejabberd's names for the same switches.
                case "muc#roomconfig_enablearchiving" or "muc#roomconfig_mam": room.Logging = flag; break;
                case "muc#roomconfig_allowmemberinvites": room.AllowInvites = flag; break;
                case "muc#roomconfig_allow_private_messages_from_visitors":
                    if (value is not ("anyone" or "moderators" or "nobody")) return field + " takes anyone, moderators or nobody";
                    room.VisitorPm = value;
                    break;
                case "muc#roomconfig_voicerequestmininterval":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var interval) || interval > 86400) return field + " must be seconds from 0 to 86400";
                    room.VoiceRequestInterval = interval;
                    break;
                case "muc#roomconfig_captcha_protected":
                    if (flag) return "CAPTCHA protection is not available on this service";
                    break;
                case "muc#roomconfig_historylength" or "muc#roomconfig_defaulthistorymessages":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 1000) return field + " must be a number from 0 to 1000";
                    if (field == "muc#roomconfig_historylength") room.HistoryLength = n;
                    else room.DefaultHistoryMessages = n;
                    break;
                case "muc#roomconfig_presencebroadcast" or "muc#roomconfig_getmemberlist":
                {
                    var roles = new HashSet<string>(DataForm.Values(form, field), StringComparer.Ordinal);
                    foreach (var r in roles)
                        if (r is not ("moderator" or "participant" or "visitor")) return field + " takes moderator, participant and visitor";
                    if (field == "muc#roomconfig_presencebroadcast") room.PresenceBroadcast = roles;
                    else room.GetMemberList = roles;
                    break;
                }
                case "muc#roomconfig_roomowners" or "muc#roomconfig_roomadmins":
                {
                    var affiliation = field == "muc#roomconfig_roomowners" ? "owner" : "admin";
                    var jids = new List<Jid>();
                    foreach (var text in DataForm.Values(form, field))
                    {
                        if (!Jid.TryParse(text, out var jid)) return field + ": '" + text + "' is not a JID";
                        jids.Add(jid.Bare);
                    }
                    if (affiliation == "owner" && jids.Count == 0) return "A room needs an owner";
                    foreach (var (jid, a) in room.Affiliations.ToArray())
                        if (a == affiliation && !jids.Contains(jid)) room.Affiliations.Remove(jid);
                    foreach (var jid in jids) room.Affiliations[jid] = affiliation;
                    break;
                }
                case "muc#roomconfig_whois":
                    if (value is not ("moderators" or "anyone")) return "whois must be moderators or anyone";
                    room.WhoIs = value;
                    break;
                case "muc#roomconfig_maxusers":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max < 1 || max > _limits.MaxOccupantsPerRoom)
                        return $"maxusers must be between 1 and {_limits.MaxOccupantsPerRoom}";
                    room.MaxUsers = max;
                    break;
                case "muc#roomconfig_allowpm":
                    if (value is not ("anyone" or "participants" or "moderators" or "none")) return "allowpm must be anyone, participants, moderators or none";
                    room.AllowPm = value;
                    break;
            }
        }
        if (protect && string.IsNullOrEmpty(secret)) return "A password-protected room needs a password";
        room.Password = protect ? secret : null;
        return null;
    }

    // ---- sending ----

    // An occupant leaves because a moderator or admin removed it (307 kicked, 301 banned, 321 no longer a member).
    private async Task RemoveAsync(MucRoom room, MucOccupant target, int code, string? reason, CancellationToken ct)
    {
        room.Occupants.Remove(target.Nick);
        foreach (var session in target.Sessions)
        {
            var p = Presence(room, target, session, [110, code], "unavailable");
            if (reason is not null) p.Child("x", User)!.Child("item", User)!.Add(new Element("reason", User).AddText(reason));
            target.Role = "none";
            await SendAsync(p, ct).ConfigureAwait(false);
        }
        foreach (var other in room.Occupants.Values)
            foreach (var session in other.Sessions)
                await SendAsync(Presence(room, target, session, [code], "unavailable"), ct).ConfigureAwait(false);
    }

    private async Task BroadcastPresenceAsync(MucRoom room, MucOccupant occupant, int[] codes, CancellationToken ct, bool toSelf = true)
    {
        // muc#roomconfig_presencebroadcast: others hear only of the roles the room broadcasts.
        var broadcast = room.PresenceBroadcast.Contains(occupant.Role);
        foreach (var other in room.Occupants.Values)
        {
            if (other == occupant ? !toSelf : !broadcast) continue;
            foreach (var session in other.Sessions)
                await SendAsync(Presence(room, occupant, session, other == occupant ? [110, .. codes] : codes), ct).ConfigureAwait(false);
        }
    }

    private async Task SendPresenceToAsync(MucRoom room, MucOccupant occupant, Jid session, IEnumerable<int> codes, CancellationToken ct) =>
        await SendAsync(Presence(room, occupant, session, codes), ct).ConfigureAwait(false);

    // §7.2.3: the occupant's presence as one recipient sees it; the real JID only for moderators or in non-anonymous rooms.
    private static Element Presence(MucRoom room, MucOccupant occupant, Jid to, IEnumerable<int> codes, string? type = null)
    {
        var presence = type is null ? occupant.Presence.Clone() : new Element("presence", Ns.Client).SetAttribute("type", type);
        presence.SetAttribute("from", room.Jid.WithResource(occupant.Nick).ToString()).SetAttribute("to", to.ToString());
        var viewer = room.BySession(to);
        var item = new Element("item", User).SetAttribute("affiliation", room.Affiliation(occupant.Account)).SetAttribute("role", type == "unavailable" ? "none" : occupant.Role);
        if (room.WhoIs == "anyone" || viewer?.Role == "moderator" || viewer == occupant)
            item.SetAttribute("jid", occupant.Sessions.Count > 0 ? First(occupant.Sessions).ToString() : occupant.Account.ToString());
        var x = new Element("x", User).Add(item);
        foreach (var code in codes) x.Add(Status(code));
        presence.RemoveAll(new QName(OccupantIdNs, "occupant-id"));
        return presence.Add(x).Add(new Element("occupant-id", OccupantIdNs).SetAttribute("id", room.OccupantId(occupant.Account)));
    }

    // The nick as the client wrote it: the JID parser already mapped non-ASCII spaces and normalized it (OpaqueString),
    // and status 210 tells the client of any change to what it asked for.
    private static string? AskedNick(Element stanza) =>
        stanza.GetAttribute("to") is { } to && to.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? to[(slash + 1)..] : null;

    private static Element Status(int code) => new Element("status", User).SetAttribute("code", code.ToString(CultureInfo.InvariantCulture));

    private static Jid First(HashSet<Jid> sessions)
    {
        foreach (var s in sessions) return s;
        return default;
    }

    // The occupant's own presence without what the room adds or what only the entry needs.
    private static Element Strip(Element presence)
    {
        var copy = new Element("presence", Ns.Client);
        foreach (var child in presence.Children)
            if (child.Namespace is not (Muc or User)) copy.Add(child.Clone());
        return copy;
    }

    private async Task SendAsync(Element stanza, CancellationToken ct) =>
        await Router.RouteAsync(Stanza.Create(stanza), _origin ??= new RoomOrigin(this), ct).ConfigureAwait(false);

    private Task ResultAsync(Stanza iq, Element? payload, CancellationToken ct)
    {
        var result = new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", iq.Id)
            .SetAttribute("from", iq.To?.ToString()).SetAttribute("to", iq.From?.ToString());
        if (payload is not null) result.Add(payload);
        return SendAsync(result, ct);
    }

    // RFC 6120 §8.3.2 and XEP-0045's examples (e.g. 29-31): the room says it generated the error ('by'); the reply to a
    // presence or message echoes its payload, such as <x xmlns='…muc'/>.
    private Task ErrorAsync(Stanza stanza, StanzaError error, CancellationToken ct) =>
        stanza.Type == "error" ? Task.CompletedTask
            : SendAsync(stanza.CreateErrorReply(error.By is null && stanza.To is { } to ? error with { By = to.Bare.ToString() } : error), ct);

    private async Task SaveAsync(MucRoom room, CancellationToken ct)
    {
        if (room.Persistent) await _stored.SetAsync(_service, room.Jid.Local!, room.ToElement(), ct).ConfigureAwait(false);
    }

    // Persistent rooms come back after a restart (loaded on first use of the service).
    private async Task LoadAsync(CancellationToken ct)
    {
        if (_loaded) return;
        _loaded = true;
        foreach (var (local, element) in await _stored.GetAllAsync(_service, ct).ConfigureAwait(false))
            if (Jid.TryCreate(local, _service.Domain, null, out var jid)) _rooms[jid] = MucRoom.FromElement(jid, element);
    }

    private RoomOrigin? _origin;

    // What comes back for what the room sent — answers the server gives on an account's behalf (a relayed vCard
    // request) and errors — is handled like any stanza to the room, after the current one.
    private sealed class RoomOrigin(MucModule module) : ISession
    {
        public Jid Jid => module._service;

        public bool TryDeliver(Element stanza)
        {
            if (Stanza.TryCreate(stanza, out var s, out _) && s.To is { } to && to.Domain == module._service.Domain)
                _ = module.HandleAsync(s, this, CancellationToken.None).AsTask();
            return true;
        }
    }
}
