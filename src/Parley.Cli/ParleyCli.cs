using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Parley.Cli;

/// <summary>The `parley` command line: serve, user, online, announce, cert and check.</summary>
public static class ParleyCli
{
    /// <summary>Runs the command line with <paramref name="args"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, TextReader? input = null)
    {
        var context = new CliContext(output ?? Console.Out, error ?? Console.Error, input);
        var root = Build(context);
        var parse = root.Parse(args);
        var config = new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(config).ConfigureAwait(false);
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
        root.Subcommands.Add(commands.User());
        root.Subcommands.Add(commands.Online());
        root.Subcommands.Add(commands.Announce());
        root.Subcommands.Add(commands.Cert());
        root.Subcommands.Add(commands.Check());
        return root;
    }
}

/// <summary>Where a command reads and writes.</summary>
internal sealed record CliContext(TextWriter Out, TextWriter Error, TextReader? In);

/// <summary>Helpers shared by the commands.</summary>
internal static class CliParse
{
    public static IConfiguration Configuration(ParseResult parse, Option<string?> config, Option<string?> data) =>
        CliConfiguration.Build(parse.GetValue(config), parse.GetValue(data), parse.UnmatchedTokens);
}
