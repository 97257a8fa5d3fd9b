using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Parley.Protocol.Sasl;

namespace Parley.Load;

/// <summary>
/// SaltedPassword per account, salt and iteration count, kept in a file between runs of the generator (RFC 5802
/// §5.1 lets a client cache it, as mobile clients do). The register scenario logs every new account in once, so
/// that the storm and the other scenarios log in as returning clients and the generator does not spend its CPU on
/// PBKDF2 (about 2 ms a login at 4,096 iterations of SHA-256 here, more than the servers spend on the whole setup).
/// The same for every server under test. One line per entry: hash, username, salt, iterations, key (base64).
/// </summary>
internal sealed class ScramKeyFile : IScramKeyCache
{
    private readonly string _path;
    private readonly ConcurrentDictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private int _added;

    public ScramKeyFile(string path)
    {
        _path = path;
        if (!File.Exists(path)) return;
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split('\t');
            if (fields.Length != 5 || !Enum.TryParse<ScramHash>(fields[0], out var hash)) continue;
            if (!int.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)) continue;
            try
            {
                _keys[Key(hash, fields[1], Convert.FromBase64String(fields[2]), iterations)] = Convert.FromBase64String(fields[4]);
            }
            catch (FormatException)
            {
                // A damaged line is a miss: the key is derived again.
            }
        }
    }

    public int Count => _keys.Count;

    public byte[]? Find(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations) =>
        _keys.TryGetValue(Key(hash, username, salt, iterations), out var key) ? key : null;

    public void Store(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations, byte[] saltedPassword)
    {
        if (_keys.TryAdd(Key(hash, username, salt, iterations), saltedPassword)) Interlocked.Increment(ref _added);
    }

    /// <summary>Writes the file again when this run added keys (only the owner may read it: the keys are password-equivalent).</summary>
    public void Save()
    {
        if (Volatile.Read(ref _added) == 0) return;
        var text = new StringBuilder();
        foreach (var (key, value) in _keys) text.Append(key).Append('\t').Append(Convert.ToBase64String(value)).Append('\n');
        var temporary = _path + ".tmp";
        File.WriteAllText(temporary, text.ToString());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, _path, overwrite: true);
    }

    private static string Key(ScramHash hash, string username, ReadOnlySpan<byte> salt, int iterations) =>
        string.Join('\t', hash.ToString(), username, Convert.ToBase64String(salt), iterations.ToString(CultureInfo.InvariantCulture));
}
