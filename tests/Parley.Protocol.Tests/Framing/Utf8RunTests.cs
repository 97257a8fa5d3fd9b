using System.Text.Unicode;

namespace Parley.Protocol.Tests.Framing;

/// <summary>
/// The parser's UTF-8 validation of character data (<see cref="Utf8Run"/>) agrees with the platform's
/// (<see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>) on every sequence of one to three bytes, on four-byte sequences
/// around every boundary, and on random text cut and placed at every offset of its 32-byte steps.
/// </summary>
public sealed class Utf8RunTests
{
    // The run sits at offset 'at' after a '>' and padding (ASCII, or lead bytes that the run must not be judged with), is followed by '<' and then by 'after' bytes of
    // whatever follows in a stanza, so the blocks, the input's end and the bytes before the run all vary.
    private static bool Check(ReadOnlySpan<byte> run, int at, int after, byte filler, byte before = (byte)'a')
    {
        var input = new byte[at + run.Length + 1 + after];
        input.AsSpan(0, at).Fill(before);
        if (at > 0) input[at - 1] = (byte)'>';
        run.CopyTo(input.AsSpan(at));
        input[at + run.Length] = (byte)'<';
        input.AsSpan(at + run.Length + 1).Fill(filler);
        var expected = Utf8.IsValid(run);
        var actual = Utf8Run.IsValid(input, at, at + run.Length);
        Assert.True(expected == actual, $"{Convert.ToHexString(run)} at {at}, {after} after: expected {expected}");
        return actual;
    }

    [Fact]
    public void Every_sequence_of_one_two_and_three_bytes_is_judged_as_the_platform_does()
    {
        Span<byte> run = stackalloc byte[3];
        var valid = 0;
        for (var a = 0; a < 256; a++)
        {
            run[0] = (byte)a;
            if (Check(run[..1], 40, 40, 0x80)) valid++;
            for (var b = 0; b < 256; b++)
            {
                run[1] = (byte)b;
                if (Check(run[..2], 40, 40, 0xBF)) valid++;
            }
        }
        // 128 one-byte and 1,920 two-byte sequences are valid.
        Assert.Equal(128 + 128 * 128 + 1920, valid);

        // Three bytes: every lead and second byte with a set of third bytes that covers each class.
        byte[] thirds = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF];
        for (var a = 0; a < 256; a++)
        for (var b = 0; b < 256; b++)
        foreach (var c in thirds)
        {
            run[0] = (byte)a;
            run[1] = (byte)b;
            run[2] = c;
            Check(run, 37, 50, 0x41);
        }
    }

    [Fact]
    public void Four_byte_sequences_around_every_limit_are_judged_as_the_platform_does()
    {
        byte[] leads = [0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF];
        byte[] conts = [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0];
        Span<byte> run = stackalloc byte[4];
        foreach (var a in leads)
        foreach (var b in conts)
        foreach (var c in conts)
        foreach (var d in conts)
        {
            run[0] = a;
            run[1] = b;
            run[2] = c;
            run[3] = d;
            Check(run, 33, 40, 0x80);
            Check(run[..3], 33, 40, 0x80); // cut short before the '<'
        }
    }

    [Fact]
    public void Random_text_at_every_offset_and_cut_anywhere_is_judged_as_the_platform_does()
    {
        var random = new Random(6120);
        string[] samples = ["Grüße aus München", "明日の会議は午後三時から", "On my way 🚲 😀👍", "Ελληνικά, русский, 한국어", "ok"];
        for (var round = 0; round < 400; round++)
        {
            var text = System.Text.Encoding.UTF8.GetBytes(samples[round % samples.Length] + samples[random.Next(samples.Length)]);
            var run = text.AsSpan(0, random.Next(1, text.Length + 1)).ToArray(); // often cut inside a sequence
            if (round % 3 == 0) run[random.Next(run.Length)] = (byte)random.Next(256); // and sometimes corrupted
            for (var at = 3; at < 3 + 33; at++)
            {
                Check(run, at, 0, 0, before: 0xF0);
                Check(run, at, 0, 0);
                Check(run, at, 1, 0xA0);
                Check(run, at, 40, 0x9F);
            }
        }
    }

    [Fact]
    public void A_run_longer_than_its_input_leaves_room_for_is_judged_as_the_platform_does()
    {
        // Fewer than 32 bytes from the run to the input's end, and runs that end in the input's last block.
        Check("Grüße"u8, 3, 0, 0);
        Check("Grü\u00DFe, plain and long enough to take two steps of 32 bytes"u8, 3, 0, 0);
        Check([0x47, 0x72, 0xC3], 3, 0, 0);
        Check([0x47, 0x72, 0xC3], 60, 2, 0);
    }
}
