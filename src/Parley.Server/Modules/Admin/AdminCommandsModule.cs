using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Admin;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Admin;

/// <summary>
/// XEP-0050 ad-hoc commands with the XEP-0133 service-administration set, for the accounts named in Admins:
/// add user, delete user, change a user's password, the number and list of online users, and an announcement
/// to every online session. Others see no commands and are refused with forbidden.
/// </summary>
public sealed class AdminCommandsModule(Accounts accounts, AdminOperations operations, Addresses addresses, IOptions<ParleyOptions> options) : IModule
{
    private const string AdminForm = "http://jabber.org/protocol/admin";
    private readonly HashSet<Jid> _admins = ParseAdmins(options.Value.Admins);
    private (string Node, string Name, Func<Element?> Form, Func<Element, CancellationToken, Task<Reply>> Run)[]? _commands;

    private sealed record Reply(StanzaError? Error, Element? Result, string Note);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("admin", Xeps: [50, 133]);

    private (string Node, string Name, Func<Element?> Form, Func<Element, CancellationToken, Task<Reply>> Run)[] Commands => _commands ??= BuildCommands();

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Commands);
        m.DiscoItems(Ns.Commands, requester =>
        {
            var items = new List<Element>();
            if (!_admins.Contains(requester.Bare)) return items;
            foreach (var c in Commands)
                items.Add(new Element("item", Ns.DiscoItems).SetAttribute("jid", addresses.Domain).SetAttribute("node", c.Node).SetAttribute("name", c.Name));
            return items;
        });
        m.OnIq<CommandPayload>(IqType.Set, IqTarget.Server, ExecuteAsync);
    }

    private async ValueTask<IqReply> ExecuteAsync(IqRequest<CommandPayload> iq, CancellationToken ct)
    {
        var command = iq.Stanza.Element.FirstChild()!;
        var node = command.GetAttribute("node");
        if (!_admins.Contains(iq.From.Bare)) return StanzaError.Forbidden("Only administrators may run commands");
        var index = Array.FindIndex(Commands, c => c.Node == node);
        if (index < 0) return StanzaError.ItemNotFound("No such command");
        var (_, name, form, run) = Commands[index];
        var sessionId = command.GetAttribute("sessionid") ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var reply = new Element("command", Ns.Commands).SetAttribute("node", node).SetAttribute("sessionid", sessionId);
        // XEP-0050 §3.4: cancel ends the session.
        if (command.GetAttribute("action") == "cancel") return IqReply.Ok(reply.SetAttribute("status", "canceled"));
        var submitted = command.Child("x", Ns.DataForms);
        var input = form();
        if (input is not null && submitted?.GetAttribute("type") != "submit")
        {
            // §3.2: the first stage answers with the form to fill in.
            reply.SetAttribute("status", "executing");
            reply.Add(new Element("actions", Ns.Commands).SetAttribute("execute", "complete").Add(new Element("complete", Ns.Commands)));
            reply.Add(input);
            return IqReply.Ok(reply);
        }
        var result = await run(submitted ?? new Element("x", Ns.DataForms), ct).ConfigureAwait(false);
        if (result.Error is not null) return result.Error;
        reply.SetAttribute("status", "completed");
        reply.Add(new Element("note", Ns.Commands).SetAttribute("type", "info").AddText(result.Note));
        if (result.Result is not null) reply.Add(result.Result);
        return IqReply.Ok(reply);
    }

    private (string, string, Func<Element?>, Func<Element, CancellationToken, Task<Reply>>)[] BuildCommands() =>
    [
        (AdminForm + "#add-user", "Add a user",
            () => DataForm.Create("form", "Add a user", AdminForm,
                DataForm.Field("accountjid", "jid-single", "The account", true),
                DataForm.Field("password", "text-private", "Password", true),
                DataForm.Field("password-verify", "text-private", "Password again", true)),
            async (x, ct) =>
            {
                if (!TryAccount(DataForm.Value(x, "accountjid"), out var account)) return Bad("accountjid is not an account of this server");
                var password = DataForm.Value(x, "password");
                if (password is null || password != DataForm.Value(x, "password-verify")) return Bad("The passwords are missing or differ");
                if (!Accounts.IsValidPassword(password)) return Bad("The password is not acceptable");
                return await accounts.CreateAsync(account, password, ct).ConfigureAwait(false)
                    ? new Reply(null, null, $"Created {account}")
                    : new Reply(StanzaError.Conflict($"{account} already exists"), null, "");
            }),
        (AdminForm + "#delete-user", "Delete users",
            () => DataForm.Create("form", "Delete users", AdminForm, DataForm.Field("accountjids", "jid-multi", "The accounts", true)),
            async (x, ct) =>
            {
                var deleted = 0;
                foreach (var text in DataForm.Values(x, "accountjids"))
                {
                    if (!TryAccount(text, out var account)) return Bad($"{text} is not an account of this server");
                    if (await accounts.DeleteAsync(account, ct).ConfigureAwait(false)) deleted++;
                    await operations.EndSessionsAsync(account, "The account was deleted", ct).ConfigureAwait(false);
                }
                return new Reply(null, null, $"Deleted {deleted} account(s)");
            }),
        (AdminForm + "#change-user-password", "Change a user's password",
            () => DataForm.Create("form", "Change a user's password", AdminForm,
                DataForm.Field("accountjid", "jid-single", "The account", true),
                DataForm.Field("password", "text-private", "New password", true)),
            async (x, ct) =>
            {
                if (!TryAccount(DataForm.Value(x, "accountjid"), out var account)) return Bad("accountjid is not an account of this server");
                var password = DataForm.Value(x, "password");
                if (password is null || !Accounts.IsValidPassword(password)) return Bad("The password is not acceptable");
                return await accounts.SetPasswordAsync(account, password, ct).ConfigureAwait(false)
                    ? new Reply(null, null, $"Changed the password of {account}")
                    : new Reply(StanzaError.ItemNotFound($"{account} does not exist"), null, "");
            }),
        (AdminForm + "#get-online-users-num", "Number of online users", () => null,
            (_, _) => Task.FromResult(new Reply(null,
                DataForm.Create("result", null, AdminForm, DataForm.Field("onlineusersnum", "text-single", "Online users", false, operations.OnlineAccounts().Count.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                "Counted the online users"))),
        (AdminForm + "#get-online-users-list", "List of online users", () => null,
            (_, _) => Task.FromResult(new Reply(null,
                DataForm.Create("result", null, AdminForm, DataForm.Field("onlineuserjids", "jid-multi", "Online users", false, [.. operations.OnlineAccounts()])),
                "Listed the online users"))),
        (AdminForm + "#announce", "Send an announcement to online users",
            () => DataForm.Create("form", "Announcement", AdminForm,
                DataForm.Field("subject", "text-single", "Subject", false),
                DataForm.Field("announcement", "text-multi", "Announcement", true)),
            (x, _) =>
            {
                var body = DataForm.Value(x, "announcement");
                if (string.IsNullOrEmpty(body)) return Task.FromResult(Bad("The announcement is empty"));
                var sent = operations.Announce(DataForm.Value(x, "subject"), body);
                return Task.FromResult(new Reply(null, null, $"Sent to {sent} session(s)"));
            }),
    ];

    private bool TryAccount(string? text, out Jid account)
    {
        account = default;
        return text is not null && accounts.TryParseAccount(text, out account);
    }

    private static Reply Bad(string text) => new(StanzaError.BadRequest(text), null, "");

    private static HashSet<Jid> ParseAdmins(List<string> admins)
    {
        var set = new HashSet<Jid>();
        foreach (var a in admins)
            if (Jid.TryParse(a, out var jid)) set.Add(jid.Bare);
        return set;
    }
}

/// <summary>XEP-0050: the &lt;command/&gt; payload (read as an element).</summary>
public sealed record CommandPayload : IPayload<CommandPayload>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Commands, "command");

    /// <inheritdoc />
    public static CommandPayload Parse(Element element) => new();

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}
