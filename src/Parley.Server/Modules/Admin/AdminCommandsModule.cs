using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Admin;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Admin;

/// <summary>
/// XEP-0050 ad-hoc commands for the accounts named in Admins: every command of the
/// <see cref="AdminCommandRegistry"/> under its own node (urn:parley:admin:user-add, …), with a data form built from
/// its parameters and its result as a result form (a table as XEP-0004 reported items), plus XEP-0133's
/// service-administration nodes that clients such as Gajim and Psi know — add user, delete users, change a user's
/// password, the number and list of online users, and an announcement — run by the same registry commands. Others
/// see no commands and are refused with forbidden.
/// </summary>
public sealed class AdminCommandsModule(AdminCommandRegistry registry, Addresses addresses, IOptions<ParleyOptions> options) : IModule
{
    private const string AdminForm = "http://jabber.org/protocol/admin";
    private const string RegistryForm = "urn:parley:admin";
    private readonly HashSet<Jid> _admins = options.Value.AdminJids();
    private Entry[]? _commands;

    private sealed record Reply(StanzaError? Error, Element? Result, string Note);

    // A node: its name, the form to fill in (null: runs at once) and what submitting it does.
    private sealed record Entry(string Node, string Name, Func<Element?> Form, Func<Element, Jid, CancellationToken, Task<Reply>> Run);

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("admin", Xeps: [50, 133]);

    private Entry[] Commands => _commands ??= BuildCommands();

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
        var entry = Commands[index];
        var sessionId = command.GetAttribute("sessionid") ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var reply = new Element("command", Ns.Commands).SetAttribute("node", node).SetAttribute("sessionid", sessionId);
        // XEP-0050 §3.4: cancel ends the session.
        if (command.GetAttribute("action") == "cancel") return IqReply.Ok(reply.SetAttribute("status", "canceled"));
        var submitted = command.Child("x", Ns.DataForms);
        var input = entry.Form();
        if (input is not null && submitted?.GetAttribute("type") != "submit")
        {
            // §3.2: the first stage answers with the form to fill in.
            reply.SetAttribute("status", "executing");
            reply.Add(new Element("actions", Ns.Commands).SetAttribute("execute", "complete").Add(new Element("complete", Ns.Commands)));
            reply.Add(input);
            return IqReply.Ok(reply);
        }
        var result = await entry.Run(submitted ?? new Element("x", Ns.DataForms), iq.From, ct).ConfigureAwait(false);
        if (result.Error is not null) return result.Error;
        reply.SetAttribute("status", "completed");
        reply.Add(new Element("note", Ns.Commands).SetAttribute("type", "info").AddText(result.Note));
        if (result.Result is not null) reply.Add(result.Result);
        return IqReply.Ok(reply);
    }

    private Entry[] BuildCommands()
    {
        var list = new List<Entry>
        {
            new(AdminForm + "#add-user", "Add a user",
                () => DataForm.Create("form", "Add a user", AdminForm,
                    DataForm.Field("accountjid", "jid-single", "The account", true),
                    DataForm.Field("password", "text-private", "Password", true),
                    DataForm.Field("password-verify", "text-private", "Password again", true)),
                async (x, from, ct) =>
                {
                    var password = DataForm.Value(x, "password");
                    if (password is null || password != DataForm.Value(x, "password-verify")) return Bad("The passwords are missing or differ");
                    return ToReply(await RunAsync("user add", from, ct, ("jid", DataForm.Value(x, "accountjid")), ("password", password)).ConfigureAwait(false));
                }),
            new(AdminForm + "#delete-user", "Delete users",
                () => DataForm.Create("form", "Delete users", AdminForm, DataForm.Field("accountjids", "jid-multi", "The accounts", true)),
                async (x, from, ct) =>
                {
                    var deleted = 0;
                    foreach (var text in DataForm.Values(x, "accountjids"))
                    {
                        var result = await RunAsync("user delete", from, ct, ("jid", text)).ConfigureAwait(false);
                        if (result.Ok) deleted++;
                        else if (result.Outcome != AdminOutcome.NotFound) return ToReply(result);
                    }
                    return new Reply(null, null, $"Deleted {deleted} account(s)");
                }),
            new(AdminForm + "#change-user-password", "Change a user's password",
                () => DataForm.Create("form", "Change a user's password", AdminForm,
                    DataForm.Field("accountjid", "jid-single", "The account", true),
                    DataForm.Field("password", "text-private", "New password", true)),
                async (x, from, ct) => ToReply(await RunAsync("user passwd", from, ct, ("jid", DataForm.Value(x, "accountjid")), ("password", DataForm.Value(x, "password"))).ConfigureAwait(false))),
            new(AdminForm + "#get-online-users-num", "Number of online users", () => null,
                async (_, from, ct) =>
                {
                    var accounts = OnlineAccounts(await RunAsync("session list", from, ct).ConfigureAwait(false));
                    return new Reply(null, DataForm.Create("result", null, AdminForm,
                        DataForm.Field("onlineusersnum", "text-single", "Online users", false, accounts.Count.ToString(CultureInfo.InvariantCulture))), "Counted the online users");
                }),
            new(AdminForm + "#get-online-users-list", "List of online users", () => null,
                async (_, from, ct) =>
                {
                    var accounts = OnlineAccounts(await RunAsync("session list", from, ct).ConfigureAwait(false));
                    return new Reply(null, DataForm.Create("result", null, AdminForm,
                        DataForm.Field("onlineuserjids", "jid-multi", "Online users", false, [.. accounts])), "Listed the online users");
                }),
            new(AdminForm + "#announce", "Send an announcement to online users",
                () => DataForm.Create("form", "Announcement", AdminForm,
                    DataForm.Field("subject", "text-single", "Subject", false),
                    DataForm.Field("announcement", "text-multi", "Announcement", true)),
                async (x, from, ct) => ToReply(await RunAsync("announce", from, ct,
                    ("body", string.Join('\n', DataForm.Values(x, "announcement"))), ("subject", DataForm.Value(x, "subject"))).ConfigureAwait(false))),
        };
        foreach (var command in AdminCommandRegistry.All)
        {
            var c = command;
            list.Add(new Entry(c.Node, c.Description, () => c.Parameters.Length == 0 ? null : Form(c), async (x, from, ct) =>
            {
                var args = new AdminArguments();
                foreach (var p in c.Parameters)
                {
                    var values = DataForm.Values(x, p.Name);
                    if (values.Count > 0) args.Set(p.Name, string.Join('\n', values));
                }
                return ToReply(await registry.ExecuteAsync(c, args, "xmpp " + from.Bare, ct).ConfigureAwait(false));
            }));
        }
        return [.. list];
    }

    // The form of a registry command: one field per parameter, typed by its kind.
    private static Element Form(AdminCommand command)
    {
        var fields = new Element[command.Parameters.Length];
        for (var i = 0; i < fields.Length; i++)
        {
            var p = command.Parameters[i];
            var type = p.Kind switch
            {
                AdminParameterKind.Jid => "jid-single",
                AdminParameterKind.Secret => "text-private",
                AdminParameterKind.Multiline => "text-multi",
                AdminParameterKind.Flag => "boolean",
                _ => "text-single",
            };
            fields[i] = DataForm.Field(p.Name, type, p.Description, p.Required);
        }
        return DataForm.Create("form", command.Description, RegistryForm, fields);
    }

    private Task<AdminResult> RunAsync(string name, Jid from, CancellationToken ct, params (string Name, string? Value)[] values)
    {
        var args = new AdminArguments();
        foreach (var (n, v) in values) args.Set(n, v);
        return registry.ExecuteAsync(AdminCommandRegistry.Find(name)!, args, "xmpp " + from.Bare, ct);
    }

    private static SortedSet<string> OnlineAccounts(AdminResult sessions)
    {
        var accounts = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in sessions.Data?["sessions"]?.AsArray() ?? [])
            if (row?["jid"]?.GetValue<string>() is { } text && Jid.TryParse(text, out var jid)) accounts.Add(jid.Bare.ToString());
        return accounts;
    }

    // A registry result as XEP-0050's completion: a note and a result form, or a stanza error of the outcome.
    private static Reply ToReply(AdminResult result)
    {
        if (!result.Ok)
        {
            var error = result.Outcome switch
            {
                AdminOutcome.BadRequest => StanzaError.BadRequest(result.Message),
                AdminOutcome.NotFound => StanzaError.ItemNotFound(result.Message),
                AdminOutcome.Conflict => StanzaError.Conflict(result.Message),
                _ => new StanzaError(StanzaErrorType.Cancel, StanzaErrorCondition.ServiceUnavailable, result.Message),
            };
            return new Reply(error, null, "");
        }
        return new Reply(null, result.Data is { Count: > 0 } data ? ResultForm(data) : null, result.Message);
    }

    // XEP-0004: scalars and lists as fields; a table as <reported/> and one <item/> per row.
    internal static Element ResultForm(JsonObject data)
    {
        var form = new Element("x", Ns.DataForms).SetAttribute("type", "result");
        form.Add(DataForm.Field("FORM_TYPE", "hidden", null, false, RegistryForm));
        JsonArray? table = null;
        foreach (var (key, value) in data)
        {
            switch (value)
            {
                case JsonArray a when a.Count > 0 && a[0] is JsonObject:
                    table ??= a;
                    break;
                case JsonArray a:
                    var items = new string[a.Count];
                    for (var i = 0; i < a.Count; i++) items[i] = Text(a[i]);
                    form.Add(DataForm.Field(key, "text-multi", null, false, items));
                    break;
                case JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                    form.Add(DataForm.Field(key, "boolean", null, false, v.GetValue<bool>() ? "1" : "0"));
                    break;
                default:
                    form.Add(DataForm.Field(key, "text-single", null, false, Text(value)));
                    break;
            }
        }
        if (table is not null)
        {
            var reported = new Element("reported", Ns.DataForms);
            foreach (var (key, _) in (JsonObject)table[0]!) reported.Add(new Element("field", Ns.DataForms).SetAttribute("var", key).SetAttribute("label", key));
            form.Add(reported);
            foreach (var row in table)
            {
                var item = new Element("item", Ns.DataForms);
                foreach (var (key, value) in (JsonObject)row!)
                    item.Add(new Element("field", Ns.DataForms).SetAttribute("var", key).Add(new Element("value", Ns.DataForms).AddText(Text(value))));
                form.Add(item);
            }
        }
        return form;
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "1" : "0",
        _ => node.ToJsonString(),
    };

    private static Reply Bad(string text) => new(StanzaError.BadRequest(text), null, "");
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
