using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// Debian's prosody on loopback with its own configuration, data directory, certificate and ports in a scratch
/// folder (never the system instance): the independent server the client library is proven against. The README's
/// test command installs prosody when run as root; without it this fixture fails, it does not skip.
/// </summary>
public sealed class ProsodyTarget : IXmppTarget, IAsyncLifetime
{
    public const string Password = "prosody-secret";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "parley-prosody-" + Guid.NewGuid().ToString("N"));
    private Process? _process;
    private byte[] _certificate = [];
    private int _c2s;
    private int _direct;
    private int _component;
    private readonly ProsodyFederation? _federation;
    private int _s2s;

    public ProsodyTarget() : this(null)
    {
    }

    /// <summary>With server-to-server federation on (see <see cref="ProsodyFederation"/>).</summary>
    internal ProsodyTarget(ProsodyFederation? federation) => _federation = federation;

    /// <summary>prosody's s2s port (only with federation).</summary>
    public int S2sPort => _s2s;

    /// <summary>An external component's domain (XEP-0114) and its secret.</summary>
    public string Gateway => "gw." + Domain;

    public const string ComponentSecret = "component-secret";

    /// <summary>Options for the component connection.</summary>
    public XmppClientOptions ComponentOptions(string secret = ComponentSecret) => new()
    {
        Jid = Jid.Create(null, Gateway),
        Password = secret,
        Host = "127.0.0.1",
        Port = _component,
        Component = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(10),
    };

    public string Name => "prosody";

    public string Domain => "prosody.test";

    public string Conference => "conference.prosody.test";

    public HttpClient Http { get; } = new();

    public string CertificateFile => Path.Combine(_dir, "cert.pem");

    public int Port => _c2s;

    public XmppClientOptions Options(string user, string? resource = null, bool directTls = false, string? password = null) => new()
    {
        Jid = Jid.Create(user, Domain, resource),
        Password = password ?? Password,
        Host = "127.0.0.1",
        Port = directTls ? _direct : _c2s,
        DirectTls = directTls,
        CertificateValidation = (_, c, _, _) => c is not null && c.GetRawCertData().AsSpan().SequenceEqual(_certificate),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(10),
    };

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/bin/prosody"))
            throw new InvalidOperationException("Debian's prosody is not installed: run the README's test command as root, or apt-get install prosody");
        Directory.CreateDirectory(Path.Combine(_dir, "data"));
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=" + Domain, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(Domain);
            san.AddDnsName("*." + Domain);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            _certificate = cert.RawData;
            await File.WriteAllTextAsync(Path.Combine(_dir, "cert.pem"), cert.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(_dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        }
        if (_federation?.Issue is { } issue)
        {
            // A certificate from the federation's test CA instead (SASL EXTERNAL between servers).
            var (certPath, keyPath) = issue(Domain);
            File.Copy(certPath, Path.Combine(_dir, "cert.pem"), overwrite: true);
            File.Copy(keyPath, Path.Combine(_dir, "key.pem"), overwrite: true);
            using var issued = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
            _certificate = issued.RawData;
        }
        _c2s = FreePort();
        _direct = FreePort();
        _component = FreePort();
        var http = FreePort();
        var s2sConfig = """
            s2s_ports = {}
            modules_disabled = { "s2s" }
            """;
        if (_federation is { } federation)
        {
            _s2s = FreePort();
            // prosody resolves through libunbound and, by default, ignores hosts files: this one, of its own, names
            // the Parley domains. Parley reaches prosody through a static route instead.
            var hosts = Path.Combine(_dir, "hosts");
            await File.WriteAllLinesAsync(hosts, federation.Hosts.Select(h => $"{h.Address} {h.Name}"));
            s2sConfig = $$"""
                s2s_ports = { {{_s2s}} }
                s2s_interfaces = { "127.0.0.1" }
                s2s_require_encryption = true
                s2s_secure_auth = {{(federation.SecureAuth ? "true" : "false")}}
                unbound = { hoststxt = "{{hosts}}" }
                {{federation.ExtraConfig}}
                """;
        }
        var config = Path.Combine(_dir, "prosody.cfg.lua");
        await File.WriteAllTextAsync(config, $$"""
            run_as_root = true
            pidfile = "{{_dir}}/prosody.pid"
            data_path = "{{_dir}}/data"
            plugin_paths = {}
            interfaces = { "127.0.0.1" }
            c2s_ports = { {{_c2s}} }
            c2s_direct_tls_ports = { {{_direct}} }
            {{s2sConfig}}
            component_ports = { {{_component}} }
            component_interfaces = { "127.0.0.1" }
            http_ports = { {{http}} }
            https_ports = {}
            http_interfaces = { "127.0.0.1" }
            admin_socket = "{{_dir}}/admin.sock"
            modules_enabled = { "roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist", "vcard_legacy",
              "version", "uptime", "time", "ping", "register", "mam", "csi_simple", "http", "smacks"{{(_federation is null ? "" : ", \"dialback\", \"s2s_bidi\"")}} }
            smacks_hibernation_time = 3
            allow_registration = true
            min_seconds_between_registrations = 0
            c2s_require_encryption = true
            authentication = "internal_hashed"
            storage = "internal"
            default_archive_policy = true
            log = { info = "{{_dir}}/prosody.log" }
            certificates = "{{_dir}}"
            ssl = { key = "{{_dir}}/key.pem", certificate = "{{_dir}}/cert.pem"{{(_federation?.CaFile is { } ca ? $", cafile = \"{ca}\"" : "")}} }
            VirtualHost "{{Domain}}"
            Component "{{Conference}}" "muc"
              modules_enabled = { "muc_mam" }
              muc_log_by_default = true
            Component "{{Gateway}}"
              component_secret = "{{ComponentSecret}}"
            Component "upload.{{Domain}}" "http_file_share"
              http_host = "127.0.0.1"
              http_external_url = "http://127.0.0.1:{{http}}/"
            """);
        foreach (var user in Users.All)
            await RunAsync("/usr/bin/prosodyctl", $"--config {config} register {user} {Domain} {Password}");
        _process = Process.Start(new ProcessStartInfo("/usr/bin/prosody", $"--config {config} -F")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // Bounded wait for every listener (prosody opens them one after another).
        foreach (var port in _s2s == 0 ? new[] { _c2s, _direct, _component, http } : [_c2s, _direct, _component, http, _s2s])
        {
            for (var i = 0; ; i++)
            {
                if (_process.HasExited) throw new InvalidOperationException("prosody exited: " + Log());
                if (i == 100) throw new InvalidOperationException($"prosody did not listen on {port} within 10 s: " + Log());
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException)
                {
                    await Task.Delay(100);
                }
            }
        }
    }

    internal string Log()
    {
        var path = Path.Combine(_dir, "prosody.log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no log)";
    }

    private static async Task RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed: {await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        _process?.Dispose();
        Http.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
