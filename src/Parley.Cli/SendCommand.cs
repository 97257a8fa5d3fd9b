using System.Collections.Concurrent;
using System.CommandLine;
using Microsoft.AspNetCore.StaticFiles;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>
/// `parley send`: logs in, sends one message (to a JID, to a room it joins first, or the URL of a file it uploads),
/// makes sure the server has it, and logs out; for scripts, like sendxmpp.
/// </summary>
internal sealed class SendCommand(CliContext context)
{
    // XEP-0066: the URL of an out-of-band file, which clients show inline (Ns has no constant for it yet).
    private const string Oob = "jabber:x:oob";

    private static readonly TimeSpan ReflectionWait = TimeSpan.FromSeconds(10);

    public Command Build()
    {
        var account = new ClientAccount(context);
        var to = new Argument<string>("to") { Description = "The recipient's JID, or with --room the room's" };
        var text = new Argument<string?>("text") { Description = "The message (left out: read from standard input; with --file: optional)", Arity = ArgumentArity.ZeroOrOne };
        var room = new Option<bool>("--room") { Description = "<to> is a room (XEP-0045): enter it, then send a groupchat message" };
        var nick = new Option<string?>("--nick") { Description = "The nickname in the room (default: the account's localpart)" };
        var file = new Option<string?>("--file") { Description = "Upload this file (XEP-0363) and send its URL" };
        var send = new Command("send", "Send a message (or a file with --file) to a JID or, with --room, to a room; then log out")
        {
            to, text, room, nick, file,
        };
        account.AddTo(send);
        send.SetAction(async (parse, ct) =>
        {
            var target = parse.GetValue(to)!;
            if (!Jid.TryParse(target, out var recipient))
                throw new CliException($"'{target}' is not a JID", ClientExit.BadArguments);
            var path = parse.GetValue(file);
            if (path is not null && !File.Exists(path)) throw new CliException($"No such file: {path}", ClientExit.BadArguments);
            var body = parse.GetValue(text);
            if (body is null && path is null) body = await ReadInputAsync(ct).ConfigureAwait(false);
            if (body is { Length: 0 }) throw new CliException("Nothing to send: the message is empty", ClientExit.BadArguments);
            var options = await account.ResolveAsync(parse, ct).ConfigureAwait(false);
            var isRoom = parse.GetValue(room);

            Uri? url = null;
            var client = await ClientAccount.ConnectAsync(options, ct).ConfigureAwait(false);
            await using (client.ConfigureAwait(false))
            {
                var outcome = new SendOutcome(client, isRoom ? recipient.Bare : null);
                if (isRoom) await EnterAsync(client, recipient.Bare, parse.GetValue(nick) ?? options.Jid.Local!, ct).ConfigureAwait(false);
                if (path is not null) url = await UploadAsync(client, account.Certificates, path, ct).ConfigureAwait(false);

                var type = isRoom ? "groupchat" : "chat";
                if (body is not null) await outcome.SendAsync(Message(recipient, type, body, null), ct).ConfigureAwait(false);
                if (url is not null) await outcome.SendAsync(Message(recipient, type, url.ToString(), url), ct).ConfigureAwait(false);
                await outcome.ConfirmAsync(ct).ConfigureAwait(false);

                if (isRoom) await client.Muc.LeaveAsync(recipient.Bare, null, ct).ConfigureAwait(false);
                await client.CloseAsync(ct).ConfigureAwait(false);
            }
            if (url is not null) await context.Out.WriteLineAsync(url.ToString()).ConfigureAwait(false);
            return 0;
        });
        return send;
    }

    private async Task<string> ReadInputAsync(CancellationToken ct)
    {
        var reader = context.In ?? (Console.IsInputRedirected ? Console.In : null)
            ?? throw new CliException("No message: give the text, or pipe it to standard input", ClientExit.BadArguments);
        return (await reader.ReadToEndAsync(ct).ConfigureAwait(false)).TrimEnd('\r', '\n');
    }

    private static async Task EnterAsync(XmppClient client, Jid room, string nick, CancellationToken ct)
    {
        Parley.Client.Model.MucJoin joined;
        try
        {
            joined = await client.Muc.JoinAsync(room, nick, null, maxHistoryStanzas: 0, ct).ConfigureAwait(false);
        }
        catch (XmppErrorException e)
        {
            throw new CliException($"The room {room} refused entry: {Describe(e)}", ClientExit.Refused);
        }
        catch (TimeoutException)
        {
            throw new CliException($"The room {room} did not answer", ClientExit.Refused);
        }
        if (joined.Created)
        {
            // XEP-0045 §10.1.2: entering created a new, locked room. A typo should not leave a room behind.
            try
            {
                await client.Muc.DestroyAsync(room, ct: ct).ConfigureAwait(false);
            }
            catch (XmppErrorException)
            {
                // The room stays locked and empty; the service removes it.
            }
            throw new CliException($"The room {room} does not exist", ClientExit.Refused);
        }
    }

    private static async Task<Uri> UploadAsync(XmppClient client, CertificatePolicy certificates, string path, CancellationToken ct)
    {
        if (!new FileExtensionContentTypeProvider().TryGetContentType(path, out var contentType)) contentType = "application/octet-stream";
        var content = File.OpenRead(path);
        await using (content.ConfigureAwait(false))
        {
            using var http = certificates.CreateHttpClient();
            try
            {
                return await client.UploadAsync(Path.GetFileName(path), content, content.Length, contentType, http, ct).ConfigureAwait(false);
            }
            catch (XmppErrorException e)
            {
                throw new CliException($"The upload was refused: {Describe(e)}", ClientExit.Refused);
            }
            catch (HttpRequestException e)
            {
                throw new CliException($"The upload failed: {e.Message}", ClientExit.Refused);
            }
        }
    }

    private static Element Message(Jid to, string type, string body, Uri? url)
    {
        var message = new Element("message", Ns.Client).SetAttribute("to", to.ToString()).SetAttribute("type", type)
            .SetAttribute("id", "send-" + Guid.NewGuid().ToString("N"))
            .Add(new Element("body", Ns.Client).AddText(body));
        if (url is not null) message.Add(new Element("x", Oob).Add(new Element("url", Oob).AddText(url.ToString())));
        return message;
    }

    private static string Describe(XmppErrorException e) => e.Condition + (e.Error.Text is { } t ? " (" + t + ")" : "");

    /// <summary>
    /// Whether the server took the messages: an error bounced for one of them is a refusal; a room's reflection of each
    /// (XEP-0045 §7.4: the sender gets its message back, with its id) is the room's acceptance.
    /// </summary>
    private sealed class SendOutcome
    {
        private readonly XmppClient _client;
        private readonly Jid? _room;
        private readonly ConcurrentDictionary<string, TaskCompletionSource<Element>> _sent = new(StringComparer.Ordinal);

        public SendOutcome(XmppClient client, Jid? room)
        {
            _client = client;
            _room = room;
            client.StanzaReceived += (_, stanza) =>
            {
                if (stanza.LocalName != "message" || stanza.GetAttribute("id") is not { } id || !_sent.TryGetValue(id, out var tcs)) return;
                if (stanza.GetAttribute("type") is "error" or "groupchat") tcs.TrySetResult(stanza);
            };
        }

        public async Task SendAsync(Element message, CancellationToken ct)
        {
            _sent[message.GetAttribute("id")!] = new TaskCompletionSource<Element>(TaskCreationOptions.RunContinuationsAsynchronously);
            await _client.SendAsync(message, ct).ConfigureAwait(false);
        }

        public async Task ConfirmAsync(CancellationToken ct)
        {
            try
            {
                // XEP-0199: the server answers in order, so the answer means it has processed the messages before it.
                await _client.PingAsync(ct: ct).ConfigureAwait(false);
            }
            catch (XmppErrorException)
            {
                // A server without ping still answered, which is all that is asked of it here.
            }
            catch (Exception e) when (e is XmppNegotiationException or TimeoutException or IOException)
            {
                throw new CliException($"The connection failed before the server confirmed the message: {e.Message}", ClientExit.Connection);
            }
            foreach (var (_, tcs) in _sent)
            {
                if (_room is not null && !tcs.Task.IsCompleted)
                {
                    try
                    {
                        await tcs.Task.WaitAsync(ReflectionWait, ct).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        // The server has the message; the room is only slow to echo it.
                    }
                }
                if (!tcs.Task.IsCompleted) continue;
                var reply = await tcs.Task.ConfigureAwait(false);
                if (reply.GetAttribute("type") == "error")
                {
                    var error = reply.Child("error", Ns.Client) is { } e ? StanzaError.Parse(e) : StanzaError.UndefinedCondition();
                    throw new CliException($"{_room?.ToString() ?? reply.GetAttribute("from")} refused the message: {Describe(new XmppErrorException(error))}", ClientExit.Refused);
                }
            }
        }
    }
}
