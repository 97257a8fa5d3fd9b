using System.Security.Cryptography;
using System.Text;
using Parley.Client.Model;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Client;

/// <summary>
/// One SASL mechanism run from the client's side, the same for RFC 6120 SASL and XEP-0388 SASL2: the initial
/// response, an answer to each challenge, and the check of the server's final data. SCRAM (with -PLUS channel
/// binding), PLAIN (only over TLS), and the XEP-0484 FAST token mechanisms HT-SHA-256-* (draft-schmaus-kitten-sasl-ht:
/// authcid NUL HMAC(token, "Initiator" || channel binding); the server proves itself with "Responder").
/// </summary>
internal sealed class SaslExchange
{
    private readonly ScramClient? _scram;
    private readonly byte[]? _responder;

    private SaslExchange(string mechanism, byte[] initial, string? bindingType, ScramClient? scram, byte[]? responder)
    {
        Mechanism = mechanism;
        Initial = initial;
        BindingType = bindingType;
        _scram = scram;
        _responder = responder;
    }

    public string Mechanism { get; }

    public byte[] Initial { get; }

    public string? BindingType { get; }

    /// <summary>Whether this run uses a FAST token rather than the password.</summary>
    public bool IsToken => _responder is not null;

    /// <summary>The answer to a challenge; null when the challenge is bad (the caller aborts).</summary>
    public byte[]? Respond(byte[] challenge, out string? error)
    {
        error = "unexpected challenge";
        if (_scram is null) return null;
        return _scram.TryCreateClientFinal(challenge, out var final, out error) ? final : null;
    }

    /// <summary>Whether the server's final data proves it knows the credentials (true for PLAIN, which has none).</summary>
    public bool VerifyFinal(byte[] data)
    {
        if (_responder is not null) return CryptographicOperations.FixedTimeEquals(_responder, data);
        return _scram is null || _scram.VerifyServerFinal(data);
    }

    /// <summary>The first mechanism of the options' preference that the server offers and this connection allows.</summary>
    public static SaslExchange? Choose(XmppClientOptions options, IReadOnlyList<string> offered, List<string>? bindingTypes, ClientChannelBinding? binding, bool secure)
    {
        var serverPlus = false;
        foreach (var m in offered) serverPlus |= m.EndsWith("-PLUS", StringComparison.Ordinal);
        foreach (var mechanism in options.Mechanisms)
        {
            if (!offered.Contains(mechanism)) continue;
            if (mechanism == SaslMechanisms.Plain)
            {
                if (!secure) continue;      // never send a password in the clear
                return new SaslExchange(mechanism, SaslPlain.Create(null, options.Jid.Local!, options.Password), null, null, null);
            }
            if (!SaslMechanisms.TryParseScram(mechanism, out var hash, out var plus)) continue;
            string? type = null;
            if (plus)
            {
                if (binding is null || (type = BindingFor(options.ChannelBindingPreference, bindingTypes, binding)) is null) continue;
            }
            var scram = new ScramClient(hash, plus, options.Jid.Local!, options.Password, binding, type, serverPlus, [.. offered])
            {
                AdvertisedBindingTypes = bindingTypes,
            };
            return new SaslExchange(mechanism, scram.CreateClientFirst(), type, scram, null);
        }
        return null;
    }

    // The channel-binding type for a -PLUS mechanism: the most preferred one the server lists (XEP-0440) and this
    // connection has. A server that lists none (ejabberd 23.01, SASL1) is undefined by XEP-0440 §3 rule 4, which lets
    // the client try any type: the default of RFC 5802 §6 and RFC 5929, tls-unique, first (the type such servers
    // implement), then tls-server-end-point, the one XEP-0440 rule 1 makes every server's.
    private static string? BindingFor(IReadOnlyList<string> preference, List<string>? listed, ClientChannelBinding binding)
    {
        if (listed is not null)
        {
            foreach (var preferred in preference)
                if (listed.Contains(preferred) && binding.GetBindingData(preferred) is not null) return preferred;
            return null;
        }
        if (preference.Contains(ChannelBinding.TlsUnique) && binding.GetBindingData(ChannelBinding.TlsUnique) is not null) return ChannelBinding.TlsUnique;
        if (preference.Contains(ChannelBinding.TlsServerEndPoint) && binding.GetBindingData(ChannelBinding.TlsServerEndPoint) is not null) return ChannelBinding.TlsServerEndPoint;
        return null;
    }

    /// <summary>A FAST token run, if the server offers the token's mechanism and the connection has its binding.</summary>
    public static SaslExchange? ChooseToken(FastToken token, string username, IReadOnlyList<string> offered, ClientChannelBinding? binding)
    {
        if (!offered.Contains(token.Mechanism)) return null;
        string? type = token.Mechanism switch
        {
            "HT-SHA-256-ENDP" => ChannelBinding.TlsServerEndPoint,
            "HT-SHA-256-UNIQ" => ChannelBinding.TlsUnique,
            "HT-SHA-256-NONE" => null,
            _ => "unsupported",
        };
        if (type == "unsupported") return null;
        byte[] data = [];
        if (type is not null)
        {
            if (binding?.GetBindingData(type) is not { } bound) return null;
            data = bound;
        }
        var key = Encoding.UTF8.GetBytes(token.Token);
        var user = Encoding.UTF8.GetBytes(username);
        var initial = new byte[user.Length + 1 + 32];
        user.CopyTo(initial, 0);
        Hmac(key, "Initiator", data).CopyTo(initial, user.Length + 1);
        return new SaslExchange(token.Mechanism, initial, type, null, Hmac(key, "Responder", data));
    }

    // The mechanism FAST tokens are asked for: the strongest binding this connection has.
    public static string? TokenMechanismFor(IReadOnlyList<string> offered, ClientChannelBinding? binding)
    {
        if (offered.Contains("HT-SHA-256-ENDP") && binding?.GetBindingData(ChannelBinding.TlsServerEndPoint) is not null) return "HT-SHA-256-ENDP";
        if (offered.Contains("HT-SHA-256-UNIQ") && binding?.GetBindingData(ChannelBinding.TlsUnique) is not null) return "HT-SHA-256-UNIQ";
        return offered.Contains("HT-SHA-256-NONE") ? "HT-SHA-256-NONE" : null;
    }

    private static byte[] Hmac(byte[] key, string label, byte[] binding)
    {
        var message = new byte[label.Length + binding.Length];
        Encoding.ASCII.GetBytes(label, message);
        binding.CopyTo(message, label.Length);
        return HMACSHA256.HashData(key, message);
    }
}
