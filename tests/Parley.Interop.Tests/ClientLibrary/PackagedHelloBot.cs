using System.Diagnostics;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// What a developer does with the library (issue M5, "done when"): `dotnet pack` Parley.Protocol and Parley.Client,
/// a new console app that references the Parley.Client package from that folder only, samples/HelloBot's Program.cs
/// copied into it, built. Made once per test run, in a temporary folder with its own package cache.
/// </summary>
public static class PackagedHelloBot
{
    private static readonly Lazy<Task<string>> Built = new(BuildAsync);

    /// <summary>The consumer app's built dll.</summary>
    public static Task<string> DllAsync() => Built.Value;

    private static async Task<string> BuildAsync()
    {
        var sample = BuiltOutput.Dll("samples/HelloBot", "HelloBot.dll");
        var root = sample[..sample.IndexOf("/samples/", StringComparison.Ordinal)];
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var work = Path.Combine(Path.GetTempPath(), "parley-consumer-" + Guid.NewGuid().ToString("N"));
        var feed = Path.Combine(work, "feed");
        var app = Path.Combine(work, "app");
        Directory.CreateDirectory(app);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        foreach (var project in new[] { "src/Parley.Protocol", "src/Parley.Client" })
            await RunAsync(root, "pack", project, "-c", configuration, "--no-build", "-o", feed);
        var version = Path.GetFileNameWithoutExtension(Directory.GetFiles(feed, "Parley.Client.*.nupkg").Single())["Parley.Client.".Length..];
        await File.WriteAllTextAsync(Path.Combine(app, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Parley.Client" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="parley" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.Copy(Path.Combine(root, "samples", "HelloBot", "Program.cs"), Path.Combine(app, "Program.cs"));
        await RunAsync(app, "build", "-c", "Release", "--packages", Path.Combine(work, "packages"), "-o", Path.Combine(work, "out"));
        return Path.Combine(work, "out", "consumer.dll");
    }

    private static async Task RunAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} failed:\n{await output}\n{await error}");
    }
}
