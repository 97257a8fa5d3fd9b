using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Protocol.Sasl;

/// <summary>Channel-binding type names (RFC 5929, RFC 9266) and how to compute the data that is ours to compute.</summary>
public static class ChannelBinding
{
    /// <summary>RFC 5929 §4: hash of the server's certificate.</summary>
    public const string TlsServerEndPoint = "tls-server-end-point";
    /// <summary>RFC 5929 §3: the first Finished message of the TLS 1.2 handshake.</summary>
    public const string TlsUnique = "tls-unique";
    /// <summary>RFC 9266: TLS exporter keying material.</summary>
    public const string TlsExporter = "tls-exporter";

    /// <summary>
    /// RFC 5929 §4.1: the certificate's hash, using SHA-256 when its signature algorithm uses MD5 or SHA-1, and
    /// otherwise the signature algorithm's own hash. Algorithms without a single hash (RSASSA-PSS, EdDSA) use SHA-256.
    /// </summary>
    public static byte[] ComputeTlsServerEndPoint(X509Certificate2 certificate)
    {
        var raw = certificate.RawData;
        return certificate.SignatureAlgorithm.Value switch
        {
            "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => SHA384.HashData(raw),    // sha384WithRSA, ecdsa-with-SHA384
            "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => SHA512.HashData(raw),    // sha512WithRSA, ecdsa-with-SHA512
            _ => SHA256.HashData(raw),                                                   // SHA-256, and MD5/SHA-1 upgraded (§4.1)
        };
    }
}
