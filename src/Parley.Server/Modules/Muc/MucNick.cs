using System.Text;
using Parley.Protocol;

namespace Parley.Server.Modules.Muc;

/// <summary>
/// Room nicknames under the PRECIS Nickname profile (RFC 8266): enforcement gives the nick an occupant gets
/// (status 210 when it differs from the one asked for), comparison decides conflicts and reserved nicks.
/// </summary>
internal sealed class MucNick : IEqualityComparer<string>
{
    /// <summary>Compares nicks as RFC 8266 §2.4 does (so "Alice", "alice" and "Alice " are one nick).</summary>
    public static MucNick Comparer { get; } = new();

    /// <summary>RFC 8266 §2.3: the nick an occupant gets for what it asked; false for an empty or disallowed one.</summary>
    public static bool TryEnforce(string input, out string nick)
    {
        nick = input;
        // §2.1: the rules are not idempotent for every code point: reapply until stable, at most three more times.
        for (var round = 0; round < 4; round++)
        {
            // §2.2: the FreeformClass; OpaqueString checks the same class and maps non-ASCII spaces (rule 2a).
            if (!Precis.TryPrepareOpaqueString(nick, out var prepared)) return false;
            var next = CollapseSpaces(prepared).Normalize(NormalizationForm.FormKC);    // rules 2b, 2c, then 4
            if (next.Length == 0) return false;
            if (next == nick) return true;
            nick = next;
        }
        return false;
    }

    /// <summary>RFC 8266 §2.4: the form two nicks are compared in (enforcement with the case mapping rule).</summary>
    public static string Comparable(string nick) =>
        TryEnforce(nick, out var enforced) ? enforced.ToLowerInvariant().Normalize(NormalizationForm.FormKC) : nick;

    public bool Equals(string? x, string? y) =>
        x is null || y is null ? x == y : string.Equals(Comparable(x), Comparable(y), StringComparison.Ordinal);

    public int GetHashCode(string obj) => string.GetHashCode(Comparable(obj), StringComparison.Ordinal);

    // RFC 8266 §2.1 rules 2b and 2c: no leading or trailing spaces, one space between words.
    private static string CollapseSpaces(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            if (c == ' ' && (sb.Length == 0 || sb[^1] == ' ')) continue;
            sb.Append(c);
        }
        if (sb.Length > 0 && sb[^1] == ' ') sb.Length--;
        return sb.ToString();
    }
}
