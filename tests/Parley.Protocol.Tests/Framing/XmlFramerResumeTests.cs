using System.Buffers;
using System.Text;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

/// <summary>
/// A stanza found incomplete in its first segment is finished by going on with the same parse once more input is
/// there (over the next 512 bytes, then the whole next segment, then after the first pass has found its end): however
/// a large stanza is cut, the frames and errors are those of the whole input.
/// </summary>
public sealed class XmlFramerResumeTests
{
    // A roster result of about 3 KB with what the parse keeps across a cut: open elements, a prefix declared on an
    // ancestor and used below, xml:lang, references, non-ASCII text and attribute values, CDATA, empty elements, text
    // on both sides of a child.
    private static string LargeStanza(string? poison = null)
    {
        var sb = new StringBuilder("<iq type='result' id='r1' xmlns:x='urn:example:x'><query xmlns='jabber:iq:roster' ver='v9'>");
        for (var n = 0; n < 24; n++)
        {
            sb.Append("<item jid='contact").Append(n).Append("@example.org' name='Ćontact &amp; ").Append(n)
              .Append("' subscription='both' x:tag='t").Append(n).Append("' xml:lang='de'>")
              .Append(n % 4 == 0 ? "<group>Grüße &lt;3</group>" : n % 4 == 1 ? "<group><![CDATA[a <b> c]]></group>" : "<group>Colleagues</group>")
              .Append(n == 20 && poison is not null ? poison : "")
              .Append(n % 5 == 0 ? "<x:note>a &amp; b<x:sub>c &amp; d</x:sub>e</x:note>" : "<x:note/>").Append("</item>");
        }
        return sb.Append("</query></iq>").ToString();
    }

    private static byte[] Input(string stanza) =>
        Utf8(ClientHeader + "<presence/>" + stanza + "<message to='a@b'><body>after</body></message></stream:stream>");

    [Fact]
    public void A_large_stanza_split_anywhere_into_two_yields_the_same_frames()
    {
        var input = Input(LargeStanza());
        var expected = Whole(input);
        Assert.Equal(5, expected.Count);
        for (var k = 0; k <= input.Length; k++)
        {
            byte[] a = input[..k], b = input[k..];
            Assert.Equal(expected, Segmented([a, b]));
            Assert.Equal(expected, Chunked([a, b]));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(100)]
    [InlineData(300)]
    [InlineData(600)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void A_large_stanza_in_reads_of_any_size_yields_the_same_frames(int size)
    {
        var input = Input(LargeStanza());
        var expected = Whole(input);
        var chunks = new List<byte[]>();
        for (var offset = 0; offset < input.Length; offset += size) chunks.Add(input[offset..Math.Min(offset + size, input.Length)]);
        Assert.Equal(expected, Chunked(chunks));
        Assert.Equal(expected, Segmented([.. chunks]));
    }

    [Theory]
    [InlineData("<!-- late -->", StreamErrorCondition.RestrictedXml)]
    [InlineData("<y:late/>", StreamErrorCondition.BadNamespacePrefix)]
    [InlineData("<late a='1' a='2'/>", StreamErrorCondition.NotWellFormed)]
    [InlineData("<late>&nbsp;</late>", StreamErrorCondition.RestrictedXml)]
    public void A_late_error_in_a_large_stanza_is_the_same_however_it_is_cut(string poison, StreamErrorCondition condition)
    {
        var input = Input(LargeStanza(poison));
        Assert.Equal(condition, Assert.Throws<XmlStreamException>(() => Whole(input)).Error.Condition);
        for (var k = 0; k <= input.Length; k += 7)
        {
            byte[] a = input[..k], b = input[k..];
            Assert.Equal(condition, Assert.Throws<XmlStreamException>(() => Segmented([a, b])).Error.Condition);
            Assert.Equal(condition, Assert.Throws<XmlStreamException>(() => Chunked([a, b])).Error.Condition);
        }
    }

    [Fact]
    public void A_reset_forgets_a_stanza_cut_short()
    {
        var framer = new XmlFramer();
        var first = Utf8(ClientHeader + "<message xmlns:x='urn:example:x'><body>half");
        var buffer = new ReadOnlySequence<byte>(first);
        Assert.True(framer.TryRead(ref buffer, out var open));
        Assert.Equal(XmlFrameKind.StreamOpen, open.Kind);
        Assert.False(framer.TryRead(ref buffer, out _));

        // RFC 6120 §4.3.3: after a restart nothing of the old stream is in scope, the x prefix included.
        framer.Reset();
        buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + "<message><body>new</body></message><x:y/>"));
        Assert.True(framer.TryRead(ref buffer, out open));
        Assert.Equal(XmlFrameKind.StreamOpen, open.Kind);
        Assert.True(framer.TryRead(ref buffer, out var frame));
        Assert.Equal("new", frame.Element!.ChildText("body", Ns.Client));
        Assert.Equal(StreamErrorCondition.BadNamespacePrefix,
            Assert.Throws<XmlStreamException>(() => framer.TryRead(ref buffer, out _)).Error.Condition);
    }
}
