using System.Globalization;
using System.Text.Json.Nodes;
using Parley.Protocol;

namespace Parley.Server.Admin;

/// <summary>What an argument of an administrative command holds; each front end renders it its own way (a CLI
/// argument or option, a data-form field, a JSON property, an HTML input).</summary>
public enum AdminParameterKind
{
    /// <summary>One line of text.</summary>
    Text,

    /// <summary>A JID (an account, a session's full JID or a room).</summary>
    Jid,

    /// <summary>A password or other secret: never echoed or logged; the CLI prompts for it when left out.</summary>
    Secret,

    /// <summary>Text that may span lines.</summary>
    Multiline,

    /// <summary>A non-negative integer.</summary>
    Number,

    /// <summary>On or off (absent means off).</summary>
    Flag,
}

/// <summary>One argument of an administrative command.</summary>
/// <param name="Name">Its name: a CLI option (<c>--name</c>), form field var, JSON property and HTML input name.</param>
/// <param name="Kind">What it holds.</param>
/// <param name="Description">One line for help texts and labels.</param>
/// <param name="Required">Whether the command refuses to run without it.</param>
/// <param name="Positional">Whether the CLI takes it as a positional argument rather than an option.</param>
public sealed record AdminParameter(string Name, AdminParameterKind Kind, string Description, bool Required = false, bool Positional = false);

/// <summary>How a command ended; the front ends map it to an exit code, a stanza error or an HTTP status.</summary>
public enum AdminOutcome
{
    /// <summary>Done.</summary>
    Ok,

    /// <summary>The arguments are wrong (CLI exit 2, bad-request, HTTP 400).</summary>
    BadRequest,

    /// <summary>What the command acts on does not exist (exit 1, item-not-found, HTTP 404).</summary>
    NotFound,

    /// <summary>What the command would create exists (exit 1, conflict, HTTP 409).</summary>
    Conflict,

    /// <summary>The command needs something that is not there, such as a disabled module (exit 1,
    /// service-unavailable, HTTP 503).</summary>
    Unavailable,
}

/// <summary>
/// A command's result, the same for every front end: an outcome, a sentence for people, and data for programs — a
/// JSON object whose values are scalars, arrays of scalars, or arrays of objects (tables; every row has the same
/// properties).
/// </summary>
public sealed record AdminResult(AdminOutcome Outcome, string Message, JsonObject? Data = null)
{
    /// <summary>Whether the command did what it was asked.</summary>
    public bool Ok => Outcome == AdminOutcome.Ok;

    /// <summary>A success.</summary>
    public static AdminResult Done(string message, JsonObject? data = null) => new(AdminOutcome.Ok, message, data);

    /// <summary>A refusal of the arguments.</summary>
    public static AdminResult Bad(string message) => new(AdminOutcome.BadRequest, message);

    /// <summary>A missing target.</summary>
    public static AdminResult Missing(string message) => new(AdminOutcome.NotFound, message);

    /// <summary>The outcome's name in results (JSON, the admin socket): ok, bad-request, not-found, conflict,
    /// unavailable.</summary>
    public static string Name(AdminOutcome outcome) => outcome switch
    {
        AdminOutcome.Ok => "ok",
        AdminOutcome.BadRequest => "bad-request",
        AdminOutcome.NotFound => "not-found",
        AdminOutcome.Conflict => "conflict",
        _ => "unavailable",
    };

    /// <summary>The outcome of a name; unknown names are <see cref="AdminOutcome.Unavailable"/>.</summary>
    public static AdminOutcome Parse(string? name) => name switch
    {
        "ok" => AdminOutcome.Ok,
        "bad-request" => AdminOutcome.BadRequest,
        "not-found" => AdminOutcome.NotFound,
        "conflict" => AdminOutcome.Conflict,
        _ => AdminOutcome.Unavailable,
    };

    /// <summary>A value of the data as people read it: text as is, booleans as yes/no, lists joined by commas.</summary>
    public static string Display(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "yes" : "no",
        JsonArray a => string.Join(", ", a.Select(Display)),
        _ => node.ToJsonString(),
    };

    /// <summary>The result as the JSON the admin socket and the REST API send: ok, outcome, message, data.</summary>
    public JsonObject ToJson() => new()
    {
        ["ok"] = Ok,
        ["outcome"] = Name(Outcome),
        ["message"] = Message,
        ["data"] = Data?.DeepClone(),
    };

    /// <summary>Reads <see cref="ToJson"/>'s shape back.</summary>
    public static AdminResult FromJson(JsonObject json) => new(
        Parse(json["outcome"]?.GetValue<string>()),
        json["message"]?.GetValue<string>() ?? json["error"]?.GetValue<string>() ?? "",
        json["data"] as JsonObject);
}

/// <summary>The arguments a command was given, by parameter name, as text.</summary>
public sealed class AdminArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    /// <summary>Every name and value given.</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>Sets a value (null removes it).</summary>
    public AdminArguments Set(string name, string? value)
    {
        if (value is null) _values.Remove(name);
        else _values[name] = value;
        return this;
    }

    /// <summary>A value, or null when it was not given.</summary>
    public string? Text(string name) => _values.TryGetValue(name, out var v) ? v : null;

    /// <summary>A flag's value: given as true, 1, on or yes.</summary>
    public bool Flag(string name) => Text(name) is { } v && IsTrue(v);

    /// <summary>A number's value, or the default when it was not given (validated before the command runs).</summary>
    public int Number(string name, int fallback) =>
        Text(name) is { } v && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : fallback;

    /// <summary>A JID's value (validated before the command runs).</summary>
    public Jid? Jid(string name) => Text(name) is { } v && Protocol.Jid.TryParse(v, out var jid) ? jid : null;

    internal static bool IsTrue(string v) =>
        v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1" || v.Equals("on", StringComparison.OrdinalIgnoreCase) || v.Equals("yes", StringComparison.OrdinalIgnoreCase);

    internal static bool IsFalse(string v) =>
        v.Length == 0 || v.Equals("false", StringComparison.OrdinalIgnoreCase) || v == "0" || v.Equals("off", StringComparison.OrdinalIgnoreCase) || v.Equals("no", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// One administrative operation, written once and offered by every front end under the same name, with the same
/// arguments and the same result: the <c>parley</c> CLI (<c>parley user add</c>), XEP-0050 ad-hoc commands
/// (node <c>urn:parley:admin:user-add</c>), the REST API (<c>POST /api/admin/user/add</c>) and the web console.
/// </summary>
/// <param name="Name">Words separated by a space, such as "user add".</param>
/// <param name="Description">One line for help texts.</param>
/// <param name="Parameters">Its arguments.</param>
/// <param name="ReadOnly">Whether it only reads (REST allows GET for it).</param>
/// <param name="Offline">Whether the CLI may run it against the data directory when no server runs.</param>
/// <param name="Run">The operation; arguments were validated against <paramref name="Parameters"/>.</param>
public sealed record AdminCommand(
    string Name,
    string Description,
    AdminParameter[] Parameters,
    bool ReadOnly,
    bool Offline,
    Func<IServiceProvider, AdminArguments, CancellationToken, Task<AdminResult>> Run)
{
    /// <summary>The REST path below /api/admin: "user add" is "user/add".</summary>
    public string Path => Name.Replace(' ', '/');

    /// <summary>The XEP-0050 node: "user add" is "urn:parley:admin:user-add".</summary>
    public string Node => "urn:parley:admin:" + Name.Replace(' ', '-');

    /// <summary>The parameter of a name, or null.</summary>
    public AdminParameter? Parameter(string name)
    {
        foreach (var p in Parameters)
            if (p.Name == name) return p;
        return null;
    }

    /// <summary>
    /// Checks arguments against the parameters: every required one given, no unknown ones, JIDs that parse,
    /// numbers that are numbers, flags that are flags. Null when they are fine, else why not.
    /// </summary>
    public string? Validate(AdminArguments arguments)
    {
        foreach (var (name, value) in arguments.Values)
        {
            var p = Parameter(name);
            if (p is null) return $"'{Name}' has no argument '{name}'";
            var problem = p.Kind switch
            {
                AdminParameterKind.Jid when !Protocol.Jid.TryParse(value, out _) => $"{name}: '{value}' is not a JID",
                AdminParameterKind.Number when !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _) => $"{name}: '{value}' is not a number",
                AdminParameterKind.Flag when !AdminArguments.IsTrue(value) && !AdminArguments.IsFalse(value) => $"{name}: '{value}' is not true or false",
                _ => null,
            };
            if (problem is not null) return problem;
        }
        foreach (var p in Parameters)
            if (p.Required && string.IsNullOrEmpty(arguments.Text(p.Name)))
                return $"{p.Name} is required";
        return null;
    }
}
