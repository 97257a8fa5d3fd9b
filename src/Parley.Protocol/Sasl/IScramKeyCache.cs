namespace Parley.Protocol.Sasl;

/// <summary>
/// Where a SCRAM client keeps SaltedPassword between logins. RFC 5802 §5.1: "a client implementation MAY cache
/// ClientKey&amp;ServerKey (or just SaltedPassword) for later reauthentication to the same service, as it is likely
/// that the server is going to advertise the same salt value upon reauthentication. This might be useful for mobile
/// clients where CPU usage is a concern." A cached value is password-equivalent for that server: keep it as safe as
/// the password.
/// </summary>
public interface IScramKeyCache
{
    /// <summary>The SaltedPassword derived earlier for these inputs, or null.</summary>
    byte[]? Find(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations);

    /// <summary>Keeps a SaltedPassword just derived (the cache owns <paramref name="saltedPassword"/>).</summary>
    void Store(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations, byte[] saltedPassword);
}
