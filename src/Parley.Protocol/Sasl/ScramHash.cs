namespace Parley.Protocol.Sasl;

/// <summary>The hash functions of the SCRAM family (RFC 5802, RFC 7677, and SCRAM-SHA-512).</summary>
public enum ScramHash
{
    /// <summary>SCRAM-SHA-1 (RFC 5802).</summary>
    Sha1,
    /// <summary>SCRAM-SHA-256 (RFC 7677).</summary>
    Sha256,
    /// <summary>SCRAM-SHA-512.</summary>
    Sha512,
}
