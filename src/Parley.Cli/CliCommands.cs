using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Server;
using Parley.Server.Admin;
using Parley.Server.Connections;
using Parley.Server.Storage;

namespace Parley.Cli;

/// <summary>The commands of `parley`.</summary>
internal sealed class CliCommands(CliContext context, Option<string?> configOption, Option<string?> dataOption)
{
    private TextWriter Out => context.Out;

    public Command Serve()
    {
        var serve = new Command("serve", "Run the server (STARTTLS on 5222, direct TLS on 5223 by default)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        serve.SetAction(async (parse, ct) =>
        {
            var configuration = CliParse.Configuration(parse, configOption, dataOption);
            var server = ParleyServer.Create(configuration, logging => ConfigureLogging(logging, configuration));
            await using (server.ConfigureAwait(false))
            {
                try
                {
                    await server.StartAsync(ct).ConfigureAwait(false);
                }
                catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
                {
                    // Another process holds a configured port: say which, and exit 1 like a failed check, not a crash.
                    throw new CliException(e.Message + " Another server may be running; `parley check` lists the configured ports.", 1);
                }
                var o = server.Options;
                var listening = new StringBuilder();
                if (o.C2s.Enabled) listening.Append(" c2s STARTTLS port ").Append(server.Port("c2s"));
                if (o.C2sDirectTls.Enabled) listening.Append(", direct TLS port ").Append(server.Port("c2s-direct-tls"));
                if (o.S2s.Enabled) listening.Append(", s2s port ").Append(server.Port("s2s"));
                if (ParleyServer.HttpsOn(o)) listening.Append(", HTTPS port ").Append(server.Port("upload")).Append(" (/admin, /chat, /xmpp-websocket, /http-bind)");
                await Out.WriteLineAsync($"Parley is serving {o.Domain} on{listening}; data in {Path.GetFullPath(o.DataDirectory)}").ConfigureAwait(false);
                await Out.FlushAsync(ct).ConfigureAwait(false);
                await server.WaitForShutdownAsync(ct).ConfigureAwait(false);
            }
            return 0;
        });
        return serve;
    }

    public Command Online()
    {
        var count = new Option<bool>("--count") { Description = "Print only the number of online accounts" };
        var online = new Command("online", "List the accounts online on the running server (a short form of 'session list')") { TreatUnmatchedTokensAsErrors = false };
        online.Options.Add(count);
        online.SetAction(async (parse, ct) =>
        {
            var admin = new AdminCli(context, configOption, dataOption, PromptPasswordAsync);
            var result = await admin.RunAsync(parse, AdminCommandRegistry.Find("session list")!, new AdminArguments(), ct).ConfigureAwait(false);
            if (!result.Ok) throw new CliException(result.Message, 1);
            var accounts = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var row in result.Data?["sessions"]?.AsArray() ?? [])
                if (row?["jid"]?.GetValue<string>() is { } jid && Parley.Protocol.Jid.TryParse(jid, out var full)) accounts.Add(full.Bare.ToString());
            if (parse.GetValue(count))
            {
                await Out.WriteLineAsync(accounts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
                return 0;
            }
            foreach (var a in accounts) await Out.WriteLineAsync(a).ConfigureAwait(false);
            await Out.WriteLineAsync(result.Message).ConfigureAwait(false);
            return 0;
        });
        return online;
    }

    /// <summary>The registry's commands (user, session, room, announce, stats, cert status, config, log, token).</summary>
    public AdminCli Admin() => new(context, configOption, dataOption, PromptPasswordAsync);

    public Command Cert()
    {
        var cert = new Command("cert", "Show or generate the server certificate");
        var show = new Command("show", "Describe the certificate the server uses") { TreatUnmatchedTokensAsErrors = false };
        show.SetAction(async (parse, ct) =>
        {
            var options = ParleyServer.BindOptions(Configuration(parse));
            var (certPath, keyPath) = CertificatePaths(options);
            if (!File.Exists(certPath))
                throw new CliException($"No certificate at {certPath}; run 'parley cert generate' or start the server once", 1);
            using var certificate = X509CertificateLoader.LoadCertificateFromFile(certPath);
            await Out.WriteLineAsync(Describe(certificate, certPath, keyPath, options.Domain)).ConfigureAwait(false);
            return 0;
        });
        var force = new Option<bool>("--force") { Description = "Replace an existing generated certificate" };
        var generate = new Command("generate", "Generate a self-signed certificate for the domain in the data directory") { TreatUnmatchedTokensAsErrors = false };
        generate.Options.Add(force);
        generate.SetAction(async (parse, ct) =>
        {
            var options = ParleyServer.BindOptions(Configuration(parse));
            var domain = Parley.Protocol.Jid.Create(null, options.Domain).Domain;
            var (certPath, keyPath) = TlsCertificateProvider.GeneratedPaths(options.DataDirectory, domain);
            if (File.Exists(certPath) && !parse.GetValue(force))
                throw new CliException($"{certPath} exists; use --force to replace it", 1);
            using var certificate = TlsCertificateProvider.Generate(domain, certPath, keyPath);
            await Out.WriteLineAsync(Describe(certificate, certPath, keyPath, domain)).ConfigureAwait(false);
            return 0;
        });
        cert.Subcommands.Add(show);
        cert.Subcommands.Add(generate);
        return cert;
    }

    public Command Check()
    {
        var check = new Command("check", "Check the configuration, the certificate and that the ports are free") { TreatUnmatchedTokensAsErrors = false };
        check.SetAction(async (parse, ct) =>
        {
            var options = ParleyServer.BindOptions(Configuration(parse));
            var problems = 0;
            await Out.WriteLineAsync($"ok   configuration (domain {options.Domain}, data {Path.GetFullPath(options.DataDirectory)})").ConfigureAwait(false);

            var (certPath, keyPath) = CertificatePaths(options);
            if (!File.Exists(certPath))
            {
                var line = options.Tls.CertificatePath is null
                    ? $"ok   certificate: none yet; a self-signed one is generated at {certPath} on first start"
                    : $"FAIL certificate: {certPath} does not exist";
                if (line.StartsWith("FAIL", StringComparison.Ordinal)) problems++;
                await Out.WriteLineAsync(line).ConfigureAwait(false);
            }
            else
            {
                foreach (var (ok, message) in CheckCertificate(certPath, keyPath, options.Domain))
                {
                    if (!ok) problems++;
                    await Out.WriteLineAsync((ok ? "ok   " : "FAIL ") + message).ConfigureAwait(false);
                }
            }

            // The HTTPS listener serves upload, XMPP over WebSocket and BOSH.
            var https = new ListenerOptions { Enabled = ParleyServer.HttpsOn(options), Address = options.Upload.Address, Port = options.Upload.Port };
            foreach (var (name, listener) in new[] { ("c2s", options.C2s), ("c2s direct TLS", options.C2sDirectTls), ("s2s", options.S2s.Listener), ("HTTPS (upload, WebSocket, BOSH)", https) })
            {
                if (!listener.Enabled) continue;
                var free = PortFree(listener);
                if (!free) problems++;
                await Out.WriteLineAsync($"{(free ? "ok  " : "FAIL")} {name} port {listener.Port} on {listener.Address} {(free ? "is free" : "is in use")}").ConfigureAwait(false);
            }
            return problems == 0 ? 0 : 1;
        });
        return check;
    }

    private IConfiguration Configuration(ParseResult parse) => CliParse.Configuration(parse, configOption, dataOption);

    private static void ConfigureLogging(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.AddConfiguration(configuration.GetSection("Logging"));
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
        });
        if (configuration["Logging:LogLevel:Default"] is null) logging.SetMinimumLevel(LogLevel.Information);
        // Kestrel's own start-up lines call the XMPP ports "http://"; Parley prints its own line instead.
        if (configuration["Logging:LogLevel:Microsoft"] is null) logging.AddFilter("Microsoft", LogLevel.Warning);
    }

    internal async Task<string> PromptPasswordAsync(CancellationToken ct)
    {
        if (context.In is { } reader) return (await reader.ReadLineAsync(ct).ConfigureAwait(false)) ?? "";
        if (Console.IsInputRedirected) return (await Console.In.ReadLineAsync(ct).ConfigureAwait(false)) ?? "";
        await context.Error.WriteAsync("Password: ").ConfigureAwait(false);
        var first = ReadHidden();
        await context.Error.WriteAsync("Again: ").ConfigureAwait(false);
        var second = ReadHidden();
        if (first != second) throw new CliException("The passwords differ");
        return first;
    }

    private static string ReadHidden()
    {
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0) sb.Length--;
                continue;
            }
            sb.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return sb.ToString();
    }

    private static (string Certificate, string Key) CertificatePaths(ParleyOptions options) =>
        options.Tls.CertificatePath is not null && options.Tls.KeyPath is not null
            ? (options.Tls.CertificatePath, options.Tls.KeyPath)
            : TlsCertificateProvider.GeneratedPaths(options.DataDirectory, Parley.Protocol.Jid.Create(null, options.Domain).Domain);

    private static string Describe(X509Certificate2 certificate, string certPath, string keyPath, string domain)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Certificate: {Path.GetFullPath(certPath)}");
        sb.AppendLine($"Key:         {Path.GetFullPath(keyPath)}");
        sb.AppendLine($"Subject:     {certificate.Subject}");
        sb.AppendLine($"Issuer:      {certificate.Issuer}{(certificate.Subject == certificate.Issuer ? " (self-signed)" : "")}");
        sb.AppendLine($"DNS names:   {string.Join(", ", DnsNames(certificate))}");
        sb.AppendLine($"Valid:       {certificate.NotBefore:u} to {certificate.NotAfter:u}");
        sb.AppendLine($"SHA-256:     {Convert.ToHexString(SHA256.HashData(certificate.RawData))}");
        sb.Append($"Matches {domain}: {(Matches(certificate, domain) ? "yes" : "no")}");
        return sb.ToString();
    }

    private static IEnumerable<(bool Ok, string Message)> CheckCertificate(string certPath, string keyPath, string domain)
    {
        X509Certificate2? certificate = null;
        string? loadError = null;
        try
        {
            certificate = TlsCertificateProvider.LoadPem(certPath, keyPath).Leaf;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            loadError = e.Message;
        }
        if (certificate is null)
        {
            yield return (false, $"certificate {certPath} with key {keyPath} cannot be loaded: {loadError}");
            yield break;
        }
        using (certificate)
        {
            yield return (true, $"certificate {certPath} loads with its key");
            yield return (Matches(certificate, domain), $"certificate names {string.Join(", ", DnsNames(certificate))} {(Matches(certificate, domain) ? "cover" : "do not cover")} {domain}");
            var now = DateTime.UtcNow;
            var valid = certificate.NotBefore <= now && certificate.NotAfter > now;
            yield return (valid, $"certificate valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}");
        }
    }

    private static List<string> DnsNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var ext in certificate.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san)
                names.AddRange(san.EnumerateDnsNames());
        return names;
    }

    private static bool Matches(X509Certificate2 certificate, string domain) => certificate.MatchesHostname(domain, allowWildcards: true, allowCommonName: false);

    private static bool PortFree(ListenerOptions listener)
    {
        if (listener.Port == 0) return true;
        var address = listener.Address switch
        {
            "any" => IPAddress.Any,
            "loopback" => IPAddress.Loopback,
            _ => IPAddress.Parse(listener.Address),
        };
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, listener.Port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
