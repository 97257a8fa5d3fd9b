using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parley.Server.Federation;

/// <summary>
/// XEP-0220 §2.1.1 / XEP-0185: dialback keys, HMAC-SHA256 keyed with the hex SHA-256 of a secret known only to this
/// server, over "receiving originating streamid". The secret comes from S2s:DialbackSecret or is generated once into
/// the data directory, so keys stay valid across restarts.
/// </summary>
public sealed class DialbackKeys
{
    private readonly Lazy<byte[]> _hmacKey;

    /// <summary>Reads or generates the secret on first use.</summary>
    public DialbackKeys(IOptions<ParleyOptions> options, ILogger<DialbackKeys> log)
    {
        var o = options.Value;
        _hmacKey = new Lazy<byte[]>(() => HmacKey(o.S2s.DialbackSecret ?? LoadOrCreate(o.DataDirectory, log)));
    }

    /// <summary>A key from a given secret (for tests against the XEP's examples).</summary>
    internal DialbackKeys(string secret) => _hmacKey = new Lazy<byte[]>(() => HmacKey(secret));

    /// <summary>The key the originating server sends for a stream whose id the receiving server chose.</summary>
    public string Key(string receiving, string originating, string streamId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_hmacKey.Value, Encoding.UTF8.GetBytes(receiving + " " + originating + " " + streamId)));

    /// <summary>XEP-0220 §2.2.2: whether a key presented to a receiving server is one this server made.</summary>
    public bool IsValid(string receiving, string originating, string streamId, string key) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Key(receiving, originating, streamId)), Encoding.ASCII.GetBytes(key.Trim()));

    private static byte[] HmacKey(string secret) =>
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))));

    private static string LoadOrCreate(string dataDirectory, ILogger log)
    {
        var path = Path.Combine(dataDirectory, "s2s", "dialback.secret");
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length >= 16) return existing;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        // Readable by the owner only, before it holds anything.
        File.WriteAllText(path, "");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, secret + "\n");
        S2sLog.SecretGenerated(log, Path.GetFullPath(path));
        return secret;
    }
}
