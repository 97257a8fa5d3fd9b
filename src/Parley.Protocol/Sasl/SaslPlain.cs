using System.Text;

namespace Parley.Protocol.Sasl;

/// <summary>RFC 4616: the PLAIN mechanism's message, [authzid] NUL authcid NUL passwd.</summary>
public static class SaslPlain
{
    /// <summary>Splits a PLAIN message; false when malformed (wrong number of NULs, empty authcid or password, bad UTF-8).</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out string? authzid, out string authcid, out string password)
    {
        authzid = null;
        authcid = password = "";
        var first = message.IndexOf((byte)0);
        if (first < 0) return false;
        var rest = message[(first + 1)..];
        var second = rest.IndexOf((byte)0);
        if (second < 0 || rest[(second + 1)..].IndexOf((byte)0) >= 0) return false;
        var z = message[..first];
        var c = rest[..second];
        var p = rest[(second + 1)..];
        if (c.Length is 0 or > 255 || z.Length > 255 || p.Length == 0) return false;
        if (!Utf8Validation.IsValid(message)) return false;
        authzid = z.Length == 0 ? null : Encoding.UTF8.GetString(z);
        authcid = Encoding.UTF8.GetString(c);
        password = Encoding.UTF8.GetString(p);
        return true;
    }

    /// <summary>Builds a PLAIN message.</summary>
    public static byte[] Create(string? authzid, string authcid, string password) =>
        Encoding.UTF8.GetBytes((authzid ?? "") + "\0" + authcid + "\0" + password);
}
