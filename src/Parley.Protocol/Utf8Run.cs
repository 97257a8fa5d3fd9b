using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Unicode;

namespace Parley.Protocol;

/// <summary>
/// UTF-8 validation of a run of character data that an ASCII byte ('&lt;') follows, 32 bytes a step: the lookup
/// algorithm of Keiser and Lemire ("Validating UTF-8 in less than one instruction per byte", 2021), in which three
/// table lookups on the nibbles of each byte and the one before it flag every invalid pair, and the two bytes before
/// that flag a missing third or fourth byte. Most message bodies are short and not ASCII, where the platform's
/// validator spends much of its time getting started. Without AVX2 the platform's validator does the work.
/// </summary>
internal static class Utf8Run
{
    // The error bits (the algorithm's names): each table gives, for a nibble, the errors a pair of bytes may have.
    private const byte TooShort = 1 << 0; // a lead byte or ASCII, then a lead byte or ASCII where a continuation is due
    private const byte TooLong = 1 << 1; // ASCII, then a continuation byte
    private const byte Overlong3 = 1 << 2; // E0, then 80..9F
    private const byte TooLarge = 1 << 3; // F4 then 90..BF, or F5..FF then a continuation
    private const byte Surrogate = 1 << 4; // ED, then A0..BF
    private const byte Overlong2 = 1 << 5; // C0 or C1
    private const byte TooLarge1000 = 1 << 6; // F5..FF, then 80..8F
    private const byte Overlong4 = 1 << 6; // F0, then 80..8F
    private const byte TwoConts = 1 << 7; // a continuation, then a continuation (valid only when a lead is due 2 or 3 back)
    private const byte Carry = TooShort | TooLong | TwoConts;

    // By the high nibble of the first byte of a pair.
    private static readonly Vector256<byte> FirstHigh = Lanes(
        TooLong, TooLong, TooLong, TooLong, TooLong, TooLong, TooLong, TooLong,
        TwoConts, TwoConts, TwoConts, TwoConts,
        TooShort | Overlong2,
        TooShort,
        TooShort | Overlong3 | Surrogate,
        TooShort | TooLarge | TooLarge1000 | Overlong4);

    // By the low nibble of the first byte.
    private static readonly Vector256<byte> FirstLow = Lanes(
        Carry | Overlong3 | Overlong2 | Overlong4,
        Carry | Overlong2,
        Carry,
        Carry,
        Carry | TooLarge,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000 | Surrogate,
        Carry | TooLarge | TooLarge1000,
        Carry | TooLarge | TooLarge1000);

    // By the high nibble of the second byte.
    private static readonly Vector256<byte> SecondHigh = Lanes(
        TooShort, TooShort, TooShort, TooShort, TooShort, TooShort, TooShort, TooShort,
        TooLong | Overlong2 | TwoConts | Overlong3 | TooLarge1000 | Overlong4,
        TooLong | Overlong2 | TwoConts | Overlong3 | TooLarge,
        TooLong | Overlong2 | TwoConts | Surrogate | TooLarge,
        TooLong | Overlong2 | TwoConts | Surrogate | TooLarge,
        TooShort, TooShort, TooShort, TooShort);

    // In the first block, the bytes before the run count as ASCII: 0 in the lanes whose byte 1, 2 or 3 back lies there.
    private static readonly Vector256<byte> FirstBlockBack1 = Vector256.GreaterThanOrEqual(Vector256<byte>.Indices, Vector256.Create((byte)1));
    private static readonly Vector256<byte> FirstBlockBack2 = Vector256.GreaterThanOrEqual(Vector256<byte>.Indices, Vector256.Create((byte)2));
    private static readonly Vector256<byte> FirstBlockBack3 = Vector256.GreaterThanOrEqual(Vector256<byte>.Indices, Vector256.Create((byte)3));

    /// <summary>Whether <c>s[start..end)</c> is valid UTF-8; <c>s[end]</c> must be an ASCII byte (it shows a
    /// sequence cut short at the run's end).</summary>
    public static bool IsValid(ReadOnlySpan<byte> s, int start, int end)
    {
        // Each step reads the 32 bytes of a block and the three before it.
        if (!Avx2.IsSupported || start < 3 || s.Length - start < 32) return Utf8.IsValid(s[start..end]);
        var nibble = Vector256.Create((byte)0x0F);
        var errors = Vector256<byte>.Zero;
        var p = start;
        while (p <= end)
        {
            // The last block is moved back to end at the input's end; its lanes before p were checked already.
            var q = Math.Min(p, s.Length - 32);
            var input = Vector256.Create(s.Slice(q, 32));
            var prev1 = Vector256.Create(s.Slice(q - 1, 32));
            var prev2 = Vector256.Create(s.Slice(q - 2, 32));
            var prev3 = Vector256.Create(s.Slice(q - 3, 32));
            if (q == start)
            {
                prev1 &= FirstBlockBack1;
                prev2 &= FirstBlockBack2;
                prev3 &= FirstBlockBack3;
            }
            var pairs = Avx2.Shuffle(FirstHigh, Vector256.ShiftRightLogical(prev1.AsUInt16(), 4).AsByte() & nibble)
                & Avx2.Shuffle(FirstLow, prev1 & nibble)
                & Avx2.Shuffle(SecondHigh, Vector256.ShiftRightLogical(input.AsUInt16(), 4).AsByte() & nibble);
            // A third or fourth byte is due where the byte 2 back is E0..FF or the byte 3 back is F0..FF: there two
            // continuations are right, and anything else wrong.
            var due = Avx2.SubtractSaturate(prev2, Vector256.Create((byte)(0xE0 - 0x80)))
                | Avx2.SubtractSaturate(prev3, Vector256.Create((byte)(0xF0 - 0x80)));
            var lanes = Vector256.GreaterThanOrEqual(Vector256<byte>.Indices, Vector256.Create((byte)(p - q)))
                & Vector256.LessThanOrEqual(Vector256<byte>.Indices, Vector256.Create((byte)Math.Min(end - q, 31)));
            errors |= ((due & Vector256.Create((byte)0x80)) ^ pairs) & lanes;
            p = q + 32;
        }
        return errors == Vector256<byte>.Zero;
    }

    private static Vector256<byte> Lanes(params ReadOnlySpan<byte> table)
    {
        var half = Vector128.Create(table);
        return Vector256.Create(half, half);
    }
}
