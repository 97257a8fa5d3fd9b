using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Server.Admin;

namespace Parley.Server.Web;

/// <summary>The console's HTML: plain server-rendered pages, every value HTML-encoded, forms that work without script.</summary>
internal static class AdminConsolePages
{
    /// <summary>What every page shows: who is logged in, the CSRF token for its forms, the domain, a pending message.</summary>
    public sealed record View(string Admin, string Csrf, string Domain, (bool Ok, string Text)? Flash);

    public const string Css = """
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f4f6f8; }
        header { background: #1f3a5a; color: #fff; padding: .6em 1.2em; display: flex; gap: 1.2em; align-items: center; flex-wrap: wrap; }
        header a { color: #dbe8f5; text-decoration: none; }
        header a.here { color: #fff; font-weight: 600; }
        header form { margin-left: auto; }
        main { padding: 1.2em; max-width: 70em; }
        table { border-collapse: collapse; background: #fff; margin: .6em 0 1.2em; }
        th, td { border: 1px solid #d5dbe1; padding: .3em .6em; text-align: left; vertical-align: top; }
        th { background: #e9eef3; }
        .cards { display: flex; flex-wrap: wrap; gap: .8em; }
        .card { background: #fff; border: 1px solid #d5dbe1; padding: .6em 1em; min-width: 9em; }
        .card b { display: block; font-size: 1.5em; }
        .ok { background: #e3f4e6; border: 1px solid #9bcfa5; padding: .5em .8em; }
        .fail { background: #fbe5e5; border: 1px solid #e2a3a3; padding: .5em .8em; }
        form.inline { display: inline; }
        fieldset { background: #fff; border: 1px solid #d5dbe1; margin: .6em 0; }
        label { display: block; margin: .3em 0; }
        pre { background: #fff; border: 1px solid #d5dbe1; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
        code { word-break: break-all; }
        """;

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    private static readonly (string Page, string Title)[] Nav =
    [
        ("", "Dashboard"), ("users", "Users"), ("sessions", "Sessions"), ("rooms", "Rooms"), ("log", "Log"), ("config", "Configuration"), ("commands", "All commands"),
    ];

    private static string Layout(View view, string page, string title, string body)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append("<title>").Append(E(title)).Append(" · ").Append(E(view.Domain)).Append(" · Parley admin</title>");
        sb.Append("<link rel=\"stylesheet\" href=\"/admin/console.css\"></head><body><header><strong>Parley · ").Append(E(view.Domain)).Append("</strong>");
        foreach (var (p, t) in Nav)
            sb.Append("<a href=\"/admin").Append(p.Length == 0 ? "" : "/" + p).Append('"').Append(p == page ? " class=\"here\"" : "").Append('>').Append(t).Append("</a>");
        sb.Append("<form method=\"post\" action=\"/admin/logout\">").Append(Csrf(view)).Append(E(view.Admin)).Append(" <button>Log out</button></form></header><main>");
        sb.Append("<h1>").Append(E(title)).Append("</h1>");
        if (view.Flash is { } flash)
            sb.Append("<p class=\"").Append(flash.Ok ? "ok" : "fail").Append("\" role=\"status\">").Append(E(flash.Text)).Append("</p>");
        sb.Append(body).Append("</main></body></html>");
        return sb.ToString();
    }

    private static string Csrf(View view) => "<input type=\"hidden\" name=\"_csrf\" value=\"" + E(view.Csrf) + "\">";

    private static string Failure(AdminResult result) => "<p class=\"fail\">" + E(result.Message) + "</p>";

    public static string Login(string domain, string token, string? error)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append("<title>Log in · ").Append(E(domain)).Append(" · Parley admin</title><link rel=\"stylesheet\" href=\"/admin/console.css\"></head><body>");
        sb.Append("<header><strong>Parley · ").Append(E(domain)).Append("</strong></header><main><h1>Administration</h1>");
        if (error is not null) sb.Append("<p class=\"fail\" role=\"alert\">").Append(E(error)).Append("</p>");
        sb.Append("<form method=\"post\" action=\"/admin/login\"><fieldset><legend>Log in with an administrator's XMPP account</legend>");
        sb.Append("<input type=\"hidden\" name=\"_csrf\" value=\"").Append(E(token)).Append("\">");
        sb.Append("<label>Account <input name=\"username\" autocomplete=\"username\" required placeholder=\"admin@").Append(E(domain)).Append("\"></label>");
        sb.Append("<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>");
        sb.Append("<button>Log in</button></fieldset></form></main></body></html>");
        return sb.ToString();
    }

    public static string Dashboard(View view, AdminResult stats)
    {
        if (!stats.Ok || stats.Data is not { } d) return Layout(view, "", "Dashboard", Failure(stats));
        // Numbers were stored as int or long: read them through their JSON text.
        static long N(JsonObject d, string key) =>
            d[key] is JsonValue v && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var uptime = TimeSpan.FromSeconds(N(d, "uptime_seconds"));
        var cards = new (string Label, string Value)[]
        {
            ("Online sessions", N(d, "sessions").ToString(CultureInfo.InvariantCulture)),
            ("Accounts online", N(d, "online_accounts").ToString(CultureInfo.InvariantCulture)),
            ("Accounts", N(d, "accounts").ToString(CultureInfo.InvariantCulture)),
            ("Rooms", N(d, "rooms").ToString(CultureInfo.InvariantCulture)),
            ("Messages per minute", N(d, "messages_per_minute").ToString(CultureInfo.InvariantCulture)),
            ("s2s connections", N(d, "s2s_connections").ToString(CultureInfo.InvariantCulture)),
            ("Uptime", string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalDays}d {uptime.Hours:00}:{uptime.Minutes:00}")),
            ("Memory (resident)", (N(d, "working_set_bytes") / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + " MiB"),
            ("Managed heap", (N(d, "gc_heap_bytes") / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + " MiB"),
        };
        var sb = new StringBuilder("<div class=\"cards\">");
        foreach (var (label, value) in cards)
            sb.Append("<div class=\"card\" data-stat=\"").Append(E(label)).Append("\">").Append(E(label)).Append("<b>").Append(E(value)).Append("</b></div>");
        sb.Append("</div><p>").Append(E(stats.Message)).Append("</p>");
        return Layout(view, "", "Dashboard", sb.ToString());
    }

    public static string Users(View view, AdminResult list)
    {
        var sb = new StringBuilder();
        sb.Append(CommandForm(view, AdminCommandRegistry.Find("user add")!, "/admin/users", "Add a user"));
        if (!list.Ok) return Layout(view, "users", "Users", sb.Append(Failure(list)).ToString());
        sb.Append("<p>").Append(E(list.Message)).Append("</p><table><tr><th>Account</th><th>New password</th><th></th></tr>");
        foreach (var node in list.Data?["accounts"]?.AsArray() ?? [])
        {
            var jid = node?.GetValue<string>() ?? "";
            sb.Append("<tr><td>").Append(E(jid)).Append("</td><td>");
            sb.Append("<form class=\"inline\" method=\"post\" action=\"/admin/run/user/passwd\">").Append(Csrf(view)).Append(Hidden("_return", "/admin/users")).Append(Hidden("jid", jid));
            sb.Append("<input type=\"password\" name=\"password\" autocomplete=\"new-password\" required aria-label=\"New password for ").Append(E(jid)).Append("\"> <button>Change</button></form></td><td>");
            sb.Append(Button(view, "user/delete", "/admin/users", ("jid", jid), "Delete")).Append("</td></tr>");
        }
        sb.Append("</table>");
        return Layout(view, "users", "Users", sb.ToString());
    }

    public static string SessionsPage(View view, AdminResult list)
    {
        if (!list.Ok) return Layout(view, "sessions", "Sessions", Failure(list));
        var sb = new StringBuilder("<p>").Append(E(list.Message)).Append("</p>");
        var rows = list.Data?["sessions"]?.AsArray() ?? [];
        if (rows.Count > 0)
        {
            sb.Append(Table(rows, row => Button(view, "session/kick", "/admin/sessions", ("jid", Text(row["jid"])), "Kick")));
        }
        return Layout(view, "sessions", "Sessions", sb.ToString());
    }

    public static string Rooms(View view, AdminResult list)
    {
        var sb = new StringBuilder();
        sb.Append(CommandForm(view, AdminCommandRegistry.Find("room create")!, "/admin/rooms", "Create a room"));
        if (!list.Ok) return Layout(view, "rooms", "Rooms", sb.Append(Failure(list)).ToString());
        sb.Append("<p>").Append(E(list.Message)).Append("</p>");
        var rows = list.Data?["rooms"]?.AsArray() ?? [];
        if (rows.Count > 0) sb.Append(Table(rows, row => Button(view, "room/destroy", "/admin/rooms", ("room", Text(row["room"])), "Destroy")));
        return Layout(view, "rooms", "Rooms", sb.ToString());
    }

    public static string Log(View view, AdminResult tail)
    {
        if (!tail.Ok) return Layout(view, "log", "Log", Failure(tail));
        var sb = new StringBuilder("<p>").Append(E(tail.Message)).Append(" (newest last)</p><pre>");
        foreach (var line in tail.Data?["lines"]?.AsArray() ?? []) sb.Append(E(Text(line))).Append('\n');
        sb.Append("</pre>");
        return Layout(view, "log", "Log", sb.ToString());
    }

    public static string Config(View view, AdminResult config, AdminResult cert)
    {
        var sb = new StringBuilder("<h2>Certificate</h2>");
        sb.Append(cert.Ok ? "<p>" + E(cert.Message) + "</p>" + Scalars(cert.Data) : Failure(cert));
        sb.Append("<h2>Settings</h2>");
        if (!config.Ok) return Layout(view, "config", "Configuration", sb.Append(Failure(config)).ToString());
        sb.Append("<p>").Append(E(config.Message)).Append(". Change them in the configuration file or PARLEY_ variables and restart.</p>");
        sb.Append(Table(config.Data?["settings"]?.AsArray() ?? [], null));
        return Layout(view, "config", "Configuration", sb.ToString());
    }

    public static string Commands(View view)
    {
        var sb = new StringBuilder("<p>Every administrative command, as the <code>parley</code> CLI, the REST API (<code>/api/admin</code>) and XMPP ad-hoc commands offer it.</p>");
        foreach (var c in AdminCommandRegistry.All) sb.Append(CommandForm(view, c, null, c.Name));
        return Layout(view, "commands", "All commands", sb.ToString());
    }

    public static string Result(View view, AdminCommand command, AdminResult result)
    {
        var sb = new StringBuilder();
        sb.Append("<p class=\"").Append(result.Ok ? "ok" : "fail").Append("\" role=\"status\">").Append(E(result.Message)).Append("</p>");
        if (result.Data is { } data)
        {
            foreach (var (key, value) in data)
                if (value is JsonArray { Count: > 0 } a && a[0] is JsonObject) sb.Append("<h2>").Append(E(key)).Append("</h2>").Append(Table(a, null));
            sb.Append(Scalars(data));
        }
        sb.Append("<p><a href=\"/admin/commands\">Back to the commands</a></p>");
        return Layout(view, "commands", command.Name, sb.ToString());
    }

    public static string NotFound(View view) => Layout(view, "", "Not found", "<p>There is no such page or command.</p>");

    private static string Hidden(string name, string value) => "<input type=\"hidden\" name=\"" + E(name) + "\" value=\"" + E(value) + "\">";

    private static string Button(View view, string path, string back, (string Name, string Value) argument, string label) =>
        "<form class=\"inline\" method=\"post\" action=\"/admin/run/" + E(path) + "\">" + Csrf(view) + Hidden("_return", back) + Hidden(argument.Name, argument.Value)
        + "<button aria-label=\"" + E(label + " " + argument.Value) + "\">" + E(label) + "</button></form>";

    // A registry command's form: one input per parameter, typed by its kind.
    private static string CommandForm(View view, AdminCommand command, string? back, string legend)
    {
        var sb = new StringBuilder();
        sb.Append("<form method=\"post\" action=\"/admin/run/").Append(E(command.Path)).Append("\"><fieldset><legend>").Append(E(legend)).Append("</legend>");
        if (back is null) sb.Append("<p>").Append(E(command.Description)).Append("</p>");
        sb.Append(Csrf(view));
        if (back is not null) sb.Append(Hidden("_return", back));
        foreach (var p in command.Parameters)
        {
            var required = p.Required ? " required" : "";
            sb.Append("<label>");
            var input = p.Kind switch
            {
                AdminParameterKind.Flag => "<input type=\"checkbox\" name=\"" + E(p.Name) + "\" value=\"true\"> ",
                AdminParameterKind.Multiline => "<textarea name=\"" + E(p.Name) + "\" rows=\"3\" cols=\"50\"" + required + "></textarea>",
                AdminParameterKind.Secret => "<input type=\"password\" name=\"" + E(p.Name) + "\" autocomplete=\"new-password\"" + required + ">",
                AdminParameterKind.Number => "<input type=\"number\" min=\"0\" name=\"" + E(p.Name) + "\"" + required + ">",
                _ => "<input name=\"" + E(p.Name) + "\"" + required + ">",
            };
            if (p.Kind == AdminParameterKind.Flag) sb.Append(input).Append(E(p.Description));
            else sb.Append(E(p.Description)).Append(' ').Append(input);
            sb.Append("</label>");
        }
        sb.Append("<button>").Append(E(back is null ? "Run" : legend)).Append("</button></fieldset></form>");
        return sb.ToString();
    }

    private static string Table(JsonArray rows, Func<JsonObject, string>? action)
    {
        if (rows.Count == 0) return "";
        var sb = new StringBuilder("<table><tr>");
        foreach (var (key, _) in (JsonObject)rows[0]!) sb.Append("<th>").Append(E(key)).Append("</th>");
        if (action is not null) sb.Append("<th></th>");
        sb.Append("</tr>");
        foreach (var row in rows)
        {
            if (row is not JsonObject o) continue;
            sb.Append("<tr>");
            foreach (var (_, value) in o) sb.Append("<td>").Append(E(Text(value))).Append("</td>");
            if (action is not null) sb.Append("<td>").Append(action(o)).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</table>").ToString();
    }

    private static string Scalars(JsonObject? data)
    {
        if (data is null) return "";
        var sb = new StringBuilder("<table>");
        var any = false;
        foreach (var (key, value) in data)
        {
            if (value is JsonArray { Count: > 0 } a && a[0] is JsonObject) continue;
            any = true;
            sb.Append("<tr><th>").Append(E(key)).Append("</th><td><code>").Append(E(Text(value))).Append("</code></td></tr>");
        }
        return any ? sb.Append("</table>").ToString() : "";
    }

    private static string Text(JsonNode? node) => AdminResult.Display(node);
}
