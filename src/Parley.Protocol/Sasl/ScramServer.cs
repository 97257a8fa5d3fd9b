using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Sasl;

/// <summary>
/// The server side of one SCRAM exchange (RFC 5802 §5, RFC 7677), with -PLUS channel binding and
/// XEP-0474 downgrade protection. Use: <see cref="ReadClientFirst"/>, look up the credential for
/// <see cref="Username"/>, <see cref="CreateServerFirst"/>, then <see cref="ReadClientFinal"/>.
/// </summary>
public sealed class ScramServer
{
    private static readonly byte[] FakeSaltKey = RandomNumberGenerator.GetBytes(32);
    private readonly ScramHash _hash;
    private readonly bool _plus;
    private readonly IChannelBindingSource? _channelBinding;
    private readonly IReadOnlyList<string> _offered;
    private readonly string? _fixedNonce;
    private string? _gs2Header;
    private string? _bindingType;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private ScramCredential? _credential;

    /// <summary>Starts an exchange.</summary>
    /// <param name="hash">The mechanism's hash.</param>
    /// <param name="plus">Whether the mechanism chosen was the -PLUS variant.</param>
    /// <param name="channelBinding">The connection's channel bindings, or null without TLS.</param>
    /// <param name="offeredMechanisms">The mechanism names the server offered (XEP-0474 hashes them), in offer order.</param>
    public ScramServer(ScramHash hash, bool plus, IChannelBindingSource? channelBinding, IReadOnlyList<string> offeredMechanisms)
        : this(hash, plus, channelBinding, offeredMechanisms, null)
    {
    }

    internal ScramServer(ScramHash hash, bool plus, IChannelBindingSource? channelBinding, IReadOnlyList<string> offeredMechanisms, string? serverNonce)
    {
        _hash = hash;
        _plus = plus;
        _channelBinding = channelBinding;
        _offered = offeredMechanisms;
        _fixedNonce = serverNonce;
    }

    /// <summary>The username from client-first (unescaped), after <see cref="ReadClientFirst"/>.</summary>
    public string? Username { get; private set; }

    /// <summary>The authorization identity from the GS2 header, or null.</summary>
    public string? AuthorizationId { get; private set; }

    /// <summary>Reads client-first-message; null on success, else the failure to report.</summary>
    public SaslFailure? ReadClientFirst(ReadOnlySpan<byte> clientFirst)
    {
        if (!TryUtf8(clientFirst, out var text)) return SaslFailure.IncorrectEncoding;
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","  (RFC 5802 §7)
        var first = text.IndexOf(',', StringComparison.Ordinal);
        if (first < 0) return SaslFailure.MalformedRequest;
        var second = text.IndexOf(',', first + 1);
        if (second < 0) return SaslFailure.MalformedRequest;
        var flag = text[..first];
        var authz = text[(first + 1)..second];
        var plusOffered = false;
        foreach (var m in _offered) plusOffered |= m.EndsWith("-PLUS", StringComparison.Ordinal);
        if (flag.StartsWith("p=", StringComparison.Ordinal))
        {
            // The client wants channel binding: only with a -PLUS mechanism and a type we can supply.
            if (!_plus) return SaslFailure.MalformedRequest;
            var type = flag[2..];
            if (_channelBinding is null || _channelBinding.GetBindingData(type) is null) return SaslFailure.NotAuthorized;
            _bindingType = type;
        }
        else if (_plus)
        {
            return SaslFailure.MalformedRequest;       // a -PLUS mechanism requires p=
        }
        else if (flag == "y")
        {
            // RFC 5802 §6: the client could bind but thinks we cannot; if we offered -PLUS, this is a downgrade.
            if (plusOffered) return SaslFailure.NotAuthorized;
        }
        else if (flag != "n")
        {
            return SaslFailure.MalformedRequest;
        }
        if (authz.Length > 0)
        {
            if (!authz.StartsWith("a=", StringComparison.Ordinal) || !Scram.TryUnescapeName(authz[2..], out var a) || a.Length == 0)
                return SaslFailure.MalformedRequest;
            AuthorizationId = a;
        }
        _gs2Header = text[..(second + 1)];
        _clientFirstBare = text[(second + 1)..];
        var attributes = new List<(char Name, string Value)>(3);
        if (!Scram.TryParseAttributes(_clientFirstBare, attributes) || attributes.Count < 2) return SaslFailure.MalformedRequest;
        if (attributes[0].Name == 'm') return SaslFailure.MalformedRequest;   // mandatory extensions are not supported
        if (attributes[0].Name != 'n' || attributes[1].Name != 'r') return SaslFailure.MalformedRequest;
        if (!Scram.TryUnescapeName(attributes[0].Value, out var username) || username.Length == 0) return SaslFailure.MalformedRequest;
        var clientNonce = attributes[1].Value;
        if (clientNonce.Length == 0 || !IsPrintable(clientNonce)) return SaslFailure.MalformedRequest;
        Username = Precis.TryPrepareOpaqueString(username, out var prepared) ? prepared : username;
        _nonce = clientNonce + (_fixedNonce ?? Scram.Nonce());
        return null;
    }

    /// <summary>
    /// Makes server-first-message. With a null <paramref name="credential"/> (unknown user) it answers with a
    /// deterministic fake salt so that the exchange fails only at the proof, revealing nothing about the account.
    /// </summary>
    public byte[] CreateServerFirst(ScramCredential? credential)
    {
        if (_nonce is null) throw new InvalidOperationException("Read client-first-message first");
        _credential = credential;
        var salt = credential?.Salt ?? HMACSHA256.HashData(FakeSaltKey, Encoding.UTF8.GetBytes(Username ?? ""))[..16];
        var iterations = credential?.Iterations ?? 4096;
        var sb = new StringBuilder();
        sb.Append("r=").Append(_nonce).Append(",s=").Append(Convert.ToBase64String(salt))
          .Append(",i=").Append(iterations.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_offered.Count > 0)
        {
            // XEP-0474 §6.1: the advertised lists, so the client can detect a downgrade.
            var types = _channelBinding is { Types.Count: > 0 } cb ? cb.Types : null;
            sb.Append(",h=").Append(Scram.DowngradeHash(_hash, _offered, types));
        }
        _serverFirst = sb.ToString();
        return Encoding.UTF8.GetBytes(_serverFirst);
    }

    /// <summary>Reads client-final-message and verifies the proof; on success returns null and sets <paramref name="serverFinal"/> (the additional data with v=).</summary>
    public SaslFailure? ReadClientFinal(ReadOnlySpan<byte> clientFinal, out byte[]? serverFinal)
    {
        serverFinal = null;
        if (_serverFirst is null) return SaslFailure.MalformedRequest;
        if (!TryUtf8(clientFinal, out var text)) return SaslFailure.IncorrectEncoding;
        var proofAt = text.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0) return SaslFailure.MalformedRequest;
        var withoutProof = text[..proofAt];
        var attributes = new List<(char Name, string Value)>(4);
        if (!Scram.TryParseAttributes(withoutProof, attributes) || attributes.Count < 2) return SaslFailure.MalformedRequest;
        if (attributes[0].Name != 'c' || attributes[1].Name != 'r') return SaslFailure.MalformedRequest;

        // c= is base64(gs2-header [cbind-data]) and must repeat exactly what client-first said.
        byte[] expected = Encoding.UTF8.GetBytes(_gs2Header!);
        if (_bindingType is not null)
        {
            var data = _channelBinding!.GetBindingData(_bindingType)!;
            expected = [.. expected, .. data];
        }
        if (!TryBase64(attributes[0].Value, out var binding)) return SaslFailure.MalformedRequest;
        if (!CryptographicOperations.FixedTimeEquals(binding, expected)) return SaslFailure.NotAuthorized;
        if (attributes[1].Value != _nonce) return SaslFailure.NotAuthorized;
        if (!TryBase64(text[(proofAt + 3)..], out var proof) || proof.Length != Scram.Size(_hash)) return SaslFailure.MalformedRequest;
        if (_credential is null) return SaslFailure.NotAuthorized;

        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + _serverFirst + "," + withoutProof);
        var clientSignature = Scram.Hmac(_hash, _credential.StoredKey, authMessage);
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++) clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(Scram.H(_hash, clientKey), _credential.StoredKey)) return SaslFailure.NotAuthorized;
        var serverSignature = Scram.Hmac(_hash, _credential.ServerKey, authMessage);
        serverFinal = Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature));
        return null;
    }

    internal static bool TryUtf8(ReadOnlySpan<byte> bytes, out string text)
    {
        text = "";
        if (!Utf8Validation.IsValid(bytes)) return false;
        text = Encoding.UTF8.GetString(bytes);
        return true;
    }

    internal static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(text, bytes, out var n))
        {
            bytes = [];
            return false;
        }
        bytes = bytes[..n];
        return true;
    }

    private static bool IsPrintable(string s)
    {
        foreach (var c in s)
            if (c is < (char)0x21 or > (char)0x7E || c == ',') return false;
        return true;
    }
}

/// <summary>UTF-8 validation without exceptions.</summary>
internal static class Utf8Validation
{
    public static bool IsValid(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}
