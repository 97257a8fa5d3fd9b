using System.Buffers;
using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

/// <summary>Mutated input only ever yields frames or an <see cref="XmlStreamException"/>.</summary>
public sealed class XmlFramerFuzzTests
{
    private static readonly byte[][] Seeds =
    [
        Utf8(XmlFramerTests.ClientStream),
        Utf8(XmlFramerSplitTests.ServerStream),
    ];

    private static readonly byte[][] Insertions =
    [
        Utf8("<"), Utf8("&"), Utf8("]]>"), Utf8(">"), Utf8("'"), Utf8("\""), Utf8("/"), Utf8("&#x"), Utf8("&#"), Utf8(";"),
        Utf8("<![CDATA["), Utf8("<!--"), Utf8("<?"), Utf8("</"), Utf8("xmlns:"), Utf8(":"), Utf8("="), [0xEF, 0xBF], [0xC3], [0xF0, 0x9F], [0],
    ];

    private static readonly int Seed = int.Parse(Environment.GetEnvironmentVariable("PARLEY_FUZZ_SEED") ?? "20110301", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly int Iterations = int.Parse(Environment.GetEnvironmentVariable("PARLEY_FUZZ_ITERATIONS") ?? "2000", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Mutated_streams_yield_frames_or_stream_errors_only()
    {
        var random = new Random(Seed);
        var options = new XmlFramerOptions { MaxElementBytes = 600, MaxDepth = 5, MaxAttributes = 6, MaxHeaderBytes = 300 };
        var outcomes = new Dictionary<string, int>();
        var frameCount = 0;
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var input = Mutate(Seeds[iteration % Seeds.Length], random);
            var fragments = iteration % 7 == 0;
            var o = options with { Fragments = fragments };
            var whole = Run(() => Whole(input, o, complete: false), input);
            var chunks = new List<byte[]>();
            for (var offset = 0; offset < input.Length;)
            {
                var size = Math.Min(random.Next(1, 64), input.Length - offset);
                chunks.Add(input[offset..(offset + size)]);
                offset += size;
            }
            var chunked = Run(() => Chunked(chunks, o), input);
            // Elements read in full (every child, attribute and text made from the parser's records) are written the
            // same as elements written straight from the records.
            var read = Run(() => WholeReadInFull(input, o), input);
            if (whole.Error is null)
                Assert.True(whole.Frames.SequenceEqual(read.Frames), $"read in full and unread differ for {Convert.ToBase64String(input)}");
            var key = whole.Error?.ToString() ?? "ok";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            frameCount += whole.Frames.Count;
            // Cutting the input differently never changes the frames. (Whether a truncated stream fails may differ:
            // an element that is all there is parsed, and rejected, at once, while one that trickles in is only
            // parsed when complete; the condition may differ too, a trickling malformed element may first exceed a limit.)
            if (whole.Error is null && chunked.Error is null)
                Assert.True(whole.Frames.SequenceEqual(chunked.Frames), $"whole and chunked differ for {Convert.ToBase64String(input)}");
        }
        // The mutations must exercise both the happy path and many kinds of error.
        var summary = string.Join(", ", outcomes.OrderBy(p => p.Key).Select(p => p.Key + "=" + p.Value)) + ", frames=" + frameCount;
        Assert.True(outcomes.GetValueOrDefault("ok") > 100 && outcomes.Count >= 5, summary);
    }

    private static List<string> WholeReadInFull(byte[] input, XmlFramerOptions options)
    {
        var framer = new XmlFramer(options);
        var buffer = new System.Buffers.ReadOnlySequence<byte>(input);
        var frames = new List<string>();
        while (framer.TryRead(ref buffer, out var frame))
        {
            if (frame.Element is not null) ReadEverything(frame.Element);
            frames.Add(Describe(frame));
        }
        return frames;
    }

    private static void ReadEverything(Element e)
    {
        _ = e.Attributes;
        foreach (var node in e.Nodes)
            if (node is Element child) ReadEverything(child);
    }

    private static (List<string> Frames, StreamErrorCondition? Error) Run(Func<List<string>> parse, byte[] input)
    {
        try
        {
            return (parse(), null);
        }
        catch (XmlStreamException e)
        {
            return ([], e.Error.Condition);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{e.GetType().Name} for input (base64) {Convert.ToBase64String(input)}: {e}");
            throw;
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var data = new List<byte>(seed);
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations && data.Count > 0; m++)
        {
            var at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0: // flip a byte
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1: // insert markup-significant bytes
                    data.InsertRange(at, Insertions[random.Next(Insertions.Length)]);
                    break;
                case 2: // delete a range
                    data.RemoveRange(at, Math.Min(random.Next(1, 20), data.Count - at));
                    break;
                case 3: // duplicate a range
                    var length = Math.Min(random.Next(1, 80), data.Count - at);
                    data.InsertRange(random.Next(data.Count), data.GetRange(at, length));
                    break;
                case 4: // truncate
                    data.RemoveRange(at, data.Count - at);
                    break;
                default: // random byte
                    data[at] = (byte)random.Next(256);
                    break;
            }
        }
        return [.. data];
    }

    [Fact]
    public void Stream_error_never_escapes_as_another_exception_for_random_bytes()
    {
        var random = new Random(7395);
        var buffer = new byte[200];
        for (var i = 0; i < 500; i++)
        {
            random.NextBytes(buffer);
            var input = i % 2 == 0 ? [.. Utf8(XmlFramerTests.ClientStream[..200]), .. buffer] : buffer;
            Run(() => Whole(input, complete: false), input);
        }
    }

    [Fact]
    public void Empty_input_yields_nothing()
    {
        var framer = new XmlFramer();
        var buffer = ReadOnlySequence<byte>.Empty;
        Assert.False(framer.TryRead(ref buffer, out _));
    }
}
