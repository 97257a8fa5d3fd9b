using System.Collections.Concurrent;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>
/// The XEP-0045 rooms one connection is in, followed by the CLI itself: Parley.Client's <c>Muc.JoinAsync</c> clears
/// its wait before awaiting it, so a self-presence that arrives quickly makes it throw NullReferenceException and
/// forget the room. Until the library is fixed, the CLI enters and leaves rooms here and follows their occupants from
/// the presence it sees; configuration and destruction (plain IQs) still go through <c>Muc</c>.
/// </summary>
internal sealed class MucRooms
{
    private static readonly TimeSpan EnterTimeout = TimeSpan.FromSeconds(30);
    private readonly XmppClient _client;
    private readonly ConcurrentDictionary<Jid, Room> _rooms = new();

    private sealed class Room(string nick)
    {
        public readonly ConcurrentDictionary<string, string> Occupants = new(StringComparer.Ordinal);   // nick -> role
        public readonly TaskCompletionSource<RoomEntered> Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile string Nick = nick;
    }

    public MucRooms(XmppClient client)
    {
        _client = client;
        // StanzaReceived runs on the reading loop before any other handling, so nothing is missed.
        client.StanzaReceived += (_, stanza) => Observe(stanza);
    }

    /// <summary>Raised when the room ends our presence in it (kick, ban, destruction: §8, §9, §10.9).</summary>
    public event EventHandler<Jid>? Removed;

    /// <summary>Our nick in a room we are in, or null.</summary>
    public string? NickIn(Jid room) => _rooms.TryGetValue(room.Bare, out var state) && state.Entered.Task.IsCompletedSuccessfully ? state.Nick : null;

    /// <summary>The occupants of a room we are in, as nick and role.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Occupants(Jid room) =>
        _rooms.TryGetValue(room.Bare, out var state) ? [.. state.Occupants] : [];

    /// <summary>
    /// §7.2: enters a room and waits for the self-presence (status 110). A refusal throws <see cref="XmppErrorException"/>
    /// with the room's error; no answer within 30 s throws <see cref="TimeoutException"/>.
    /// </summary>
    public async Task<RoomEntered> EnterAsync(Jid room, string nick, int? maxHistoryStanzas, CancellationToken ct)
    {
        room = room.Bare;
        var state = new Room(nick);
        _rooms[room] = state;
        var x = new Element("x", Ns.Muc);
        if (maxHistoryStanzas is { } max)
            x.Add(new Element("history", Ns.Muc).SetAttribute("maxstanzas", max.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        try
        {
            await _client.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", room.WithResource(nick).ToString()).Add(x), ct).ConfigureAwait(false);
            return await state.Entered.Task.WaitAsync(EnterTimeout, ct).ConfigureAwait(false);
        }
        catch
        {
            _rooms.TryRemove(new KeyValuePair<Jid, Room>(room, state));
            throw;
        }
    }

    /// <summary>§7.14: leaves a room.</summary>
    public async Task LeaveAsync(Jid room, CancellationToken ct)
    {
        if (!_rooms.TryRemove(room.Bare, out var state)) return;
        await _client.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", room.Bare.WithResource(state.Nick).ToString())
            .SetAttribute("type", "unavailable"), ct).ConfigureAwait(false);
    }

    private void Observe(Element stanza)
    {
        if (stanza.LocalName != "presence" || !Jid.TryParse(stanza.GetAttribute("from"), out var from) || from.Resource is not { } nick
            || !_rooms.TryGetValue(from.Bare, out var state)) return;
        var type = stanza.GetAttribute("type");
        if (type == "error")
        {
            // §7.2.17: the refusal comes from the occupant JID we asked for.
            if (!state.Entered.Task.IsCompleted && stanza.Child("error", Ns.Client) is { } error
                && _rooms.TryRemove(new KeyValuePair<Jid, Room>(from.Bare, state)))
                state.Entered.TrySetException(new XmppErrorException(StanzaError.Parse(error)));
            return;
        }
        var x = stanza.Child("x", Ns.MucUser);
        var codes = new HashSet<int>();
        if (x is not null)
            foreach (var status in x.Children)
                if (status.LocalName == "status" && int.TryParse(status.GetAttribute("code"), System.Globalization.CultureInfo.InvariantCulture, out var code)) codes.Add(code);
        var item = x?.Child("item", Ns.MucUser);
        var self = codes.Contains(110);
        if (type == "unavailable")
        {
            state.Occupants.TryRemove(nick, out _);
            // §7.6: 303 announces our new nick; any other unavailable self-presence ends our stay.
            if (self && codes.Contains(303) && item?.GetAttribute("nick") is { } newNick) state.Nick = newNick;
            else if (self && _rooms.TryRemove(new KeyValuePair<Jid, Room>(from.Bare, state))) Removed?.Invoke(this, from.Bare);
            return;
        }
        if (type is not null) return;
        state.Occupants[nick] = item?.GetAttribute("role") ?? "none";
        if (self)
        {
            state.Nick = nick;
            state.Entered.TrySetResult(new RoomEntered(nick, codes.Contains(201)));
        }
    }
}

/// <summary>The outcome of entering a room: the nick the room gave (§7.2.9 may change it) and whether entering created it (201).</summary>
internal sealed record RoomEntered(string Nick, bool Created);
