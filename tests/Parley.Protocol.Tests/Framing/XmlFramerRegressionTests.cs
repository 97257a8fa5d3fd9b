using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

/// <summary>Inputs that once broke the framer (or its tests), kept as bytes.</summary>
public sealed class XmlFramerRegressionTests
{
    // Fuzz: a fragment-mode element that never closes, with a mismatched end tag inside. Parsed whole it is
    // rejected at the end tag; trickling in, the first pass counts depth only and the element outgrows the limit.
    private static readonly byte[] UnclosedFragmentWithMismatchedEndTag =
        Utf8("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message></mes7IK>");

    // Fuzz: a truncated stream whose last element has a malformed attribute (to='a@b.e='chat').
    private static readonly byte[] TruncatedMalformedAttribute =
        Utf8(ClientHeader + "<message from='romeo@a.example/orchard' to='juliet@b.e='chat'><body>x</body>");

    [Fact]
    public void Mismatched_end_tag_in_an_unclosed_fragment_is_a_stream_error_however_it_arrives()
    {
        var options = new XmlFramerOptions { Fragments = true, MaxElementBytes = 200 };
        byte[] input = [.. UnclosedFragmentWithMismatchedEndTag, .. Utf8(new string(' ', 10) + "<x>" + new string('y', 300))];
        Assert.Equal(StreamErrorCondition.NotWellFormed, Assert.Throws<XmlStreamException>(() => Whole(input, options, complete: false)).Error.Condition);
        Assert.Equal(StreamErrorCondition.PolicyViolation, Assert.Throws<XmlStreamException>(() => OneByteAtATime(input, options)).Error.Condition);
    }

    [Fact]
    public void Malformed_attribute_in_an_incomplete_element_is_rejected_once_seen_whole()
    {
        Assert.Equal(StreamErrorCondition.NotWellFormed,
            Assert.Throws<XmlStreamException>(() => Whole(TruncatedMalformedAttribute, complete: false)).Error.Condition);
        // Trickling in, the element is only parsed when it is complete, and the stray quote makes the first pass
        // wait for its partner: the element limit ends that wait.
        var frames = OneByteAtATime(TruncatedMalformedAttribute);
        Assert.Single(frames);
        var options = new XmlFramerOptions { MaxElementBytes = 300 };
        byte[] more = [.. TruncatedMalformedAttribute, .. Utf8("</message>" + new string(' ', 400))];
        Assert.Equal(StreamErrorCondition.PolicyViolation, Assert.Throws<XmlStreamException>(() => OneByteAtATime(more, options)).Error.Condition);
    }

    [Fact]
    public void Cdata_terminator_split_across_segments_is_found()
    {
        var input = Utf8(ClientHeader + "<message><body><![CDATA[a]]]]><![CDATA[>b]]></body></message>");
        var expected = Whole(input);
        Assert.Contains("a]]&gt;b", expected[1], StringComparison.Ordinal);
        for (var k = 0; k <= input.Length; k++) Assert.Equal(expected, Chunked([input[..k], input[k..]]));
    }

    [Fact]
    public void Comment_start_split_after_the_first_dash_is_still_restricted_xml()
    {
        var input = Utf8(ClientHeader + "<message><!-");
        var framer = new XmlFramer();
        var buffer = new System.Buffers.ReadOnlySequence<byte>(input);
        Assert.True(framer.TryRead(ref buffer, out _));
        Assert.False(framer.TryRead(ref buffer, out _));
        buffer = Sequence(System.Buffers.BuffersExtensions.ToArray(buffer), Utf8("- x -->"));
        Assert.Equal(StreamErrorCondition.RestrictedXml, Assert.Throws<XmlStreamException>(() => framer.TryRead(ref buffer, out _)).Error.Condition);
    }
}
