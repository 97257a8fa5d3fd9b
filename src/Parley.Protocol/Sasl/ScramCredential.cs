namespace Parley.Protocol.Sasl;

/// <summary>
/// What a server stores for one account and one SCRAM hash (RFC 5802 §3): salt, iteration count, StoredKey and
/// ServerKey. The password itself is never stored.
/// </summary>
public sealed record ScramCredential(ScramHash Hash, byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey)
{
    /// <summary>Derives the credential from a password (prepared with the OpaqueString profile, RFC 8265 §4.2).</summary>
    public static ScramCredential Derive(ScramHash hash, string password, byte[] salt, int iterations) => throw new NotImplementedException();

    /// <summary>Derives a credential with a fresh random salt (16 bytes).</summary>
    public static ScramCredential Create(ScramHash hash, string password, int iterations) => throw new NotImplementedException();
}
