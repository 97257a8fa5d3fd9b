using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server;
using Parley.Server.Admin;
using Parley.Server.Storage;

namespace Parley.Cli;

/// <summary>
/// The CLI face of the <see cref="AdminCommandRegistry"/>: one command per registry entry ("user add" is
/// <c>parley user add</c>), required arguments positional or as options, flags as switches. A running server is
/// asked through the admin socket; when none answers, commands that allow it run against the data directory.
/// Lists go to standard output one item (or table row) per line, the sentence otherwise; <c>--json</c> prints
/// the result as the REST API returns it. Exit codes: 0 done, 1 refused (missing, exists, no server), 2 bad input.
/// </summary>
internal sealed class AdminCli(CliContext context, Option<string?> configOption, Option<string?> dataOption, Func<CancellationToken, Task<string>> promptPassword)
{
    private static readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON (as the REST API returns it)" };

    /// <summary>Adds every registry command under <paramref name="root"/>, reusing groups that exist (such as cert).</summary>
    public void AddTo(Command root)
    {
        foreach (var command in AdminCommandRegistry.All)
        {
            var words = command.Name.Split(' ');
            var parent = root;
            for (var i = 0; i < words.Length - 1; i++)
            {
                Command? group = null;
                foreach (var sub in parent.Subcommands)
                    if (sub.Name == words[i]) group = sub;
                if (group is null)
                {
                    group = new Command(words[i], GroupDescription(words[i]));
                    parent.Subcommands.Add(group);
                }
                parent = group;
            }
            parent.Subcommands.Add(Build(command, words[^1]));
        }
    }

    private static string GroupDescription(string word) => word switch
    {
        "user" => "Manage accounts",
        "session" => "List and end sessions",
        "room" => "Manage the rooms of the chat service",
        "config" => "Show the configuration",
        "log" => "Read the server log",
        "token" => "Manage REST API tokens",
        _ => word,
    };

    private Command Build(AdminCommand admin, string word)
    {
        var command = new Command(word, admin.Description + (admin.Offline ? "" : " (on the running server)")) { TreatUnmatchedTokensAsErrors = false };
        var arguments = new List<(AdminParameter, Argument<string>)>();
        var texts = new List<(AdminParameter, Option<string?>)>();
        var flags = new List<(AdminParameter, Option<bool>)>();
        foreach (var p in admin.Parameters)
        {
            if (p.Positional)
            {
                var argument = new Argument<string>(p.Name) { Description = p.Description };
                command.Arguments.Add(argument);
                arguments.Add((p, argument));
            }
            else if (p.Kind == AdminParameterKind.Flag)
            {
                var option = new Option<bool>("--" + p.Name) { Description = p.Description };
                command.Options.Add(option);
                flags.Add((p, option));
            }
            else
            {
                var option = new Option<string?>("--" + p.Name) { Description = p.Description + (p.Kind == AdminParameterKind.Secret ? " (prompted for when left out)" : "") };
                command.Options.Add(option);
                texts.Add((p, option));
            }
        }
        command.Options.Add(Json);
        command.SetAction(async (parse, ct) =>
        {
            var args = new AdminArguments();
            foreach (var (p, a) in arguments) args.Set(p.Name, parse.GetValue(a));
            foreach (var (p, o) in flags)
                if (parse.GetValue(o)) args.Set(p.Name, "true");
            foreach (var (p, o) in texts)
            {
                var value = parse.GetValue(o);
                if (value is null && p.Kind == AdminParameterKind.Secret && p.Required) value = await promptPassword(ct).ConfigureAwait(false);
                args.Set(p.Name, value);
            }
            var result = await RunAsync(parse, admin, args, ct).ConfigureAwait(false);
            await PrintAsync(result, admin, parse.GetValue(Json)).ConfigureAwait(false);
            return result.Outcome switch
            {
                AdminOutcome.Ok => 0,
                AdminOutcome.BadRequest => 2,
                _ => 1,
            };
        });
        return command;
    }

    /// <summary>Runs a registry command on the running server, or here against the data directory when it may.</summary>
    public async Task<AdminResult> RunAsync(ParseResult parse, AdminCommand admin, AdminArguments args, CancellationToken ct)
    {
        // Bad arguments are refused before anything is opened or asked.
        if (admin.Validate(args) is { } problem) return AdminResult.Bad(problem);
        var configuration = CliParse.Configuration(parse, configOption, dataOption);
        var options = ParleyServer.BindOptions(configuration);
        var socket = options.AdminSocket.Enabled ? options.AdminSocket.ResolvePath(options.DataDirectory) : null;
        if (socket is not null)
        {
            var request = new JsonObject { ["command"] = "run", ["name"] = admin.Name, ["args"] = ToJson(args) };
            if (await AdminSocketClient.SendAsync(socket, request, ct).ConfigureAwait(false) is { } reply)
                return AdminResult.FromJson(reply);
        }
        if (!admin.Offline)
            throw new CliException(socket is null
                ? "The admin socket is disabled (AdminSocket:Enabled), so the running server cannot be reached"
                : $"No running server answers on {socket}; start it with 'parley serve' (same --data and --config)", 1);
        await using var services = ParleyServer.CreateServices(configuration);
        await services.GetRequiredService<IStorage>().InitializeAsync(ct).ConfigureAwait(false);
        return await services.GetRequiredService<AdminCommandRegistry>().ExecuteAsync(admin, args, "cli (offline)", ct).ConfigureAwait(false);
    }

    private static JsonObject ToJson(AdminArguments args)
    {
        var o = new JsonObject();
        foreach (var (k, v) in args.Values) o[k] = v;
        return o;
    }

    private async Task PrintAsync(AdminResult result, AdminCommand admin, bool json)
    {
        if (json)
        {
            await context.Out.WriteLineAsync(result.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })).ConfigureAwait(false);
            return;
        }
        if (!result.Ok)
        {
            await context.Error.WriteLineAsync("parley: " + result.Message).ConfigureAwait(false);
            return;
        }
        // A table (an array of objects) prints as one; so does a lone list (user list): one item per line, for scripts.
        var printedList = false;
        if (result.Data is { } data)
            foreach (var (_, value) in data)
                if (value is JsonArray { Count: > 0 } array && (array[0] is JsonObject || data.Count == 1))
                {
                    await context.Out.WriteAsync(Render(array)).ConfigureAwait(false);
                    printedList = true;
                }
        if (printedList) return;
        await context.Out.WriteLineAsync(result.Message).ConfigureAwait(false);
        if (admin.ReadOnly && result.Data is { } scalars)
            foreach (var (key, value) in scalars)
                await context.Out.WriteLineAsync($"  {key}: {Text(value)}").ConfigureAwait(false);
    }

    /// <summary>A list one item per line; a list of objects as a table with a header, columns padded.</summary>
    internal static string Render(JsonArray array)
    {
        var sb = new StringBuilder();
        if (array.Count == 0 || array[0] is not JsonObject first)
        {
            foreach (var item in array) sb.Append(Text(item)).Append('\n');
            return sb.ToString();
        }
        var columns = new List<string>();
        foreach (var (key, _) in first) columns.Add(key);
        var widths = new int[columns.Count];
        for (var c = 0; c < columns.Count; c++) widths[c] = columns[c].Length;
        var rows = new List<string[]>(array.Count);
        foreach (var item in array)
        {
            var row = new string[columns.Count];
            for (var c = 0; c < columns.Count; c++)
            {
                row[c] = Text((item as JsonObject)?[columns[c]]);
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
            rows.Add(row);
        }
        void Line(string[] cells)
        {
            for (var c = 0; c < cells.Length; c++)
            {
                if (c == cells.Length - 1) sb.Append(cells[c]);
                else sb.Append(cells[c].PadRight(widths[c] + 2));
            }
            sb.Append('\n');
        }
        Line([.. columns.ConvertAll(c => c.ToUpperInvariant())]);
        foreach (var row in rows) Line(row);
        return sb.ToString();
    }

    internal static string Text(JsonNode? node) => AdminResult.Display(node);
}
