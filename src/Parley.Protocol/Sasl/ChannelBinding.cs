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
    /// otherwise the signature algorithm's own hash.
    /// </summary>
    public static byte[] ComputeTlsServerEndPoint(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) => throw new NotImplementedException();
}
