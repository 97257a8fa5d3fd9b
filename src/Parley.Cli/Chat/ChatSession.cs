using System.Collections.Concurrent;
using System.Globalization;
using Parley.Client;
using Parley.Client.Model;
using Parley.Protocol;
using Spectre.Console;

namespace Parley.Cli.Chat;

/// <summary>
/// One `parley chat` session: the connection and its state, the roster, one-to-one conversations with their
/// XEP-0313 history, and rooms (XEP-0045), driven by lines typed at the prompt.
/// </summary>
internal sealed class ChatSession(XmppClientOptions options, ChatTerminal terminal)
{
    private static readonly string[] Shows = ["online", "chat", "away", "xa", "dnd"];

    private static readonly (string Usage, string What)[] Commands =
    [
        ("/msg <jid> [text]", "open a conversation (with its archived history) and send"),
        ("/open <n|jid>", "open a conversation with contact n of /roster, or a room you are in"),
        ("<text>", "send to the open conversation"),
        ("/roster", "list the contacts with their presence"),
        ("/add <jid>", "add a contact and ask to see their presence"),
        ("/approve <jid>", "let a contact see your presence"),
        ("/join <room> [nick]", "enter a room (a name alone means on conference.<your domain>)"),
        ("/who", "list the occupants of the open room"),
        ("/leave [room]", "leave the open room, or the one named"),
        ("/presence <show> [status]", "show is one of " + string.Join(", ", Shows)),
        ("/reconnect", "connect again after the connection was lost"),
        ("/help", "this list"),
        ("/quit", "log out and leave (Ctrl+D too)"),
    ];

    private readonly ConcurrentDictionary<Jid, string> _rooms = new();   // rooms entered, with our nick: entered again on /reconnect
    private readonly HashSet<Jid> _historyShown = [];
    private readonly Lock _lock = new();
    private List<Jid> _listed = [];
    private XmppClient? _client;
    private Muc? _muc;
    private string _state = "connecting";
    private Jid? _current;
    private volatile bool _quitting;
    private string? _show;
    private string? _status;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        terminal.Line($"[bold]parley chat[/] for {Esc(options.Jid.Bare)}; type [bold]/help[/] for the commands");
        try
        {
            // A first connection that fails ends the command with its exit code (a wrong password, no server).
            await ConnectAsync(ct).ConfigureAwait(false);
            while (await terminal.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (!await HandleAsync(line.Trim(), ct).ConfigureAwait(false)) break;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C: leave as /quit does.
        }
        finally
        {
            _quitting = true;
            if (_client is not null) await _client.DisposeAsync().ConfigureAwait(false);
        }
        terminal.Line("[grey]logged out[/]");
        return 0;
    }

    private async Task ConnectAsync(CancellationToken ct)
    {
        SetState("connecting");
        terminal.Line($"[yellow]connecting[/] to {Esc(options.Host ?? options.Jid.Domain)}:{options.Port} as {Esc(options.Jid.Bare)}…");
        var client = await ClientAccount.ConnectAsync(options, ct).ConfigureAwait(false);
        var muc = client.Muc;
        muc.Removed += OnRemoved;
        client.MessageReceived += OnMessage;
        client.PresenceReceived += OnPresence;
        // XEP-0198: the library reconnects by itself while it can; the prompt says so.
        client.StateChanged += (_, state) =>
        {
            if (_quitting || client != _client) return;
            if (state == Parley.Client.Model.ConnectionState.Reconnecting)
            {
                SetState("reconnecting");
                terminal.Line("[yellow]connection lost[/]: reconnecting…");
            }
            else if (state == Parley.Client.Model.ConnectionState.Connected && _state == "reconnecting")
            {
                // The line first, then the prompt: whoever sees "[online]" finds the line above it.
                terminal.Line(client.Resumptions > 0 ? "[green]back online[/]: the session was resumed, nothing was lost" : "[green]back online[/] in a new session");
                SetState("online");
            }
        };
        _muc = muc;
        _client = client;
        _ = client.Closed.ContinueWith(_ => OnClosed(client), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        await client.Roster.LoadAsync(ct).ConfigureAwait(false);
        try
        {
            // XEP-0280: what this account says from other clients shows here too.
            await client.EnableCarbonsAsync(ct).ConfigureAwait(false);
        }
        catch (XmppErrorException)
        {
            // A server without carbons: only this client's side of the conversations shows.
        }
        await client.SendPresenceAsync(_show, _status, ct: ct).ConfigureAwait(false);
        // The line first, then the prompt: whoever sees "[online]" finds the line above it.
        terminal.Line($"[green]online[/] as {Esc(client.BoundJid)} ({client.TlsProtocol}); {client.Roster.Items.Count} contact(s): /roster lists them");
        SetState("online");
        foreach (var (room, nick) in _rooms)
        {
            try
            {
                await EnterAsync(client, muc, room, nick, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is XmppErrorException or TimeoutException)
            {
                _rooms.TryRemove(room, out _);
                terminal.Line($"[red]could not enter {Esc(room)} again:[/] {Esc(e.Message)}");
            }
        }
    }

    private void OnClosed(XmppClient client)
    {
        if (_quitting || client != _client) return;
        SetState("disconnected");
        var reason = client.RemoteStreamError is { } error
            ? $"the server ended the stream ({error.ConditionName}{(error.Text is null ? "" : ": " + error.Text)})"
            : "the connection was lost";
        terminal.Line($"[red]disconnected[/]: {Esc(reason)}. Type [bold]/reconnect[/] to connect again, [bold]/quit[/] to leave.");
    }

    // Returns false when the session should end.
    private async Task<bool> HandleAsync(string line, CancellationToken ct)
    {
        if (line.Length == 0) return true;
        try
        {
            if (line[0] != '/')
            {
                await SayAsync(line, ct).ConfigureAwait(false);
                return true;
            }
            terminal.Line($"[grey]» {Esc(line)}[/]");
            var (command, rest) = Split(line[1..]);
            switch (command.ToLowerInvariant())
            {
                case "quit" or "exit" or "q":
                    return false;
                case "help" or "?":
                    Help();
                    break;
                case "reconnect":
                    await ReconnectAsync(ct).ConfigureAwait(false);
                    break;
                case "roster":
                    Roster();
                    break;
                case "msg" or "m":
                    var (to, text) = Split(rest);
                    await OpenAsync(ParseJid(to, "/msg <jid> [text]"), ct).ConfigureAwait(false);
                    if (text.Length > 0) await SayAsync(text, ct).ConfigureAwait(false);
                    break;
                case "open" or "o":
                    await OpenAsync(Pick(rest), ct).ConfigureAwait(false);
                    break;
                case "join" or "j":
                    var (room, nick) = Split(rest);
                    await JoinAsync(RoomJid(room), nick.Length > 0 ? nick : options.Jid.Local!, ct).ConfigureAwait(false);
                    break;
                case "who":
                    Who();
                    break;
                case "leave" or "part":
                    await LeaveAsync(rest.Length > 0 ? RoomJid(rest) : _current, ct).ConfigureAwait(false);
                    break;
                case "presence" or "status":
                    await PresenceAsync(rest, ct).ConfigureAwait(false);
                    break;
                case "add":
                    var contact = ParseJid(rest, "/add <jid>").Bare;
                    await Online().Roster.SetAsync(contact, ct: ct).ConfigureAwait(false);
                    await Online().Roster.SubscribeAsync(contact, ct).ConfigureAwait(false);
                    terminal.Line($"added {Esc(contact)} and asked to see their presence");
                    break;
                case "approve":
                    var asker = ParseJid(rest, "/approve <jid>").Bare;
                    await Online().Roster.ApproveAsync(asker, ct).ConfigureAwait(false);
                    terminal.Line($"{Esc(asker)} may now see your presence");
                    break;
                default:
                    terminal.Line($"[red]unknown command /{Esc(command)}[/]: /help lists the commands");
                    break;
            }
        }
        catch (UsageException e)
        {
            terminal.Line($"[yellow]{Esc(e.Message)}[/]");
        }
        catch (XmppErrorException e)
        {
            terminal.Line($"[red]refused:[/] {Esc(e.Condition)}{(e.Error.Text is { } t ? " (" + Esc(t) + ")" : "")}");
        }
        catch (Exception e) when (e is XmppNegotiationException or IOException or ObjectDisposedException or InvalidOperationException or TimeoutException)
        {
            terminal.Line($"[red]failed:[/] {Esc(e.Message)}");
        }
        return true;
    }

    private XmppClient Online() =>
        _state == "online" && _client is { } client ? client : throw new UsageException("not connected: type /reconnect");

    private async Task ReconnectAsync(CancellationToken ct)
    {
        if (_state == "online")
        {
            terminal.Line("already online");
            return;
        }
        if (_client is { } old)
        {
            _client = null;
            await old.DisposeAsync().ConfigureAwait(false);
        }
        try
        {
            await ConnectAsync(ct).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            SetState("disconnected");
            terminal.Line($"[red]{Esc(e.Message)}[/]; /reconnect to try again");
        }
    }

    private async Task SayAsync(string text, CancellationToken ct)
    {
        var to = _current ?? throw new UsageException("no open conversation: /msg <jid> <text>, /open <n> (after /roster) or /join <room>");
        var client = Online();
        if (_rooms.ContainsKey(to))
        {
            // The room reflects the message (XEP-0045 §7.4), and that copy is what shows.
            await client.Muc.SendAsync(to, text, ct).ConfigureAwait(false);
            return;
        }
        await client.SendMessageAsync(to, text, ct: ct).ConfigureAwait(false);
        terminal.Line($"{Now()} [blue]me → {Esc(to)}[/]: {Esc(text)}");
    }

    private async Task OpenAsync(Jid jid, CancellationToken ct)
    {
        var client = Online();
        SetCurrent(jid);
        if (_rooms.ContainsKey(jid))
        {
            terminal.Line($"talking in {Esc(jid)}");
            return;
        }
        lock (_lock)
        {
            if (!_historyShown.Add(jid)) return;
        }
        try
        {
            // XEP-0313 §4.3 with XEP-0059 §2.5: an empty <before/> asks for the last page, the latest messages.
            var page = await client.Mam.QueryAsync(with: jid, before: "", max: 20, ct: ct).ConfigureAwait(false);
            if (page.Messages.Count == 0)
            {
                terminal.Line($"[grey]no archived messages with {Esc(jid)}[/]");
                return;
            }
            terminal.Write(new Rule($"[grey]history with {Esc(jid)}[/]") { Justification = Justify.Left });
            foreach (var archived in page.Messages)
            {
                var m = archived.Message;
                if (m.Body is null) continue;
                var who = m.From?.Bare == client.BoundJid.Bare ? "[blue]me[/]" : $"[bold]{Esc(m.From?.Bare.ToString() ?? "?")}[/]";
                terminal.Line($"[grey]{Stamp(archived.Stamp ?? m.Delay)}[/] {who}: {Esc(m.Body)}");
            }
            terminal.Write(new Rule($"[grey]{page.Messages.Count} archived message(s)[/]") { Justification = Justify.Left });
        }
        catch (XmppErrorException e)
        {
            terminal.Line($"[grey]no history ({Esc(e.Condition)})[/]");
        }
    }

    private async Task JoinAsync(Jid room, string nick, CancellationToken ct)
    {
        var client = Online();
        terminal.Line($"[grey]entering {Esc(room)} as {Esc(nick)}…[/]");
        await EnterAsync(client, _muc!, room, nick, ct).ConfigureAwait(false);
        SetCurrent(room);
    }

    private async Task EnterAsync(XmppClient client, Muc muc, Jid room, string nick, CancellationToken ct)
    {
        var joined = await muc.JoinAsync(room, nick, null, maxHistoryStanzas: 20, ct).ConfigureAwait(false);
        _rooms[room] = joined.Nick;
        if (joined.Created)
        {
            // XEP-0045 §10.1.2: a new room is locked until configured; accepting the defaults makes it an instant room.
            await client.Muc.ConfigureAsync(room, [], ct).ConfigureAwait(false);
            terminal.Line($"created the room {Esc(room)} with the default settings");
        }
        terminal.Line($"[green]in {Esc(room)}[/] as {Esc(joined.Nick)} with {muc.Occupants(room).Count} occupant(s)");
    }

    private async Task LeaveAsync(Jid? room, CancellationToken ct)
    {
        if (room is not { } r || !_rooms.TryRemove(r.Bare, out _)) throw new UsageException("not in that room: /leave <room>");
        Online();
        await _muc!.LeaveAsync(r.Bare, null, ct).ConfigureAwait(false);
        terminal.Line($"left {Esc(r.Bare)}");
        if (_current == r.Bare) SetCurrent(null);
    }

    private async Task PresenceAsync(string rest, CancellationToken ct)
    {
        var (show, status) = Split(rest);
        if (Array.IndexOf(Shows, show) < 0) throw new UsageException("/presence <show> [status], show one of " + string.Join(", ", Shows));
        _show = show == "online" ? null : show;
        _status = status.Length > 0 ? status : null;
        await Online().SendPresenceAsync(_show, _status, ct: ct).ConfigureAwait(false);
        terminal.Line($"you are {Esc(show)}{(_status is null ? "" : " (" + Esc(_status) + ")")}");
    }

    private void Roster()
    {
        var client = Online();
        var items = new List<RosterItem>(client.Roster.Items);
        items.Sort((a, b) => string.CompareOrdinal(a.Jid.ToString(), b.Jid.ToString()));
        if (items.Count == 0)
        {
            terminal.Line("no contacts yet: /add <jid>");
            return;
        }
        var table = new Table().Border(TableBorder.Simple).AddColumns("#", "contact", "presence", "subscription");
        var listed = new List<Jid>();
        foreach (var item in items)
        {
            listed.Add(item.Jid);
            var name = item.Name is { Length: > 0 } n ? $"{Esc(n)} [grey]{Esc(item.Jid)}[/]" : Esc(item.Jid);
            table.AddRow(listed.Count.ToString(CultureInfo.InvariantCulture), name, Presence(client, item.Jid),
                Esc(item.Subscription + (item.Pending ? " (asked)" : "")));
        }
        _listed = listed;
        terminal.Write(table);
        terminal.Line("[grey]/open <#> to talk to a contact[/]");
    }

    private static string Presence(XmppClient client, Jid jid)
    {
        PresenceInfo? best = null;
        foreach (var p in client.Roster.PresenceOf(jid))
            if (best is null || p.Priority > best.Priority) best = p;
        if (best is null) return "[grey]offline[/]";
        var show = best.Show ?? "online";
        return $"[{(show is "online" or "chat" ? "green" : "yellow")}]{Esc(show)}[/]{(best.Status is { } s ? " " + Esc(s) : "")}";
    }

    private void Who()
    {
        if (_current is not { } room || !_rooms.ContainsKey(room)) throw new UsageException("/who lists the occupants of the open room: /open <room> first");
        Online();
        var nicks = new List<string>();
        foreach (var o in _muc!.Occupants(room)) nicks.Add(o.Nick + (o.Role == "moderator" ? " (moderator)" : ""));
        nicks.Sort(StringComparer.Ordinal);
        terminal.Line($"in {Esc(room)}: {Esc(string.Join(", ", nicks))}");
    }

    private void Help()
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumns("command", "what");
        foreach (var (usage, what) in Commands) table.AddRow($"[bold]{Esc(usage)}[/]", Esc(what));
        terminal.Write(table);
    }

    // Event handlers run on the connection's reading loop: they only print.
    private void OnMessage(object? sender, ChatMessage m)
    {
        if (m.Type == "groupchat")
        {
            OnRoomMessage(m);
            return;
        }
        if (m.Type == "error")
        {
            var error = m.Element.Child("error", Ns.Client) is { } e ? StanzaError.Parse(e) : StanzaError.UndefinedCondition();
            terminal.Line($"[red]not delivered to {Esc(m.From?.ToString() ?? "?")}:[/] {Esc(error.ConditionName)}{(error.Text is { } t ? " (" + Esc(t) + ")" : "")}");
            return;
        }
        if (m.Body is null) return;   // chat states, receipts
        if (m.Carbon == CarbonDirection.Sent)
        {
            terminal.Line($"{Now()} [blue]me → {Esc(m.To?.Bare.ToString() ?? "?")}[/] [grey](another client)[/]: {Esc(m.Body)}");
            return;
        }
        if (m.From is not { } from) return;
        // A private message from a room occupant is a conversation with that occupant, not with the room.
        var peer = _muc?.NickIn(from.Bare) is not null ? from : from.Bare;
        if (m.Type == "headline")
        {
            terminal.Line($"[yellow]{Esc(peer)}[/]: {(m.Subject is { } s ? "[bold]" + Esc(s) + "[/] " : "")}{Esc(m.Body)}");
            return;
        }
        lock (_lock)
        {
            if (_current is null) SetCurrent(peer);
        }
        var elsewhere = _current != peer ? $" [grey](/msg {Esc(peer)} to answer)[/]" : "";
        terminal.Line($"{Stamp(m.Delay)} [bold]{Esc(peer)}[/]: {Esc(m.Body)}{elsewhere}");
    }

    private void OnRoomMessage(ChatMessage m)
    {
        // History arrives right after the self-presence, before EnterAsync has returned: Muc knows the room by then.
        if (m.From is not { } from || _muc?.NickIn(from.Bare) is not { } nick) return;
        var room = from.Bare;
        if (m.Body is null)
        {
            if (m.Subject is { Length: > 0 } subject) terminal.Line($"[grey]{Esc(room)} subject:[/] {Esc(subject)}");
            return;
        }
        var mine = from.Resource == nick;
        var who = from.Resource is { } r ? (mine ? $"[blue]{Esc(r)}[/]" : $"[bold]{Esc(r)}[/]") : "[grey]room[/]";
        terminal.Line($"{Stamp(m.Delay)} [cyan]{Esc(room.Local ?? room.Domain)}[/] {who}: {Esc(m.Body)}");
    }

    private void OnRemoved(object? sender, Jid room)
    {
        _rooms.TryRemove(room, out _);
        terminal.Line($"[red]the room {Esc(room)} removed you[/]");
        if (_current == room) SetCurrent(null);
    }

    private void OnPresence(object? sender, PresenceInfo p)
    {
        if (p.From is not { } from || _client is not { } client) return;
        // Occupants' presence (XEP-0045 §7.2.3, with muc#user) is what /who shows; our own resources are not contacts.
        if (p.Element.Child("x", Ns.MucUser) is not null || _rooms.ContainsKey(from.Bare) || from.Bare == client.BoundJid.Bare) return;
        switch (p.Type)
        {
            case null:
                var show = p.Show ?? "online";
                terminal.Line($"[{(show is "online" or "chat" ? "green" : "yellow")}]●[/] {Esc(from.Bare)} is {Esc(show)}{(p.Status is { } s ? " (" + Esc(s) + ")" : "")}");
                break;
            case "unavailable" when client.Roster.PresenceOf(from).Count == 0:
                terminal.Line($"[grey]○ {Esc(from.Bare)} is offline[/]");
                break;
            case "subscribe":
                terminal.Line($"[yellow]{Esc(from.Bare)} asks to see your presence:[/] /approve {Esc(from.Bare)}");
                break;
            case "subscribed":
                terminal.Line($"{Esc(from.Bare)} lets you see their presence");
                break;
        }
    }

    private void SetState(string state)
    {
        _state = state;
        UpdatePrompt();
    }

    private void SetCurrent(Jid? jid)
    {
        _current = jid;
        UpdatePrompt();
    }

    private void UpdatePrompt() => terminal.SetPrompt($"[{_state}] {(_current is { } c ? c + " " : "")}> ");

    private Jid Pick(string text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return n >= 1 && n <= _listed.Count ? _listed[n - 1] : throw new UsageException($"no contact #{n}: /roster numbers them");
        return ParseJid(text, "/open <n|jid>");
    }

    private Jid RoomJid(string text)
    {
        if (text.Length == 0) throw new UsageException("/join <room> [nick]");
        // A bare name is a room on this server's conference service, as XEP-0045 services are usually named.
        return text.Contains('@', StringComparison.Ordinal) ? ParseJid(text, "/join <room> [nick]").Bare : ParseJid(text + "@conference." + options.Jid.Domain, "/join <room> [nick]");
    }

    private static Jid ParseJid(string text, string usage) =>
        text.Length > 0 && Jid.TryParse(text, out var jid) ? jid : throw new UsageException(text.Length == 0 ? usage : $"'{text}' is not a JID: {usage}");

    private static (string Head, string Tail) Split(string text)
    {
        text = text.Trim();
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (text, "") : (text[..space], text[(space + 1)..].Trim());
    }

    private static string Now() => DateTimeOffset.Now.ToString("HH:mm", CultureInfo.InvariantCulture);

    private static string Stamp(DateTimeOffset? when) =>
        when is { } w ? w.ToLocalTime().ToString(w.ToLocalTime().Date == DateTimeOffset.Now.Date ? "HH:mm" : "MM-dd HH:mm", CultureInfo.InvariantCulture) : Now();

    private static string Esc(object text) => Markup.Escape(text.ToString() ?? "");

    private sealed class UsageException(string message) : Exception(message);
}
