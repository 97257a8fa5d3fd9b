using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Parley.Protocol;

namespace Parley.Protocol.Tests.Framing;

/// <summary>Builds byte sequences and drives a framer the way a connection does.</summary>
internal static class FramingHelpers
{
    public const string ClientHeader =
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en'>";

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A sequence of one segment per array (empty arrays become empty segments).</summary>
    public static ReadOnlySequence<byte> Sequence(params byte[][] segments)
    {
        if (segments.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(segments[0], 0);
        var last = first;
        for (var i = 1; i < segments.Length; i++) last = last.Append(segments[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Parses the whole input given at once as one segment.</summary>
    public static List<string> Whole(byte[] input, XmlFramerOptions? options = null, bool complete = true)
    {
        var framer = new XmlFramer(options);
        var buffer = new ReadOnlySequence<byte>(input);
        var frames = Drain(framer, ref buffer);
        if (complete) Assert.True(buffer.IsEmpty || IsWhitespace(buffer), "unconsumed input after the last frame");
        return frames;
    }

    /// <summary>Parses the input given at once as several segments.</summary>
    public static List<string> Segmented(byte[][] segments, XmlFramerOptions? options = null)
    {
        var framer = new XmlFramer(options);
        var buffer = Sequence(segments);
        return Drain(framer, ref buffer);
    }

    /// <summary>
    /// Simulates a PipeReader loop: each chunk arrives in turn; after each read the framer's unconsumed bytes are kept
    /// (AdvanceTo(buffer.Start, buffer.End)) and presented again, followed by the next chunk as a new segment.
    /// </summary>
    public static List<string> Chunked(IEnumerable<byte[]> chunks, XmlFramerOptions? options = null)
    {
        var framer = new XmlFramer(options);
        var pending = new List<byte[]>();
        var frames = new List<string>();
        foreach (var chunk in chunks)
        {
            pending.Add(chunk);
            var buffer = Sequence([.. pending]);
            var before = buffer.Length;
            frames.AddRange(Drain(framer, ref buffer));
            var consumed = before - buffer.Length;
            Assert.True(consumed >= 0);
            // Keep exactly the unconsumed bytes, still split into the segments they arrived in.
            while (consumed > 0)
            {
                if (pending[0].Length <= consumed)
                {
                    consumed -= pending[0].Length;
                    pending.RemoveAt(0);
                }
                else
                {
                    pending[0] = pending[0][(int)consumed..];
                    consumed = 0;
                }
            }
        }
        return frames;
    }

    public static List<string> OneByteAtATime(byte[] input, XmlFramerOptions? options = null)
    {
        var chunks = new List<byte[]>(input.Length);
        foreach (var b in input) chunks.Add([b]);
        return Chunked(chunks, options);
    }

    /// <summary>Runs the framer over a real <see cref="Pipe"/>, writing the input in chunks of the given size.</summary>
    public static async Task<List<string>> ThroughPipeAsync(byte[] input, int chunkSize, XmlFramerOptions? options = null)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 16, pauseWriterThreshold: 0));
        var framer = new XmlFramer(options);
        var frames = new List<string>();
        for (var offset = 0; offset < input.Length; offset += chunkSize)
        {
            await pipe.Writer.WriteAsync(input.AsMemory(offset, Math.Min(chunkSize, input.Length - offset)));
            var read = await pipe.Reader.ReadAsync();
            var buffer = read.Buffer;
            frames.AddRange(Drain(framer, ref buffer));
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
        return frames;
    }

    public static List<string> Drain(XmlFramer framer, ref ReadOnlySequence<byte> buffer)
    {
        var frames = new List<string>();
        while (framer.TryRead(ref buffer, out var frame)) frames.Add(Describe(frame));
        return frames;
    }

    /// <summary>A comparable text form of a frame.</summary>
    public static string Describe(XmlFrame frame) => frame.Kind switch
    {
        XmlFrameKind.StreamOpen => Describe(frame.Header!),
        XmlFrameKind.Element => "ELEMENT " + ElementWriter.ToXmlString(frame.Element!),
        _ => "CLOSE",
    };

    public static string Describe(StreamHeader h)
    {
        var prefixes = new StringBuilder();
        foreach (var (k, v) in h.Prefixes.OrderBy(p => p.Key, StringComparer.Ordinal)) prefixes.Append(' ').Append(k).Append('=').Append(v);
        return $"OPEN to={h.To} from={h.From} id={h.Id} version={h.Version} lang={h.Lang} content={h.ContentNamespace} stream={h.StreamNamespace}{prefixes}";
    }

    /// <summary>The single element in a stanza fed after a client header.</summary>
    public static Element ParseStanza(string xml)
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + xml));
        Assert.True(framer.TryRead(ref buffer, out var open));
        Assert.Equal(XmlFrameKind.StreamOpen, open.Kind);
        Assert.True(framer.TryRead(ref buffer, out var frame));
        Assert.Equal(XmlFrameKind.Element, frame.Kind);
        return frame.Element!;
    }

    /// <summary>The stream error raised while reading all of <paramref name="input"/>.</summary>
    public static StreamErrorCondition ErrorOf(string input, XmlFramerOptions? options = null) => ErrorOf(Utf8(input), options);

    public static StreamErrorCondition ErrorOf(byte[] input, XmlFramerOptions? options = null)
    {
        var whole = Assert.Throws<XmlStreamException>(() => Whole(input, options)).Error.Condition;
        // The same error must come out when the bytes trickle in.
        var trickled = Assert.Throws<XmlStreamException>(() => OneByteAtATime(input, options)).Error.Condition;
        Assert.Equal(whole, trickled);
        return whole;
    }

    private static bool IsWhitespace(ReadOnlySequence<byte> buffer)
    {
        foreach (var b in buffer.ToArray())
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        return true;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
