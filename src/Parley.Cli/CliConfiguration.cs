using Microsoft.Extensions.Configuration;

namespace Parley.Cli;

/// <summary>
/// The standard configuration stack: the --config JSON file, then PARLEY_ environment variables
/// (PARLEY_Domain, PARLEY_Tls__CertificatePath), then command-line overrides (--Domain=example.org), then --data.
/// </summary>
internal static class CliConfiguration
{
    public static IConfiguration Build(string? configFile, string? dataDirectory, IReadOnlyList<string> overrides)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new CliException($"Configuration file not found: {configFile}");
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables("PARLEY_");
        if (overrides.Count > 0) builder.AddCommandLine([.. overrides]);
        if (dataDirectory is not null)
            builder.AddInMemoryCollection([new KeyValuePair<string, string?>("DataDirectory", dataDirectory)]);
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw new CliException($"Cannot read configuration: {e.Message}");
        }
    }
}

/// <summary>A user-facing error: printed without a stack trace, exit code 2.</summary>
internal sealed class CliException(string message, int exitCode = 2) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
