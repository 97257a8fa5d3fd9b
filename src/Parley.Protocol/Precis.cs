using System.Globalization;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// PRECIS (RFC 8264) with the profiles XMPP addresses and passwords use (RFC 8265): UsernameCaseMapped for
/// localparts and OpaqueString for resourceparts and passwords.
/// </summary>
/// <remarks>
/// The derived property of RFC 8264 §8 is computed from .NET's Unicode data (general category, normalization):
/// ASCII7 and letters/digits are PVALID; other letters/digits, spaces, symbols, punctuation and compatibility
/// characters are FREE_PVAL (IdentifierClass refuses them, FreeformClass accepts them); controls, unassigned,
/// surrogates, private use, format characters, noncharacters and old Hangul jamo are DISALLOWED, and so are the
/// RFC 5892 §2.6 exceptions it lists as such. Approximations: the CONTEXTJ/CONTEXTO rules are not evaluated, so
/// ZWJ/ZWNJ and the CONTEXTO exceptions are refused in identifiers; the bidi rule (RFC 5893) is approximated as
/// "no string mixes right-to-left and left-to-right letters".
/// </remarks>
internal static class Precis
{
    private static readonly System.Buffers.SearchValues<char> ForbiddenInLocalpart = System.Buffers.SearchValues.Create("\"&'/:<>@");   // RFC 7622 §3.3.1

    /// <summary>RFC 8265 §3.3 UsernameCaseMapped, plus RFC 7622 §3.3.1's extra exclusions for localparts.</summary>
    public static bool TryPrepareUsernameCaseMapped(string input, out string output) => TryPrepareUsername(input, localpart: true, out output);

    internal static bool TryPrepareUsername(string input, bool localpart, out string output)
    {
        output = "";
        if (input.Length == 0) return false;
        if (IsSimpleAscii(input, identifier: true))
        {
            // Fast path: printable ASCII needs only case mapping.
            output = input.ToLowerInvariant();
        }
        else
        {
            var mapped = WidthMap(input);                                   // §3.3.2 step 1
            mapped = mapped.ToLowerInvariant();                              // step 3: case mapping
            if (!IsNormalizedNfc(mapped, out mapped)) return false;          // step 4: NFC
            if (!Check(mapped, identifier: true) || !BidiOk(mapped)) return false;
            output = mapped;
        }
        if (localpart && output.AsSpan().IndexOfAny(ForbiddenInLocalpart) >= 0) return false;
        return output.Length > 0;
    }

    /// <summary>RFC 8265 §4.2 OpaqueString (resourceparts, passwords).</summary>
    public static bool TryPrepareOpaqueString(string input, out string output)
    {
        output = "";
        if (input.Length == 0) return false;
        if (IsSimpleAscii(input, identifier: false))
        {
            output = input;
            return true;
        }
        // §4.2.2: non-ASCII spaces become U+0020; no width or case mapping; NFC.
        var sb = new StringBuilder(input.Length);
        foreach (var rune in input.EnumerateRunes())
        {
            if (rune.Value > 0x7F && Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator) sb.Append(' ');
            else sb.Append(rune.ToString());
        }
        if (!IsNormalizedNfc(sb.ToString(), out var normalized)) return false;
        if (!Check(normalized, identifier: false)) return false;
        output = normalized;
        return output.Length > 0;
    }

    private static bool IsSimpleAscii(string s, bool identifier)
    {
        foreach (var c in s)
        {
            if (c > 0x7E) return false;
            if (c < 0x20) return false;
            if (c == 0x20 && identifier) return false;
        }
        return true;
    }

    // RFC 8265 §3.3.2 step 1: fullwidth and halfwidth characters map to their decompositions.
    private static string WidthMap(string s)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c is >= '\uFF01' and <= '\uFFEE')
            {
                sb ??= new StringBuilder(s, 0, i, s.Length);
                sb.Append(c.ToString().Normalize(NormalizationForm.FormKC));
            }
            else
            {
                sb?.Append(c);
            }
        }
        return sb?.ToString() ?? s;
    }

    private static bool IsNormalizedNfc(string s, out string normalized)
    {
        normalized = s;
        try
        {
            if (!s.IsNormalized(NormalizationForm.FormC)) normalized = s.Normalize(NormalizationForm.FormC);
            return true;
        }
        catch (ArgumentException)
        {
            return false;     // lone surrogates
        }
    }

    // RFC 8264 §8–§9: every code point must be PVALID (identifier) or PVALID/FREE_PVAL (freeform).
    private static bool Check(string s, bool identifier)
    {
        for (var i = 0; i < s.Length;)
        {
            if (Rune.DecodeFromUtf16(s.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done) return false;
            i += used;
            var property = Property(rune);
            if (property == DerivedProperty.Disallowed) return false;
            if (identifier && property == DerivedProperty.FreePval) return false;
        }
        return true;
    }

    private enum DerivedProperty { Pvalid, FreePval, Disallowed }

    private static DerivedProperty Property(Rune rune)
    {
        var cp = rune.Value;
        // RFC 5892 §2.6 exceptions.
        switch (cp)
        {
            case 0x00DF or 0x03C2 or 0x06FD or 0x06FE or 0x0F0B or 0x3007:
                return DerivedProperty.Pvalid;
            case 0x0640 or 0x07FA or 0x302E or 0x302F or (>= 0x3031 and <= 0x3035) or 0x303B:
                return DerivedProperty.Disallowed;
            case 0x00B7 or 0x0375 or 0x05F3 or 0x05F4 or 0x30FB or (>= 0x0660 and <= 0x0669) or (>= 0x06F0 and <= 0x06F9):
                return DerivedProperty.Disallowed;       // CONTEXTO: not evaluated
            case 0x200C or 0x200D:
                return DerivedProperty.Disallowed;       // CONTEXTJ: not evaluated
        }
        if (cp is >= 0x21 and <= 0x7E) return DerivedProperty.Pvalid;                       // ASCII7
        if ((cp & 0xFFFE) == 0xFFFE || cp is >= 0xFDD0 and <= 0xFDEF) return DerivedProperty.Disallowed; // noncharacters
        if (cp is >= 0x1100 and <= 0x11FF or >= 0xA960 and <= 0xA97F or >= 0xD7B0 and <= 0xD7FF) return DerivedProperty.Disallowed; // old Hangul jamo
        var category = Rune.GetUnicodeCategory(rune);
        switch (category)
        {
            case UnicodeCategory.OtherNotAssigned or UnicodeCategory.Control or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator:
                return DerivedProperty.Disallowed;
        }
        // HasCompat: a compatibility decomposition makes it FREE_PVAL.
        var text = rune.ToString();
        if (!text.IsNormalized(NormalizationForm.FormKC)) return DerivedProperty.FreePval;
        return category switch
        {
            UnicodeCategory.LowercaseLetter or UnicodeCategory.UppercaseLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ModifierLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => DerivedProperty.Pvalid,
            _ => DerivedProperty.FreePval,   // other letters/digits, spaces, symbols, punctuation
        };
    }

    // Approximation of the bidi rule (RFC 5893 / RFC 8265 §3.3.3 step 5): right-to-left and left-to-right letters
    // do not mix in one string.
    private static bool BidiOk(string s)
    {
        bool rtl = false, ltr = false;
        foreach (var rune in s.EnumerateRunes())
        {
            var cp = rune.Value;
            if (cp is >= 0x0590 and <= 0x08FF or >= 0xFB1D and <= 0xFDFF or >= 0xFE70 and <= 0xFEFF or >= 0x10800 and <= 0x10FFF or >= 0x1E800 and <= 0x1EFFF)
            {
                if (Rune.IsLetter(rune)) rtl = true;
            }
            else if (Rune.IsLetter(rune))
            {
                ltr = true;
            }
        }
        return !(rtl && ltr);
    }
}
