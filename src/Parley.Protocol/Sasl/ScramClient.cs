using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Sasl;

/// <summary>The client side of one SCRAM exchange (RFC 5802 §5), with -PLUS and XEP-0474 checking.</summary>
public sealed class ScramClient
{
    private readonly ScramHash _hash;
    private readonly bool _plus;
    private readonly string _username;
    private readonly string _password;
    private readonly IChannelBindingSource? _channelBinding;
    private readonly string? _bindingType;
    private readonly bool _serverOffersPlus;
    private readonly IReadOnlyList<string>? _offered;
    private readonly string _clientNonce;
    private string? _gs2Header;
    private string? _clientFirstBare;
    private byte[]? _serverSignature;

    /// <summary>Starts an exchange.</summary>
    /// <param name="hash">The mechanism's hash.</param>
    /// <param name="plus">Whether the -PLUS variant is used (then <paramref name="channelBinding"/> and <paramref name="bindingType"/> are required).</param>
    /// <param name="username">The username (localpart).</param>
    /// <param name="password">The password.</param>
    /// <param name="channelBinding">The connection's channel bindings, or null.</param>
    /// <param name="bindingType">The channel-binding type to use with -PLUS.</param>
    /// <param name="serverOffersPlus">Whether the server offered any -PLUS mechanism (selects the 'y' GS2 flag when not using -PLUS, RFC 5802 §6).</param>
    /// <param name="offeredMechanisms">The mechanisms the server offered, for XEP-0474 verification; null disables the check.</param>
    /// <param name="clientNonce">A fixed nonce for tests; null for a random one.</param>
    public ScramClient(ScramHash hash, bool plus, string username, string password, IChannelBindingSource? channelBinding,
        string? bindingType, bool serverOffersPlus, IReadOnlyList<string>? offeredMechanisms, string? clientNonce = null)
    {
        if (plus && (channelBinding is null || bindingType is null || channelBinding.GetBindingData(bindingType) is null))
            throw new ArgumentException("-PLUS needs channel-binding data of the chosen type", nameof(bindingType));
        _hash = hash;
        _plus = plus;
        _username = Precis.TryPrepareOpaqueString(username, out var u) ? u : username;
        _password = password;
        _channelBinding = channelBinding;
        _bindingType = bindingType;
        _serverOffersPlus = serverOffersPlus;
        _offered = offeredMechanisms;
        _clientNonce = clientNonce ?? Scram.Nonce();
    }

    /// <summary>The channel-binding types the server advertised (XEP-0440), for XEP-0474 verification.</summary>
    public IReadOnlyList<string>? AdvertisedBindingTypes { get; init; }

    /// <summary>
    /// Where SaltedPassword is kept between logins (RFC 5802 §5.1), so that a login with the same salt and iteration
    /// count skips the key derivation; null derives it every time.
    /// </summary>
    public IScramKeyCache? KeyCache { get; init; }

    /// <summary>The mechanism name, e.g. SCRAM-SHA-256-PLUS.</summary>
    public string MechanismName => SaslMechanisms.ScramName(_hash, _plus);

    /// <summary>client-first-message.</summary>
    public byte[] CreateClientFirst()
    {
        // RFC 5802 §6: 'p' with -PLUS; 'y' when we could bind but the server offers no -PLUS; otherwise 'n'.
        _gs2Header = _plus ? "p=" + _bindingType + ",," : (_channelBinding is not null && !_serverOffersPlus ? "y,," : "n,,");
        _clientFirstBare = "n=" + Scram.EscapeName(_username) + ",r=" + _clientNonce;
        return Encoding.UTF8.GetBytes(_gs2Header + _clientFirstBare);
    }

    /// <summary>Reads server-first-message and makes client-final-message; false with a reason when the server's message is unacceptable.</summary>
    public bool TryCreateClientFinal(ReadOnlySpan<byte> serverFirst, out byte[] clientFinal, out string? error)
    {
        clientFinal = [];
        error = null;
        if (_clientFirstBare is null) throw new InvalidOperationException("Create client-first-message first");
        if (!ScramServer.TryUtf8(serverFirst, out var text)) { error = "server-first-message is not UTF-8"; return false; }
        var attributes = new List<(char Name, string Value)>(4);
        if (!Scram.TryParseAttributes(text, attributes) || attributes.Count < 3) { error = "malformed server-first-message"; return false; }
        if (attributes[0].Name == 'm') { error = "unsupported mandatory extension"; return false; }
        if (attributes[0].Name != 'r' || attributes[1].Name != 's' || attributes[2].Name != 'i') { error = "malformed server-first-message"; return false; }
        var nonce = attributes[0].Value;
        if (!nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length) { error = "the server's nonce does not extend ours"; return false; }
        if (!ScramServer.TryBase64(attributes[1].Value, out var salt) || salt.Length == 0) { error = "bad salt"; return false; }
        if (!int.TryParse(attributes[2].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
        {
            error = "bad iteration count";
            return false;
        }
        if (_offered is not null)
        {
            foreach (var (name, value) in attributes)
            {
                if (name != 'h') continue;
                // XEP-0474 §6.2: the advertised lists were not tampered with.
                if (value != Scram.DowngradeHash(_hash, _offered, AdvertisedBindingTypes)) { error = "downgrade detected (XEP-0474)"; return false; }
            }
        }
        var cbind = Encoding.UTF8.GetBytes(_gs2Header!);
        if (_plus) cbind = [.. cbind, .. _channelBinding!.GetBindingData(_bindingType!)!];
        var withoutProof = "c=" + Convert.ToBase64String(cbind) + ",r=" + nonce;
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + text + "," + withoutProof);
        var cached = KeyCache?.Find(_hash, _username, salt, iterations);
        var salted = cached is null ? Scram.SaltedPassword(_hash, _password, salt, iterations) : (byte[])cached.Clone();
        if (cached is null) KeyCache?.Store(_hash, _username, salt, iterations, (byte[])salted.Clone());
        var clientKey = Scram.Hmac(_hash, salted, "Client Key"u8);
        var storedKey = Scram.H(_hash, clientKey);
        var signature = Scram.Hmac(_hash, storedKey, authMessage);
        var proof = new byte[clientKey.Length];
        for (var i = 0; i < proof.Length; i++) proof[i] = (byte)(clientKey[i] ^ signature[i]);
        _serverSignature = Scram.Hmac(_hash, Scram.Hmac(_hash, salted, "Server Key"u8), authMessage);
        CryptographicOperations.ZeroMemory(salted);
        clientFinal = Encoding.UTF8.GetBytes(withoutProof + ",p=" + Convert.ToBase64String(proof));
        return true;
    }

    /// <summary>Checks the server signature in server-final-message (the success data).</summary>
    public bool VerifyServerFinal(ReadOnlySpan<byte> serverFinal)
    {
        if (_serverSignature is null || !ScramServer.TryUtf8(serverFinal, out var text)) return false;
        if (!text.StartsWith("v=", StringComparison.Ordinal)) return false;
        var end = text.IndexOf(',', StringComparison.Ordinal);
        var value = end < 0 ? text[2..] : text[2..end];
        return ScramServer.TryBase64(value, out var signature) && CryptographicOperations.FixedTimeEquals(signature, _serverSignature);
    }
}
