using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// A throwaway certificate authority in a directory: its certificate as ca.pem, and leaf certificates it issues for
/// domains (DNS names only in the subjectAltName, as RFC 9525 DNS-IDs; no xmppAddr, which some peers reject).
/// </summary>
public sealed class TestCa : IDisposable
{
    private readonly RSA _key;
    private readonly X509Certificate2 _certificate;
    private readonly string _directory;

    public TestCa(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        _key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Parley Test CA", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CertificatePath = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CertificatePath, _certificate.ExportCertificatePem() + "\n");
    }

    /// <summary>The authority's certificate (PEM).</summary>
    public string CertificatePath { get; }

    /// <summary>Issues a certificate for a domain and its subdomains; returns the PEM paths of the certificate and key.</summary>
    public (string Certificate, string Key) Issue(string domain)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + domain, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(domain);
        san.AddDnsName("*." + domain);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var certificate = request.Create(_certificate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        var certPath = Path.Combine(_directory, domain + ".crt");
        var keyPath = Path.Combine(_directory, domain + ".key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certPath, keyPath);
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}
