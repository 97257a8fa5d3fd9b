using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

/// <summary>However the bytes are cut, the frames are the same as when the input arrives whole.</summary>
public sealed class XmlFramerSplitTests
{
    public static TheoryData<string, bool> ValidInputs() => new()
    {
        { XmlFramerTests.ClientStream, false },
        { XmlFramerSplitTests.ServerStream, false },
        { XmlFramerSplitTests.FragmentStream, true },
        { "\uFEFF<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>", false },
    };

    internal const string ServerStream =
        "  <?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='a.example' to='b.example' version='1.0'>" +
        "<db:result from='a.example' to='b.example'>b4835385f37fe2895af6c196b59097b16862406db80559900d596b17d4a5f1ae</db:result>" +
        "<message from='romeo@a.example/orchard' to='juliet@b.example' type='chat'><body>ⓗⓔⓛⓛⓞ]]&gt;]]]&#93;></body>" +
        "<result xmlns='urn:xmpp:mam:2' id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>" +
        "<message xmlns='jabber:client' to='a@b' from='c@d'><body><![CDATA[]]]]><![CDATA[>]]></body></message></forwarded></result></message>" +
        "<presence from='romeo@a.example/orchard'><show>away</show><status xml:lang='ja'>留守です 🌙</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>" +
        "</stream:stream>";

    internal const string FragmentStream =
        "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"example.com\" version=\"1.0\"/>" +
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>" +
        "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"example.com\" version=\"1.0\"/>" +
        "<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>" +
        "<close xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\"/>";

    // Each breaks a restriction deep inside a stanza, after markup and text the parser accepts.
    public static TheoryData<string, StreamErrorCondition> InvalidStanzas() => new()
    {
        { "<message><body>hi</body><!-- no --></message>", StreamErrorCondition.RestrictedXml },
        { "<message><body>hi</body><?pi no?></message>", StreamErrorCondition.RestrictedXml },
        { "<message><body>a &nbsp; b</body></message>", StreamErrorCondition.RestrictedXml },
        { "<message><body>hi</bodx></message>", StreamErrorCondition.NotWellFormed },
        { "<message><x:body>hi</x:body></message>", StreamErrorCondition.BadNamespacePrefix },
        { "<message to='a' type='chat'><body id='1' id='2'/></message>", StreamErrorCondition.NotWellFormed },
        { "<message><body>a]]>b</body></message>", StreamErrorCondition.NotWellFormed },
        { "<message><a><b><c><d><e><f/></e></d></c></b></a></message>", StreamErrorCondition.PolicyViolation },
    };

    [Theory]
    [MemberData(nameof(InvalidStanzas))]
    public void Every_split_into_two_reads_raises_the_same_stream_error(string stanza, StreamErrorCondition condition)
    {
        var options = new XmlFramerOptions { MaxDepth = 5 };
        var input = Utf8(ClientHeader + "<presence/>" + stanza);
        Assert.Equal(condition, Assert.Throws<XmlStreamException>(() => Whole(input, options)).Error.Condition);
        for (var k = 0; k <= input.Length; k++)
        {
            byte[] a = input[..k], b = input[k..];
            Assert.Equal(condition, Assert.Throws<XmlStreamException>(() => Chunked([a, b], options)).Error.Condition);
        }
    }

    [Theory]
    [MemberData(nameof(ValidInputs))]
    public void One_byte_at_a_time_yields_the_same_frames(string xml, bool fragments)
    {
        var options = new XmlFramerOptions { Fragments = fragments };
        var input = Utf8(xml);
        var expected = Whole(input, options);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, OneByteAtATime(input, options));
    }

    [Theory]
    [MemberData(nameof(ValidInputs))]
    public void Every_split_into_two_segments_yields_the_same_frames(string xml, bool fragments)
    {
        var options = new XmlFramerOptions { Fragments = fragments };
        var input = Utf8(xml);
        var expected = Whole(input, options);
        for (var k = 0; k <= input.Length; k++)
        {
            byte[] a = input[..k], b = input[k..];
            Assert.Equal(expected, Segmented([a, b], options));
            Assert.Equal(expected, Chunked([a, b], options));
        }
    }

    [Theory]
    [MemberData(nameof(ValidInputs))]
    public void Random_chunking_and_empty_segments_yield_the_same_frames(string xml, bool fragments)
    {
        var options = new XmlFramerOptions { Fragments = fragments };
        var input = Utf8(xml);
        var expected = Whole(input, options);
        var random = new Random(6120);
        for (var round = 0; round < 200; round++)
        {
            var chunks = new List<byte[]>();
            for (var offset = 0; offset < input.Length;)
            {
                var size = random.Next(0, 40);
                size = Math.Min(size, input.Length - offset);
                chunks.Add(input[offset..(offset + size)]);
                offset += size;
            }
            Assert.Equal(expected, Chunked(chunks, options));
            Assert.Equal(expected, Segmented([.. chunks], options));
        }
    }

    [Theory]
    [MemberData(nameof(ValidInputs))]
    public async Task A_real_pipe_yields_the_same_frames(string xml, bool fragments)
    {
        var options = new XmlFramerOptions { Fragments = fragments };
        var input = Utf8(xml);
        var expected = Whole(input, options);
        foreach (var chunk in new[] { 1, 3, 7, 64, 4096 })
            Assert.Equal(expected, await ThroughPipeAsync(input, chunk, options));
    }

    [Fact]
    public void Byte_at_a_time_feeding_of_a_large_stanza_scans_in_linear_time()
    {
        // 200 KB of text arriving one byte per read: a framer that rescanned the pending element on every
        // read would do ~2e10 steps here; a linear one finishes in well under a second.
        var body = new string('x', 200_000);
        var input = Utf8(ClientHeader + "<message><body>" + body + "</body></message>");
        var framer = new XmlFramer();
        var buffer = new System.Buffers.ReadOnlySequence<byte>(input, 0, ClientHeader.Length);
        Assert.True(framer.TryRead(ref buffer, out _));
        var frames = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var end = ClientHeader.Length + 1; end <= input.Length; end++)
        {
            // The unconsumed bytes are always the whole pending element: one contiguous segment.
            buffer = new System.Buffers.ReadOnlySequence<byte>(input, ClientHeader.Length, end - ClientHeader.Length);
            while (framer.TryRead(ref buffer, out var frame))
            {
                frames++;
                Assert.Equal(200_000, frame.Element!.ChildText("body", Ns.Client)!.Length);
            }
        }
        Assert.Equal(1, frames);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
