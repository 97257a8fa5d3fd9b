using System.Buffers.Binary;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Authentication.ExtendedProtection;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// Reads the RFC 5929 §3 tls-unique channel binding (the first Finished message) of a TLS 1.2 connection.
/// </summary>
/// <remarks>
/// .NET hands channel bindings out as a SEC_CHANNEL_BINDINGS structure: a 32-byte header whose last two
/// 32-bit little-endian fields are the application data's length and offset, then the data, which is the
/// type name and a colon ("tls-unique:") followed by the binding itself. Seen on Linux (OpenSSL) for TLS 1.2
/// and 1.3, on both client and server side.
/// COMPAT: tls-unique is undefined for TLS 1.3 (RFC 9266 §1), but OpenSSL-based peers (slixmpp 1.8, whose only
/// binding type it is) compute it there from the client Finished message exactly as .NET does, so it is read for
/// TLS 1.3 too. It can go when those clients bind with tls-exporter and .NET exposes a TLS exporter.
/// </remarks>
public static class TlsUnique
{
    private const int HeaderSize = 32;
    private static readonly byte[] Prefix = Encoding.ASCII.GetBytes("tls-unique:");

    /// <summary>The tls-unique bytes of a TLS 1.2 (or, see remarks, 1.3) stream, or null when unavailable.</summary>
    public static byte[]? TryRead(SslStream ssl)
    {
        if (ssl.SslProtocol is not (SslProtocols.Tls12 or SslProtocols.Tls13)) return null;
        try
        {
            using var binding = ssl.TransportContext?.GetChannelBinding(ChannelBindingKind.Unique);
            if (binding is null || binding.IsInvalid || binding.Size < HeaderSize) return null;
            var raw = new byte[binding.Size];
            Marshal.Copy(binding.DangerousGetHandle(), raw, 0, raw.Length);
            return Parse(raw);
        }
        catch (Exception e) when (e is NotSupportedException or PlatformNotSupportedException or InvalidOperationException or AuthenticationException)
        {
            return null;
        }
    }

    /// <summary>Extracts the binding from a SEC_CHANNEL_BINDINGS image; null when the layout is not as expected.</summary>
    internal static byte[]? Parse(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < HeaderSize) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(raw[24..]);
        var offset = BinaryPrimitives.ReadInt32LittleEndian(raw[28..]);
        if (offset < HeaderSize || length <= 0 || (long)offset + length > raw.Length) return null;
        var data = raw.Slice(offset, length);
        if (data.StartsWith(Prefix)) data = data[Prefix.Length..];
        return data.Length is > 0 and <= 64 ? data.ToArray() : null;
    }
}
