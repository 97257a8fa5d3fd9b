using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Sasl;

/// <summary>
/// XEP-0484 FAST: tokens per (account, client installation) in two slots, 'new' and 'current' (§5.1), each bound to
/// the HT mechanism it was issued for and to an expiry; verified with the HT mechanisms
/// (draft-schmaus-kitten-sasl-ht): the client proves the token with HMAC(token, "Initiator" || channel binding), the
/// server answers with HMAC(token, "Responder" || channel binding). A token is a secret like a password: it is
/// never logged, and it is deleted with the account.
/// </summary>
internal sealed class FastTokens(IStorage storage, TimeProvider time)
{
    public const string Namespace = Ns.Fast;

    /// <summary>The FAST mechanisms: with tls-server-end-point binding, with tls-unique, and without binding.</summary>
    public static readonly string[] Mechanisms = ["HT-SHA-256-ENDP", "HT-SHA-256-UNIQ", "HT-SHA-256-NONE"];

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(21);
    private readonly IMapStore _store = storage.Map("fast");

    /// <summary>The channel-binding type an HT mechanism uses, or "" for none; null when it is not an HT mechanism.</summary>
    public static string? BindingType(string mechanism) => mechanism switch
    {
        "HT-SHA-256-ENDP" => ChannelBinding.TlsServerEndPoint,
        "HT-SHA-256-UNIQ" => ChannelBinding.TlsUnique,
        "HT-SHA-256-NONE" => "",
        _ => null,
    };

    /// <summary>Issues a token into the 'new' slot; returns the &lt;token/&gt; element for &lt;success/&gt;.</summary>
    public async Task<Element> IssueAsync(Jid account, string client, string mechanism, CancellationToken ct)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var expiry = time.GetUtcNow().Add(Lifetime);
        var slots = await _store.GetAsync(account, client, ct).ConfigureAwait(false) ?? new Element("slots", "urn:parley:fast");
        slots.RemoveAll(new QName("urn:parley:fast", "new"));
        slots.Add(new Element("new", "urn:parley:fast").SetAttribute("token", token).SetAttribute("mechanism", mechanism)
            .SetAttribute("expiry", expiry.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        await _store.SetAsync(account, client, slots, ct).ConfigureAwait(false);
        return new Element("token", Namespace).SetAttribute("token", token)
            .SetAttribute("expiry", expiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Checks an HT initial response (authcid NUL initiator-hash) for a client. On success returns the responder
    /// hash and whether the token is due for rotation; a matching 'new' token becomes 'current' (§5.1).
    /// </summary>
    public async Task<(bool Ok, byte[] Responder, bool Rotate)> VerifyAsync(Jid account, string client, string mechanism, byte[] initiatorHash, byte[] bindingData, bool invalidate, CancellationToken ct)
    {
        var slots = await _store.GetAsync(account, client, ct).ConfigureAwait(false);
        if (slots is null) return (false, [], false);
        var now = time.GetUtcNow();
        foreach (var name in (string[])["new", "current"])
        {
            if (slots.Child(name, "urn:parley:fast") is not { } slot) continue;
            if (slot.GetAttribute("mechanism") != mechanism) continue;
            if (!long.TryParse(slot.GetAttribute("expiry"), NumberStyles.None, CultureInfo.InvariantCulture, out var expiry) || DateTimeOffset.FromUnixTimeSeconds(expiry) <= now) continue;
            var token = Encoding.UTF8.GetBytes(slot.GetAttribute("token") ?? "");
            var expected = Hmac(token, "Initiator", bindingData);
            if (!CryptographicOperations.FixedTimeEquals(expected, initiatorHash)) continue;
            var responder = Hmac(token, "Responder", bindingData);
            if (invalidate)
            {
                await _store.SetAsync(account, client, null, ct).ConfigureAwait(false);
                return (true, responder, false);
            }
            if (name == "new")
            {
                slots.RemoveAll(new QName("urn:parley:fast", "current"));
                slots.Remove(slot);
                slots.Add(new Element("current", "urn:parley:fast").SetAttribute("token", slot.GetAttribute("token"))
                    .SetAttribute("mechanism", mechanism).SetAttribute("expiry", slot.GetAttribute("expiry")));
                await _store.SetAsync(account, client, slots, ct).ConfigureAwait(false);
            }
            // §3.5: rotate when less than a third of the lifetime is left.
            var rotate = DateTimeOffset.FromUnixTimeSeconds(expiry) - now < Lifetime / 3;
            return (true, responder, rotate);
        }
        return (false, [], false);
    }

    /// <summary>Forgets every token of an account.</summary>
    public Task DeleteAllAsync(Jid account, CancellationToken ct) => _store.DeleteAllAsync(account, ct);

    public static byte[] Hmac(byte[] token, string label, byte[] bindingData)
    {
        var message = new byte[label.Length + bindingData.Length];
        Encoding.ASCII.GetBytes(label, message);
        bindingData.CopyTo(message, label.Length);
        return HMACSHA256.HashData(token, message);
    }
}
