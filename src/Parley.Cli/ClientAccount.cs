using System.CommandLine;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>The exit codes of the client commands (`send`, `chat`), as README's CLI table lists them.</summary>
internal static class ClientExit
{
    public const int BadArguments = 2;
    public const int Connection = 3;
    public const int Authentication = 4;
    public const int Refused = 5;
}

/// <summary>
/// How `send` and `chat` log in: --jid; the password from PARLEY_PASSWORD or --password-file, never from an option
/// (every user of the machine can read a command line in the process list); --host/--port, --direct-tls,
/// --cert-file to trust a self-signed server, --insecure to trust anything.
/// </summary>
internal sealed class ClientAccount(CliContext context)
{
    public const string PasswordVariable = "PARLEY_PASSWORD";

    private readonly Option<string> _jid = new("--jid") { Description = "The account: user@domain", Required = true };
    private readonly Option<string?> _passwordFile = new("--password-file") { Description = $"A file holding the password (default: the {PasswordVariable} environment variable)" };
    private readonly Option<string?> _host = new("--host") { Description = "The server's host name or address (default: the JID's domain)" };
    private readonly Option<int?> _port = new("--port") { Description = "The port (default: 5222, or 5223 with --direct-tls)" };
    private readonly Option<bool> _directTls = new("--direct-tls") { Description = "TLS from the first byte (XEP-0368) instead of STARTTLS" };
    private readonly Option<string?> _certFile = new("--cert-file") { Description = "A PEM certificate to trust besides the system's (e.g. a Parley server's data/tls/<domain>.crt)" };
    private readonly Option<bool> _insecure = new("--insecure") { Description = "Accept any server certificate (for tests only)" };

    // An option only so that its use gets a clear refusal instead of "unrecognized argument".
    private readonly Option<string?> _password = new("--password") { Hidden = true };

    /// <summary>Adds the account options to a command.</summary>
    public void AddTo(Command command)
    {
        _password.Validators.Add(result => result.AddError(
            $"The password is never taken from the command line (others can read it in the process list): set {PasswordVariable} or use --password-file"));
        foreach (var option in (Option[])[_jid, _passwordFile, _host, _port, _directTls, _certFile, _insecure, _password])
            command.Options.Add(option);
    }

    /// <summary>The options to connect with; a missing password or a bad value is a <see cref="CliException"/> with exit code 2.</summary>
    public async Task<XmppClientOptions> ResolveAsync(ParseResult parse, CancellationToken ct)
    {
        var text = parse.GetValue(_jid)!;
        if (!Jid.TryParse(text, out var jid) || jid.Local is null)
            throw new CliException($"'{text}' is not an account JID (expected user@domain)", ClientExit.BadArguments);

        string password;
        if (parse.GetValue(_passwordFile) is { } file)
        {
            try
            {
                // The first line: a file written by `echo` ends with a newline that is not part of the password.
                password = (await File.ReadAllTextAsync(file, ct).ConfigureAwait(false)).Split('\n')[0].TrimEnd('\r');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"Cannot read the password file: {e.Message}", ClientExit.BadArguments);
            }
        }
        else
        {
            password = context.Environment(PasswordVariable) ?? "";
        }
        if (password.Length == 0)
            throw new CliException($"No password: set {PasswordVariable} or use --password-file", ClientExit.BadArguments);

        var directTls = parse.GetValue(_directTls);
        var port = parse.GetValue(_port) ?? (directTls ? 5223 : 5222);
        if (port is < 1 or > 65535) throw new CliException($"--port {port} is not a TCP port", ClientExit.BadArguments);

        X509Certificate2? trusted = null;
        if (parse.GetValue(_certFile) is { } certFile)
        {
            try
            {
                trusted = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certFile, ct).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new CliException($"Cannot read the certificate {certFile}: {e.Message}", ClientExit.BadArguments);
            }
        }
        var insecure = parse.GetValue(_insecure);
        if (insecure)
            await context.Error.WriteLineAsync("parley: warning: --insecure: the server's certificate is not checked, so anyone between here and the server can read and change this session").ConfigureAwait(false);
        Certificates = new CertificatePolicy(insecure, trusted);

        return new XmppClientOptions
        {
            Jid = jid,
            Password = password,
            Host = parse.GetValue(_host),
            Port = port,
            DirectTls = directTls,
            CertificateValidation = (_, certificate, _, errors) => Certificates.Accepts(certificate, errors),
            ClientName = "parley",
        };
    }

    /// <summary>Which server certificates the session accepts, for XMPP and for HTTP upload alike.</summary>
    public CertificatePolicy Certificates { get; private set; } = new(false, null);

    /// <summary>Connects and logs in; failures become <see cref="CliException"/>s with the connection or authentication exit code.</summary>
    public static async Task<XmppClient> ConnectAsync(XmppClientOptions options, CancellationToken ct)
    {
        var client = new XmppClient(options);
        var where = $"{options.Host ?? options.Jid.Domain}:{options.Port}";
        try
        {
            await client.ConnectAsync(ct).ConfigureAwait(false);
            return client;
        }
        catch (Exception e)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw e switch
            {
                XmppAuthenticationException a => new CliException($"{options.Jid.Bare}: {a.Message}", ClientExit.Authentication),
                AuthenticationException => new CliException($"TLS with {where} failed: {e.Message} (trust the server with --cert-file)", ClientExit.Connection),
                OperationCanceledException when !ct.IsCancellationRequested => new CliException($"{where} did not complete the login within {options.ConnectTimeout.TotalSeconds:0} s", ClientExit.Connection),
                SocketException or IOException or XmppNegotiationException or TimeoutException => new CliException($"Cannot connect to {where}: {e.Message}", ClientExit.Connection),
                _ => e,
            };
        }
    }
}

/// <summary>Accepts a certificate the system trusts, the one given with --cert-file, or with --insecure any.</summary>
internal sealed record CertificatePolicy(bool Insecure, X509Certificate2? Trusted)
{
    public bool Accepts(X509Certificate? certificate, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None || Insecure
        || (Trusted is not null && certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(Trusted.RawData));

    /// <summary>An HTTP client (for XEP-0363 uploads) that trusts the same certificates.</summary>
    public HttpClient CreateHttpClient() => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => Accepts(certificate, errors),
    });
}
