namespace Parley.Protocol.Sasl;

/// <summary>RFC 4616: the PLAIN mechanism's message, [authzid] NUL authcid NUL passwd.</summary>
public static class SaslPlain
{
    /// <summary>Splits a PLAIN message; false when malformed (wrong number of NULs, empty authcid or password, bad UTF-8).</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out string? authzid, out string authcid, out string password) => throw new NotImplementedException();

    /// <summary>Builds a PLAIN message.</summary>
    public static byte[] Create(string? authzid, string authcid, string password) => throw new NotImplementedException();
}
