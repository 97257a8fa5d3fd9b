using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Parley.Cli;

/// <summary>The `parley` command line: serve, the administrative commands (user, session, room, announce, stats, cert,
/// config, log, token), online, check, send and chat.</summary>
public static class ParleyCli
{
    /// <summary>
    /// Runs the command line with <paramref name="args"/>; returns the exit code. <paramref name="environment"/>, when
    /// given, stands for the process environment where a command reads one (PARLEY_PASSWORD for send and chat).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, TextReader? input = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var context = new CliContext(output ?? Console.Out, error ?? Console.Error, input)
        {
            Environment = environment is null ? System.Environment.GetEnvironmentVariable : name => environment.GetValueOrDefault(name),
        };
        var root = Build(context);
        var parse = root.Parse(args);
        var config = new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false };
        try
        {
            var code = await parse.InvokeAsync(config).ConfigureAwait(false);
            // System.CommandLine answers a parse error with 1; here 1 is a failed operation and 2 bad input.
            return parse.Errors.Count > 0 ? 2 : code;
        }
        catch (CliException e)
        {
            await context.Error.WriteLineAsync("parley: " + e.Message).ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (OptionsValidationException e)
        {
            await context.Error.WriteLineAsync("parley: invalid configuration:").ConfigureAwait(false);
            foreach (var failure in e.Failures)
                await context.Error.WriteLineAsync("  " + failure).ConfigureAwait(false);
            return 2;
        }
    }

    internal static RootCommand Build(CliContext context)
    {
        var configOption = new Option<string?>("--config") { Description = "A JSON configuration file", Recursive = true };
        var dataOption = new Option<string?>("--data") { Description = "The data directory (default: ./data)", Recursive = true };
        var root = new RootCommand("Parley: an XMPP server, client library and tools");
        root.Options.Add(configOption);
        root.Options.Add(dataOption);
        var commands = new CliCommands(context, configOption, dataOption);
        root.Subcommands.Add(commands.Serve());
        root.Subcommands.Add(commands.Online());
        root.Subcommands.Add(commands.Cert());
        commands.Admin().AddTo(root);
        root.Subcommands.Add(commands.Check());
        root.Subcommands.Add(new SendCommand(context).Build());
        root.Subcommands.Add(new Chat.ChatCommand(context).Build());
        return root;
    }
}

/// <summary>Where a command reads and writes, and where it looks up environment variables.</summary>
internal sealed record CliContext(TextWriter Out, TextWriter Error, TextReader? In)
{
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>Helpers shared by the commands.</summary>
internal static class CliParse
{
    public static IConfiguration Configuration(ParseResult parse, Option<string?> config, Option<string?> data) =>
        CliConfiguration.Build(parse.GetValue(config), parse.GetValue(data), parse.UnmatchedTokens);
}
