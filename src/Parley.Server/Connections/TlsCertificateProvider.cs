using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol.Sasl;

namespace Parley.Server.Connections;

/// <summary>
/// The server certificate: the configured PEM pair, or a self-signed certificate for the domain that is generated
/// on first start and kept in the data directory. Also the TLS policy of RFC 7590 (TLS 1.2 and 1.3 only).
/// </summary>
public sealed partial class TlsCertificateProvider
{
    private readonly Lazy<Loaded> _loaded;

    /// <summary>Loads (or generates) the certificate on first use.</summary>
    public TlsCertificateProvider(IOptions<ParleyOptions> options, ILogger<TlsCertificateProvider> log)
    {
        var o = options.Value;
        _loaded = new Lazy<Loaded>(() => Load(o, log), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The leaf certificate.</summary>
    public X509Certificate2 Certificate => _loaded.Value.Certificate;

    /// <summary>RFC 5929 §4: the channel-binding data that every TLS connection of this server shares.</summary>
    public byte[] TlsServerEndPoint => _loaded.Value.ServerEndPoint;

    /// <summary>Server authentication options for one connection (TLS 1.2 and 1.3, RFC 7590 §3.1; RFC 8996).</summary>
    public SslServerAuthenticationOptions ServerOptions(List<SslApplicationProtocol>? alpn = null) => new()
    {
        ServerCertificateContext = _loaded.Value.Context,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ApplicationProtocols = alpn,
    };

    /// <summary>The paths of the generated certificate for a domain in a data directory.</summary>
    public static (string Certificate, string Key) GeneratedPaths(string dataDirectory, string domain) =>
        (Path.Combine(dataDirectory, "tls", domain + ".crt"), Path.Combine(dataDirectory, "tls", domain + ".key"));

    /// <summary>
    /// Generates a self-signed ECDSA P-256 certificate for <paramref name="domain"/> and its subdomains, valid for
    /// <paramref name="days"/> days, and writes it as PEM (the key file readable by the owner only).
    /// </summary>
    public static X509Certificate2 Generate(string domain, string certificatePath, string keyPath, int days = 825)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + domain, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(domain);
        san.AddDnsName("*." + domain);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(days));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(certificatePath))!);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyPath))!);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        // The key is readable by the owner only, before it holds anything.
        File.WriteAllText(keyPath, "");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(keyPath, keyPem + "\n");
        return LoadPem(certificatePath, keyPath).Leaf;
    }

    /// <summary>Reads a PEM certificate chain and key; the first certificate is the leaf.</summary>
    public static (X509Certificate2 Leaf, X509Certificate2Collection Chain) LoadPem(string certificatePath, string keyPath)
    {
        var leaf = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // Windows' SslStream cannot use the ephemeral key a PEM import gives, so there it is re-imported through
        // PKCS #12 (that round trip costs ~50 ms of start-up, which other platforms skip).
        if (OperatingSystem.IsWindows())
        {
            using var withKey = leaf;
            leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(certificatePath);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++) intermediates.Add(chain[i]);
        return (leaf, intermediates);
    }

    private static Loaded Load(ParleyOptions o, ILogger log)
    {
        string certPath, keyPath;
        if (o.Tls.CertificatePath is not null && o.Tls.KeyPath is not null)
        {
            certPath = o.Tls.CertificatePath;
            keyPath = o.Tls.KeyPath;
        }
        else
        {
            var domain = Parley.Protocol.Jid.Create(null, o.Domain).Domain;
            (certPath, keyPath) = GeneratedPaths(o.DataDirectory, domain);
            var usable = File.Exists(certPath) && File.Exists(keyPath);
            if (usable)
            {
                using var existing = X509CertificateLoader.LoadCertificateFromFile(certPath);
                usable = existing.NotAfter > DateTime.UtcNow.AddDays(7);
            }
            if (!usable)
            {
                Generate(domain, certPath, keyPath).Dispose();
                LogGenerated(log, domain, Path.GetFullPath(certPath));
            }
        }
        var (leaf, intermediates) = LoadPem(certPath, keyPath);
        var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        return new Loaded(leaf, context, ChannelBinding.ComputeTlsServerEndPoint(leaf));
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Generated a self-signed certificate for {Domain} at {Path}; clients will ask to trust it")]
    private static partial void LogGenerated(ILogger logger, string domain, string path);

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context, byte[] ServerEndPoint);
}
