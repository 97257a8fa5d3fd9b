using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Sasl;

/// <summary>
/// What a server stores for one account and one SCRAM hash (RFC 5802 §3): salt, iteration count, StoredKey and
/// ServerKey. The password itself is never stored.
/// </summary>
public sealed record ScramCredential(ScramHash Hash, byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey)
{
    /// <summary>Derives the credential from a password (prepared with the OpaqueString profile, RFC 8265 §4.2).</summary>
    public static ScramCredential Derive(ScramHash hash, string password, byte[] salt, int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salted = Scram.SaltedPassword(hash, password, salt, iterations);
        var clientKey = Scram.Hmac(hash, salted, "Client Key"u8);
        var storedKey = Scram.H(hash, clientKey);
        var serverKey = Scram.Hmac(hash, salted, "Server Key"u8);
        CryptographicOperations.ZeroMemory(salted);
        return new ScramCredential(hash, salt, iterations, storedKey, serverKey);
    }

    /// <summary>Derives a credential with a fresh random salt (16 bytes).</summary>
    public static ScramCredential Create(ScramHash hash, string password, int iterations) =>
        Derive(hash, password, RandomNumberGenerator.GetBytes(16), iterations);
}

/// <summary>The SCRAM primitives of RFC 5802 §2.2.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "SCRAM-SHA-1 is defined by RFC 5802 and still required for interoperability; SHA-256 and SHA-512 are offered first.")]
internal static class Scram
{
    public static HashAlgorithmName Algorithm(ScramHash hash) => hash switch
    {
        ScramHash.Sha1 => HashAlgorithmName.SHA1,
        ScramHash.Sha256 => HashAlgorithmName.SHA256,
        _ => HashAlgorithmName.SHA512,
    };

    public static int Size(ScramHash hash) => hash switch
    {
        ScramHash.Sha1 => 20,
        ScramHash.Sha256 => 32,
        _ => 64,
    };

    // Hi(str, salt, i) is PBKDF2 with HMAC and one block of output (RFC 5802 §2.2).
    public static byte[] SaltedPassword(ScramHash hash, string password, byte[] salt, int iterations)
    {
        var prepared = Precis.TryPrepareOpaqueString(password, out var p) ? p : password;
        return Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(prepared), salt, iterations, Algorithm(hash), Size(hash));
    }

    public static byte[] Hmac(ScramHash hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => hash switch
    {
        ScramHash.Sha1 => HMACSHA1.HashData(key, data),
        ScramHash.Sha256 => HMACSHA256.HashData(key, data),
        _ => HMACSHA512.HashData(key, data),
    };

    public static byte[] H(ScramHash hash, ReadOnlySpan<byte> data) => hash switch
    {
        ScramHash.Sha1 => SHA1.HashData(data),
        ScramHash.Sha256 => SHA256.HashData(data),
        _ => SHA512.HashData(data),
    };

    /// <summary>RFC 5802 §5.1: ',' and '=' in a saslname are escaped as =2C and =3D.</summary>
    public static string EscapeName(string name) => name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);

    /// <summary>Reverses <see cref="EscapeName"/>; false on any other '=' sequence.</summary>
    public static bool TryUnescapeName(string value, out string name)
    {
        name = "";
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == ',') return false;
            if (c != '=')
            {
                sb.Append(c);
                continue;
            }
            if (i + 2 >= value.Length) return false;
            var code = value.AsSpan(i + 1, 2);
            if (code.SequenceEqual("2C")) sb.Append(',');
            else if (code.SequenceEqual("3D")) sb.Append('=');
            else return false;
            i += 2;
        }
        name = sb.ToString();
        return true;
    }

    /// <summary>A printable nonce without ',' (RFC 5802 §5.1 'r').</summary>
    public static string Nonce(int bytes = 24) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>Splits "a=x,b=y" into attributes; false when malformed.</summary>
    public static bool TryParseAttributes(string message, List<(char Name, string Value)> attributes)
    {
        attributes.Clear();
        foreach (var part in message.Split(','))
        {
            if (part.Length < 2 || part[1] != '=' || !char.IsAsciiLetter(part[0])) return false;
            attributes.Add((part[0], part[2..]));
        }
        return true;
    }

    /// <summary>
    /// XEP-0474 §6.1 (SCRAM downgrade protection): the base64 hash, with the SCRAM hash function, of the advertised
    /// mechanism names sorted by octet and joined with U+001E, then (when a XEP-0440 list was advertised) U+001F
    /// and the advertised channel-binding types sorted and joined with U+001E. Sent as the 'h' attribute.
    /// </summary>
    public static string DowngradeHash(ScramHash hash, IReadOnlyList<string> mechanisms, IReadOnlyList<string>? bindingTypes)
    {
        var m = new List<string>(mechanisms);
        m.Sort(StringComparer.Ordinal);
        var text = new StringBuilder(string.Join('\u001e', m));
        if (bindingTypes is not null)
        {
            var b = new List<string>(bindingTypes);
            b.Sort(StringComparer.Ordinal);
            text.Append('\u001f').Append(string.Join('\u001e', b));
        }
        return Convert.ToBase64String(H(hash, Encoding.UTF8.GetBytes(text.ToString())));
    }
}
