using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Storage;

namespace Parley.Server.Admin;

/// <summary>
/// Bearer tokens for the REST API (<c>parley token create</c>). A token is 32 random bytes shown once; only its
/// SHA-256 is stored, under which it is looked up, so the store holds nothing that opens the API.
/// </summary>
public sealed class AdminTokens(IStorage storage, IOptions<ParleyOptions> options, TimeProvider time)
{
    private const string Prefix = "parley_";
    private readonly IMapStore _store = storage.Map("admin.tokens");
    private readonly Jid _server = Jid.Create(null, options.Value.Domain);

    /// <summary>A stored token: its id (the first 12 hex digits of its hash), name, creation and expiry.</summary>
    public sealed record TokenInfo(string Id, string Name, DateTimeOffset Created, DateTimeOffset? Expires);

    /// <summary>Issues a token; returns it (the only time it is seen) and its record.</summary>
    public async Task<(string Token, TokenInfo Info)> CreateAsync(string name, int days, CancellationToken ct)
    {
        var token = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var hash = Hash(token);
        var now = time.GetUtcNow();
        var info = new TokenInfo(hash[..12], name, now, days > 0 ? now.AddDays(days) : null);
        var element = new Element("token", "urn:parley:admin")
            .SetAttribute("name", name)
            .SetAttribute("created", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        if (info.Expires is { } e) element.SetAttribute("expires", e.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        await _store.SetAsync(_server, hash, element, ct).ConfigureAwait(false);
        return (token, info);
    }

    /// <summary>The token's record when it is valid (issued here, not revoked, not expired); otherwise null.</summary>
    public async Task<TokenInfo?> ValidateAsync(string? token, CancellationToken ct)
    {
        if (token is null || !token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 128) return null;
        var hash = Hash(token);
        var element = await _store.GetAsync(_server, hash, ct).ConfigureAwait(false);
        if (element is null) return null;
        var info = Read(hash, element);
        return info.Expires is { } e && e <= time.GetUtcNow() ? null : info;
    }

    /// <summary>Every token's record, oldest first.</summary>
    public async Task<List<TokenInfo>> ListAsync(CancellationToken ct)
    {
        var list = new List<TokenInfo>();
        foreach (var (hash, element) in await _store.GetAllAsync(_server, ct).ConfigureAwait(false)) list.Add(Read(hash, element));
        list.Sort((a, b) => a.Created != b.Created ? a.Created.CompareTo(b.Created) : string.CompareOrdinal(a.Id, b.Id));
        return list;
    }

    /// <summary>Revokes the tokens whose id or name is given; returns how many.</summary>
    public async Task<int> RevokeAsync(string idOrName, CancellationToken ct)
    {
        var revoked = 0;
        foreach (var (hash, element) in await _store.GetAllAsync(_server, ct).ConfigureAwait(false))
        {
            if (hash[..12] != idOrName && element.GetAttribute("name") != idOrName) continue;
            await _store.SetAsync(_server, hash, null, ct).ConfigureAwait(false);
            revoked++;
        }
        return revoked;
    }

    private static TokenInfo Read(string hash, Element element)
    {
        static DateTimeOffset? Time(string? s) =>
            long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? DateTimeOffset.FromUnixTimeSeconds(v) : null;
        return new TokenInfo(hash[..12], element.GetAttribute("name") ?? "", Time(element.GetAttribute("created")) ?? DateTimeOffset.UnixEpoch, Time(element.GetAttribute("expires")));
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
