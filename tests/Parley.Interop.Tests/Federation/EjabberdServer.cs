using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Interop.Tests.Gateway;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Interop.Tests.Federation;

/// <summary>
/// Debian's ejabberd on loopback, never the system instance: the Erlang VM started directly as a child process
/// (what /usr/sbin/ejabberdctl's "foreground" does, without its switch to the ejabberd user) with its own configuration,
/// Mnesia spool, log and certificate in a scratch folder, and no Erlang distribution (so no node name, cookie or epmd).
/// Its resolver reads a private inetrc (ERL_INETRC) whose only name server is the test's (<see cref="TestDns"/>): ejabberd
/// looks s2s names up with inet_res (SRV, then A), which reads no hosts file, so a name server is the one private way in
/// (its last resort, getaddrinfo, would read the system's /etc/hosts). One account is registered at start-up.
/// </summary>
internal sealed class EjabberdServer : IAsyncDisposable
{
    public const string Domain = "ejabberd.example";
    public const string User = "bob";
    public const string Password = "ejabberd-secret";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "parley-ejabberd-" + Guid.NewGuid().ToString("N"));
    private byte[] _certificate = [];
    private ChildProcess? _process;

    /// <summary>ejabberd's client port on 127.0.0.1.</summary>
    public int C2sPort { get; } = ChildProcess.FreePort();

    /// <summary>ejabberd's server port on 127.0.0.1.</summary>
    public int S2sPort { get; } = ChildProcess.FreePort();

    /// <summary>
    /// Starts ejabberd, which asks the name server at <paramref name="dns"/> where other servers are. With
    /// <paramref name="ca"/>, its certificate comes from that CA, which it trusts, and dialback is off (SASL EXTERNAL
    /// only); otherwise it has a self-signed certificate and mod_s2s_dialback.
    /// </summary>
    public async Task StartAsync(IPEndPoint dns, TestCa? ca)
    {
        // Debian installs the release's applications beside the other Erlang libraries of the architecture.
        var libs = Directory.Exists("/usr/lib") ? Directory.GetDirectories("/usr/lib", "*-linux-gnu")
            .FirstOrDefault(d => Directory.GetDirectories(d, "ejabberd-*").Length > 0) : null;
        if (!File.Exists("/usr/sbin/ejabberdctl") || libs is null)
            throw new InvalidOperationException("Debian's ejabberd is not installed: run the README's test command as root, or apt-get install ejabberd");
        Directory.CreateDirectory(_dir);
        var certificate = Path.Combine(_dir, "cert.pem");
        var key = Path.Combine(_dir, "key.pem");
        if (ca is not null)
        {
            var (issuedCert, issuedKey) = ca.Issue(Domain);
            File.Copy(issuedCert, certificate);
            File.Copy(issuedKey, key);
            using var issued = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificate));
            _certificate = issued.RawData;
        }
        else
        {
            // DNS names only: ejabberd 23.01 ends the stream when a certificate carries an xmppAddr.
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=" + Domain, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(Domain);
            request.CertificateExtensions.Add(san.Build());
            using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            _certificate = selfSigned.RawData;
            await File.WriteAllTextAsync(certificate, selfSigned.ExportCertificatePem() + "\n");
            await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem() + "\n");
        }

        var ns = dns.Address.GetAddressBytes();
        var inetrc = Path.Combine(_dir, "inetrc");
        await File.WriteAllTextAsync(inetrc, $$"""
            {resolv_conf, ""}.
            {hosts_file, ""}.
            {nameserver, {{{ns[0]}},{{ns[1]}},{{ns[2]}},{{ns[3]}}}, {{dns.Port}}}.
            {lookup, [dns]}.

            """);
        var config = Path.Combine(_dir, "ejabberd.yml");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $$"""
            hosts:
              - "{{Domain}}"
            loglevel: info
            certfiles:
              - "{{certificate}}"
              - "{{key}}"
            {{(ca is null ? "" : $"ca_file: \"{ca.CertificatePath}\"\ns2s_cafile: \"{ca.CertificatePath}\"")}}
            listen:
              -
                port: {{C2sPort}}
                ip: "127.0.0.1"
                module: ejabberd_c2s
                starttls_required: true
              -
                port: {{S2sPort}}
                ip: "127.0.0.1"
                module: ejabberd_s2s_in
            s2s_use_starttls: required
            outgoing_s2s_port: 5269
            outgoing_s2s_families:
              - ipv4
            auth_method: internal
            access_rules:
              c2s:
                allow: all
            modules:
              mod_roster: {}
              mod_disco: {}
            {{(ca is null ? "  mod_s2s_dialback: {}" : "")}}

            """));
        var spool = Path.Combine(_dir, "spool");
        Directory.CreateDirectory(spool);
        _process = ChildProcess.Start("/usr/bin/erl",
            [
                "-noinput", "-noshell",
                "-mnesia", "dir", "\"" + spool + "\"",
                "-s", "ejabberd",
                // After -s ejabberd has returned, the application is started: register the account in-process.
                "-eval", $"io:format(\"registered ~p~n\", [ejabberd_auth:try_register(<<\"{User}\">>, <<\"{Domain}\">>, <<\"{Password}\">>)]).",
            ],
            "ejabberd",
            new Dictionary<string, string>
            {
                ["EJABBERD_CONFIG_PATH"] = config,
                ["EJABBERD_LOG_PATH"] = Path.Combine(_dir, "ejabberd.log"),
                ["ERL_LIBS"] = libs,
                ["ERL_INETRC"] = inetrc,
                ["ERL_CRASH_DUMP"] = Path.Combine(_dir, "erl_crash.dump"),
            });
        await _process.WaitUntilAsync(() => _process.Output.Contains("registered ", StringComparison.Ordinal), "ejabberd's start-up", TimeSpan.FromSeconds(60));
        if (!_process.Output.Contains("registered ok", StringComparison.Ordinal))
            throw new InvalidOperationException("ejabberd did not register the test account: " + Log());
        await _process.WaitForPortAsync(C2sPort, TimeSpan.FromSeconds(20));
        await _process.WaitForPortAsync(S2sPort, TimeSpan.FromSeconds(20));
    }

    /// <summary>Options for the registered user's client, trusting exactly ejabberd's certificate.</summary>
    public XmppClientOptions Options(string resource) => new()
    {
        Jid = Jid.Create(User, Domain, resource),
        Password = Password,
        Host = "127.0.0.1",
        Port = C2sPort,
        CertificateValidation = (_, c, _, _) => c is not null && c.GetRawCertData().AsSpan().SequenceEqual(_certificate),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>What ejabberd printed and logged.</summary>
    public string Log()
    {
        var log = Path.Combine(_dir, "ejabberd.log");
        return (_process?.Output ?? "") + (File.Exists(log) ? File.ReadAllText(log) : "(no log)");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
