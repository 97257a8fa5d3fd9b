using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Parley.Server.Federation;

/// <summary>
/// Whether a certificate proves a domain (RFC 9525 / RFC 6120 §13.7.2): a chain to a trusted authority (the PEM files
/// of S2s:TrustedCaPaths, or the system store) and a DNS-ID in the subjectAltName matching the domain, a wildcard only
/// as the whole leftmost label. The common name is never used (RFC 9525 §6.3).
/// </summary>
public sealed class S2sTrust
{
    private readonly X509Certificate2Collection? _roots;

    /// <summary>Loads the configured authorities.</summary>
    public S2sTrust(IOptions<ParleyOptions> options)
    {
        var paths = options.Value.S2s.TrustedCaPaths;
        if (paths.Count == 0) return;
        _roots = [];
        foreach (var path in paths) _roots.ImportFromPemFile(path);
    }

    /// <summary>Whether the certificate (with the peer's intermediates, if any) is trusted and names the domain.</summary>
    public bool Proves(X509Certificate2? certificate, X509Certificate2Collection? intermediates, string domain, out string problem)
    {
        problem = "";
        if (certificate is null)
        {
            problem = "no certificate";
            return false;
        }
        if (!MatchesDomain(certificate, domain))
        {
            problem = "no DNS-ID for " + domain;
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (intermediates is not null) chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        if (_roots is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        }
        if (chain.Build(certificate)) return true;
        var statuses = new List<string>();
        foreach (var status in chain.ChainStatus) statuses.Add(status.Status.ToString());
        problem = string.Join(", ", statuses);
        return false;
    }

    /// <summary>RFC 9525 §6.3: a DNS-ID equal to the domain, or "*.parent" for a domain one label below parent.</summary>
    public static bool MatchesDomain(X509Certificate2 certificate, string domain)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension san) continue;
            foreach (var name in san.EnumerateDnsNames())
            {
                var reference = name.TrimEnd('.');
                if (string.Equals(reference, domain, StringComparison.OrdinalIgnoreCase)) return true;
                if (reference.StartsWith("*.", StringComparison.Ordinal))
                {
                    var dot = domain.IndexOf('.', StringComparison.Ordinal);
                    if (dot > 0 && string.Equals(reference[2..], domain[(dot + 1)..], StringComparison.OrdinalIgnoreCase)) return true;
                }
            }
        }
        return false;
    }
}
