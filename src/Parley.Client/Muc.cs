using System.Collections.Concurrent;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>Multi-user chat (XEP-0045): entering and leaving rooms, messages, configuration, affiliations and roles.</summary>
public sealed class Muc
{
    private readonly XmppClient _client;
    private readonly ConcurrentDictionary<Jid, RoomState> _rooms = new();

    private sealed class RoomState
    {
        public readonly ConcurrentDictionary<string, MucOccupant> Occupants = new(StringComparer.Ordinal);
        public TaskCompletionSource<MucJoin>? Joining;
        public string Nick = "";
        public string? Subject;
        public string? Password;
        public DateTimeOffset LastSeen = DateTimeOffset.UtcNow;
    }

    internal Muc(XmppClient client) => _client = client;

    /// <summary>Raised for each groupchat message from a joined room (history included, with its delay).</summary>
    public event EventHandler<ChatMessage>? MessageReceived;

    /// <summary>Raised when a room ends this client's presence in it: kicked, banned, removed as a non-member, or the
    /// room destroyed (§8.2, §9.1, §9.4, §10.9). Leaving with <see cref="LeaveAsync"/> does not raise it.</summary>
    public event EventHandler<Jid>? Removed;

    /// <summary>This client's nick in a room it is in (after entering completed), or null.</summary>
    public string? NickIn(Jid room) => _rooms.TryGetValue(room.Bare, out var state) && state.Joining is null ? state.Nick : null;

    /// <summary>The rooms this client is in.</summary>
    public IReadOnlyCollection<Jid> Rooms => (IReadOnlyCollection<Jid>)_rooms.Keys;

    /// <summary>
    /// Enters a room (§7.2.1) and waits for the self-presence (status 110). A refusal throws
    /// <see cref="XmppErrorException"/> with the room's error (§7.2.17: not-authorized, registration-required,
    /// forbidden, conflict, service-unavailable, item-not-found, not-allowed).
    /// </summary>
    public async Task<MucJoin> JoinAsync(Jid room, string nick, string? password = null, int? maxHistoryStanzas = null, CancellationToken ct = default)
    {
        // Kept here: the self-presence may arrive (and clear state.Joining) before SendAsync returns.
        var joining = new TaskCompletionSource<MucJoin>(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = new RoomState { Nick = nick, Password = password, Joining = joining };
        _rooms[room.Bare] = state;
        var x = new Element("x", Ns.Muc);
        if (maxHistoryStanzas is { } max)
            x.Add(new Element("history", Ns.Muc).SetAttribute("maxstanzas", max.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (password is not null) x.Add(new Element("password", Ns.Muc).AddText(password));
        await _client.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", Jid.Create(room.Local, room.Domain, nick).ToString()).Add(x), ct).ConfigureAwait(false);
        try
        {
            return await joining.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        }
        catch
        {
            _rooms.TryRemove(new KeyValuePair<Jid, RoomState>(room.Bare, state));
            throw;
        }
    }

    /// <summary>Leaves a room (§7.14).</summary>
    public async Task LeaveAsync(Jid room, string? status = null, CancellationToken ct = default)
    {
        if (!_rooms.TryRemove(room.Bare, out var state)) return;
        var presence = new Element("presence", Ns.Client).SetAttribute("to", Jid.Create(room.Local, room.Domain, state.Nick).ToString()).SetAttribute("type", "unavailable");
        if (status is not null) presence.Add(new Element("status", Ns.Client).AddText(status));
        await _client.SendAsync(presence, ct).ConfigureAwait(false);
    }

    /// <summary>Sends a message to all occupants (§7.4); returns its id.</summary>
    public Task<string> SendAsync(Jid room, string body, CancellationToken ct = default) => _client.SendMessageAsync(room.Bare, body, "groupchat", false, ct);

    /// <summary>Sends a private message to an occupant (§7.5).</summary>
    public Task<string> SendPrivateAsync(Jid room, string nick, string body, CancellationToken ct = default) =>
        _client.SendMessageAsync(Jid.Create(room.Local, room.Domain, nick), body, "chat", false, ct);

    /// <summary>Changes the room subject (§8.1).</summary>
    public Task SetSubjectAsync(Jid room, string subject, CancellationToken ct = default) =>
        _client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", room.Bare.ToString()).SetAttribute("type", "groupchat")
            .Add(new Element("subject", Ns.Client).AddText(subject)), ct);

    /// <summary>The occupants of a joined room, as their presence announced them.</summary>
    public IReadOnlyCollection<MucOccupant> Occupants(Jid room) =>
        _rooms.TryGetValue(room.Bare, out var state) ? (IReadOnlyCollection<MucOccupant>)state.Occupants.Values : [];

    /// <summary>The current subject of a joined room, if any.</summary>
    public string? Subject(Jid room) => _rooms.TryGetValue(room.Bare, out var state) ? state.Subject : null;

    /// <summary>The room's configuration form (§10.2).</summary>
    public async Task<Element> GetConfigurationAsync(Jid room, CancellationToken ct = default)
    {
        var query = await _client.IqAsync(IqType.Get, room.Bare, new Element("query", Ns.MucOwner), ct).ConfigureAwait(false);
        return query?.Child("x", Ns.DataForms) ?? throw new XmppErrorException(StanzaError.UndefinedCondition("The room sent no form"));
    }

    /// <summary>
    /// Submits configuration fields (§10.1.3, §10.2); fields not given keep their values. An empty list accepts the
    /// defaults, which also unlocks a new room as an instant room (§10.1.2).
    /// </summary>
    public Task ConfigureAsync(Jid room, IEnumerable<KeyValuePair<string, string[]>> fields, CancellationToken ct = default)
    {
        var form = new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(Ns.Muc + "#roomconfig")));
        foreach (var (var, values) in fields)
        {
            var field = new Element("field", Ns.DataForms).SetAttribute("var", var);
            foreach (var v in values) field.Add(new Element("value", Ns.DataForms).AddText(v));
            form.Add(field);
        }
        return _client.IqAsync(IqType.Set, room.Bare, new Element("query", Ns.MucOwner).Add(form), ct);
    }

    /// <summary>Changes a user's affiliation (owner, admin, member, outcast, none) (§9, §10).</summary>
    public Task SetAffiliationAsync(Jid room, Jid user, string affiliation, string? reason = null, CancellationToken ct = default)
    {
        var item = new Element("item", Ns.MucAdmin).SetAttribute("jid", user.Bare.ToString()).SetAttribute("affiliation", affiliation);
        if (reason is not null) item.Add(new Element("reason", Ns.MucAdmin).AddText(reason));
        return _client.IqAsync(IqType.Set, room.Bare, new Element("query", Ns.MucAdmin).Add(item), ct);
    }

    /// <summary>Changes an occupant's role (moderator, participant, visitor, none = kick) (§8).</summary>
    public Task SetRoleAsync(Jid room, string nick, string role, string? reason = null, CancellationToken ct = default)
    {
        var item = new Element("item", Ns.MucAdmin).SetAttribute("nick", nick).SetAttribute("role", role);
        if (reason is not null) item.Add(new Element("reason", Ns.MucAdmin).AddText(reason));
        return _client.IqAsync(IqType.Set, room.Bare, new Element("query", Ns.MucAdmin).Add(item), ct);
    }

    /// <summary>The users with an affiliation (§9.5 member list, §9.2 ban list, §10.5 owners, §10.8 admins).</summary>
    public async Task<IReadOnlyList<Jid>> GetAffiliatedAsync(Jid room, string affiliation, CancellationToken ct = default)
    {
        var query = await _client.IqAsync(IqType.Get, room.Bare, new Element("query", Ns.MucAdmin)
            .Add(new Element("item", Ns.MucAdmin).SetAttribute("affiliation", affiliation)), ct).ConfigureAwait(false);
        var list = new List<Jid>();
        if (query is not null)
            foreach (var item in query.Children)
                if (Jid.TryParse(item.GetAttribute("jid"), out var jid)) list.Add(jid);
        return list;
    }

    /// <summary>Destroys the room (§10.9), optionally naming an alternate venue.</summary>
    public Task DestroyAsync(Jid room, string? reason = null, Jid? alternate = null, CancellationToken ct = default)
    {
        var destroy = new Element("destroy", Ns.MucOwner);
        if (alternate is { } venue) destroy.SetAttribute("jid", venue.ToString());
        if (reason is not null) destroy.Add(new Element("reason", Ns.MucOwner).AddText(reason));
        return _client.IqAsync(IqType.Set, room.Bare, new Element("query", Ns.MucOwner).Add(destroy), ct);
    }

    // After a new session (the old one could not be resumed): enter every room again, asking for the history since
    // the last thing heard there (§7.2.13), without waiting for the answers.
    internal async Task RejoinAsync(CancellationToken ct)
    {
        foreach (var (room, state) in _rooms)
        {
            var x = new Element("x", Ns.Muc).Add(new Element("history", Ns.Muc)
                .SetAttribute("since", state.LastSeen.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
            if (state.Password is not null) x.Add(new Element("password", Ns.Muc).AddText(state.Password));
            state.Occupants.Clear();
            await _client.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", Jid.Create(room.Local, room.Domain, state.Nick).ToString()).Add(x), ct).ConfigureAwait(false);
        }
    }

    internal void Observe(PresenceInfo presence)
    {
        if (presence.From is not { } from || from.Resource is not { } nick || !_rooms.TryGetValue(from.Bare, out var state)) return;
        if (presence.Type == "error")
        {
            if (state.Joining is { } joining && nick == state.Nick && presence.Element.Child("error", Ns.Client) is { } error)
            {
                _rooms.TryRemove(new KeyValuePair<Jid, RoomState>(from.Bare, state));
                joining.TrySetException(new XmppErrorException(StanzaError.Parse(error)));
            }
            return;
        }
        var x = presence.Element.Child("x", Ns.MucUser);
        var item = x?.Child("item", Ns.MucUser);
        var codes = new HashSet<int>();
        if (x is not null)
            foreach (var status in x.Children)
                if (status.LocalName == "status" && int.TryParse(status.GetAttribute("code"), System.Globalization.CultureInfo.InvariantCulture, out var code)) codes.Add(code);
        var occupant = new MucOccupant(nick, item?.GetAttribute("role") ?? "none", item?.GetAttribute("affiliation") ?? "none", JidText.Parse(item?.GetAttribute("jid")));
        if (presence.Type == "unavailable")
        {
            state.Occupants.TryRemove(nick, out _);
            // §7.6 (303: a nick change follows), §7.14 and the removals of §8 and §9: our own unavailable ends it.
            if (codes.Contains(110) && !codes.Contains(303))
            {
                if (_rooms.TryRemove(new KeyValuePair<Jid, RoomState>(from.Bare, state))) Removed?.Invoke(this, from.Bare);
            }
            else if (codes.Contains(110) && item?.GetAttribute("nick") is { } newNick) state.Nick = newNick;
            return;
        }
        state.Occupants[nick] = occupant;
        if (codes.Contains(110))
        {
            state.Nick = nick;
            state.Joining?.TrySetResult(new MucJoin(nick, codes, occupant));
            state.Joining = null;
        }
    }

    internal void Observe(ChatMessage message)
    {
        if (message.From is not { } from || !_rooms.TryGetValue(from.Bare, out var state)) return;
        if (message.Type == "groupchat")
        {
            if (message.Delay is null) state.LastSeen = DateTimeOffset.UtcNow;
            // §7.2.15: a message with a subject and no body sets the subject.
            if (message.Subject is not null && message.Body is null) state.Subject = message.Subject;
            MessageReceived?.Invoke(this, message);
        }
    }
}
