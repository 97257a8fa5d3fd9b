using System.Buffers;
using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

public sealed class XmlFramerTests
{
    internal const string ClientStream =
        ClientHeader + "\n" +
        "<message to='romeo@example.net' type='chat' id='m1'><body>Wherefore art thou, Romeo? &lt;3 &amp; &#x263A;&#9731;&quot;&apos;&gt;</body>" +
        "<active xmlns='http://jabber.org/protocol/chatstates'/></message>\n" +
        " \t\r\n" +
        "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>" +
        "<presence><c xmlns=\"http://jabber.org/protocol/caps\" hash=\"sha-1\" node=\"http://psi-im.org\" ver=\"q07IKJEyjvHSyhy//CH0CxmKi8w=\"/></presence>" +
        "<message xml:lang='de'><body>Grüße, 日本語 😀</body></message>" +
        "<message><body><![CDATA[<b>bold</b> & such]]> and <![CDATA[]]>more</body></message>" +
        "<p:item xmlns:p='urn:example:p' xmlns:q='urn:example:q' q:attr='x'><p:sub/><inner xmlns='urn:example:inner'><deep/></inner></p:item>" +
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>" +
        "<message>\n  <body>pretty</body>\n</message>" +
        "</stream:stream>";

    [Fact]
    public void Typical_client_stream_yields_header_stanzas_and_close()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(ClientStream));
        var frames = new List<XmlFrame>();
        while (framer.TryRead(ref buffer, out var frame)) frames.Add(frame);
        Assert.True(buffer.IsEmpty);

        Assert.Equal(XmlFrameKind.StreamOpen, frames[0].Kind);
        var header = frames[0].Header!;
        Assert.Equal("example.com", header.To);
        Assert.Null(header.From);
        Assert.Null(header.Id);
        Assert.Equal("1.0", header.Version);
        Assert.Equal("en", header.Lang);
        Assert.Equal(Ns.Client, header.ContentNamespace);
        Assert.Equal(Ns.Streams, header.StreamNamespace);
        Assert.Empty(header.Prefixes);

        var message = frames[1].Element!;
        Assert.Equal(new QName(Ns.Client, "message"), message.Name);
        Assert.Equal("romeo@example.net", message.GetAttribute("to"));
        Assert.Equal("chat", message.GetAttribute("type"));
        Assert.Equal("Wherefore art thou, Romeo? <3 & \u263A\u2603\"'>", message.ChildText("body", Ns.Client));
        Assert.NotNull(message.Child("active", "http://jabber.org/protocol/chatstates"));

        var iq = frames[2].Element!;
        Assert.Equal("balcony", iq.Child("bind", Ns.Bind)!.ChildText("resource", Ns.Bind));

        var caps = frames[3].Element!.Child("c", "http://jabber.org/protocol/caps")!;
        Assert.Equal("q07IKJEyjvHSyhy//CH0CxmKi8w=", caps.GetAttribute("ver"));

        var german = frames[4].Element!;
        Assert.Equal("de", german.GetAttribute("lang", Ns.Xml));
        Assert.Equal("Grüße, 日本語 😀", german.ChildText("body", Ns.Client));

        Assert.Equal("<b>bold</b> & such and more", frames[5].Element!.ChildText("body", Ns.Client));

        var item = frames[6].Element!;
        Assert.Equal(new QName("urn:example:p", "item"), item.Name);
        Assert.Equal("x", item.GetAttribute("attr", "urn:example:q"));
        Assert.NotNull(item.Child("sub", "urn:example:p"));
        Assert.NotNull(item.Child("inner", "urn:example:inner")!.Child("deep", "urn:example:inner"));

        var features = frames[7].Element!;
        Assert.Equal(new QName(Ns.Streams, "features"), features.Name);
        Assert.NotNull(features.Child("starttls", Ns.Tls)!.Child("required", Ns.Tls));

        var pretty = frames[8].Element!;
        Assert.Equal("pretty", pretty.ChildText("body", Ns.Client));
        Assert.Equal("\n  \n", pretty.Text);

        Assert.Equal(XmlFrameKind.StreamClose, frames[9].Kind);
        Assert.Equal(10, frames.Count);
    }

    [Fact]
    public void Nothing_is_returned_or_consumed_for_any_prefix_of_a_stanza()
    {
        var header = Utf8(ClientHeader);
        var stanza = Utf8("<message id='a'><body>hi &amp; bye</body><x xmlns='urn:x' a='&lt;'/><![CDATA[c]]></message>");
        for (var n = 0; n < stanza.Length; n++)
        {
            var framer = new XmlFramer();
            var buffer = new ReadOnlySequence<byte>([.. header, .. stanza.AsSpan(0, n)]);
            Assert.True(framer.TryRead(ref buffer, out _));
            Assert.False(framer.TryRead(ref buffer, out _));
            Assert.Equal(n, buffer.Length);
        }
    }

    [Fact]
    public void Whitespace_keepalives_between_stanzas_are_skipped_and_consumed()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + " \n \t "));
        Assert.True(framer.TryRead(ref buffer, out _));
        Assert.False(framer.TryRead(ref buffer, out _));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Declaration_is_optional_and_may_use_double_quotes_and_encoding()
    {
        Assert.Equal(Ns.Client, ParseHeader("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>").ContentNamespace);
        var header = ParseHeader("<?xml version=\"1.0\" encoding=\"utf-8\" standalone='yes' ?>\n<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='juliet@im.example.com'>");
        Assert.Equal("juliet@im.example.com", header.From);
    }

    [Fact]
    public void Utf8_byte_order_mark_at_the_start_is_skipped()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>([0xEF, 0xBB, 0xBF, .. Utf8(ClientHeader)]);
        Assert.True(framer.TryRead(ref buffer, out var frame));
        Assert.Equal(XmlFrameKind.StreamOpen, frame.Kind);
    }

    [Fact]
    public void Server_stream_header_reports_its_namespace_and_other_prefixes()
    {
        var header = ParseHeader("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='a.example' to='b.example' id='s1' version='1.0'>");
        Assert.Equal(Ns.Server, header.ContentNamespace);
        Assert.Equal("s1", header.Id);
        Assert.Equal("jabber:server:dialback", header.Prefixes["db"]);
        Assert.Single(header.Prefixes);
    }

    [Fact]
    public void Stanzas_of_a_server_stream_are_rescoped_to_jabber_client()
    {
        var frames = ReadAll("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>" +
            "<message from='a@a.example' to='b@b.example'><body>hi</body><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:server'/></forwarded></message>" +
            "<message xmlns='jabber:server'><body>explicit</body></message>" +
            "<db:result from='a.example' to='b.example'>key</db:result>");
        var message = frames[1].Element!;
        Assert.Equal(Ns.Client, message.Namespace);
        Assert.Equal(Ns.Client, message.Child("body", Ns.Client)!.Namespace);
        // RFC 6120 §4.8.3: re-scoping does not reach into extension elements.
        Assert.Equal(Ns.Server, message.Child("forwarded", "urn:xmpp:forward:0")!.FirstChild()!.Namespace);
        Assert.Equal("explicit", frames[2].Element!.ChildText("body", Ns.Client));
        Assert.Equal(new QName("jabber:server:dialback", "result"), frames[3].Element!.Name);
    }

    [Fact]
    public void Component_stream_stanzas_are_rescoped_to_jabber_client()
    {
        var frames = ReadAll("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='gw.example'>" +
            "<handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake><iq type='get' id='1'/>");
        Assert.Equal(Ns.ComponentAccept, frames[0].Header!.ContentNamespace);
        Assert.Equal(new QName(Ns.Client, "handshake"), frames[1].Element!.Name);
        Assert.Equal(new QName(Ns.Client, "iq"), frames[2].Element!.Name);
    }

    [Fact]
    public void Empty_stream_tag_opens_and_closes()
    {
        var frames = ReadAll("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>");
        Assert.Equal([XmlFrameKind.StreamOpen, XmlFrameKind.StreamClose], frames.Select(f => f.Kind));
    }

    [Fact]
    public void After_the_close_only_whitespace_is_accepted()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + "</stream:stream>  \n"));
        Assert.True(framer.TryRead(ref buffer, out _));
        Assert.True(framer.TryRead(ref buffer, out var close));
        Assert.Equal(XmlFrameKind.StreamClose, close.Kind);
        Assert.False(framer.TryRead(ref buffer, out _));
        buffer = new ReadOnlySequence<byte>(Utf8("<message/>"));
        Assert.Equal(StreamErrorCondition.NotWellFormed, Assert.Throws<XmlStreamException>(() => framer.TryRead(ref buffer, out _)).Error.Condition);
    }

    [Fact]
    public void Reset_expects_a_new_stream_header()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
        Assert.True(framer.TryRead(ref buffer, out _));
        Assert.True(framer.TryRead(ref buffer, out var starttls));
        Assert.Equal(Ns.Tls, starttls.Element!.Namespace);
        framer.Reset();
        buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + "<message><body>again</body></message>"));
        Assert.True(framer.TryRead(ref buffer, out var open));
        Assert.Equal(XmlFrameKind.StreamOpen, open.Kind);
        Assert.True(framer.TryRead(ref buffer, out var message));
        Assert.Equal("again", message.Element!.ChildText("body", Ns.Client));
    }

    [Fact]
    public void Stream_header_with_another_stream_prefix_is_accepted_and_its_close_must_match()
    {
        var frames = ReadAll("<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'><s:features/></s:stream>");
        Assert.Equal(new QName(Ns.Streams, "features"), frames[1].Element!.Name);
        Assert.Equal(XmlFrameKind.StreamClose, frames[2].Kind);
        Assert.Equal(StreamErrorCondition.NotWellFormed,
            ErrorOf("<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'></stream:stream>"));
    }

    [Fact]
    public void Attribute_values_are_normalized_and_character_references_kept()
    {
        var e = ParseStanza("<message id='a\tb\nc\r\nd\re' x=\"&#9;&#xA;&#xD;&#x1F600;\"/>");
        Assert.Equal("a b c d e", e.GetAttribute("id"));
        Assert.Equal("\t\n\r\U0001F600", e.GetAttribute("x"));
    }

    [Fact]
    public void Line_ends_in_text_become_line_feeds()
    {
        Assert.Equal("a\nb\nc\n", ParseStanza("<message><body>a\r\nb\rc\n</body></message>").ChildText("body", Ns.Client));
        Assert.Equal("x\ny", ParseStanza("<message><body><![CDATA[x\r\ny]]></body></message>").ChildText("body", Ns.Client));
    }

    [Fact]
    public void Default_namespace_can_be_undeclared_and_prefixes_shadowed()
    {
        var e = ParseStanza("<a xmlns:p='urn:1'><b xmlns=''><p:c xmlns:p='urn:2'/></b><p:d/></a>");
        var b = e.FirstChild()!;
        Assert.Equal(new QName("", "b"), b.Name);
        Assert.Equal(new QName("urn:2", "c"), b.FirstChild()!.Name);
        Assert.Equal(new QName("urn:1", "d"), e.Child("d", "urn:1")!.Name);
    }

    [Fact]
    public void Well_known_names_are_interned()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(ClientHeader + "<message type='chat'><body>1</body></message><message type='chat'><body>2</body></message>"));
        Assert.True(framer.TryRead(ref buffer, out _));
        Assert.True(framer.TryRead(ref buffer, out var a));
        Assert.True(framer.TryRead(ref buffer, out var b));
        Assert.Same(a.Element!.Name, b.Element!.Name);
        Assert.Same(Ns.Client, a.Element.Namespace);
        Assert.Same(a.Element.GetAttribute("type"), b.Element!.GetAttribute("type"));
    }

    [Fact]
    public void Limits_at_their_exact_values_are_accepted()
    {
        var stanza = "<message><body>x</body></message>";
        var options = new XmlFramerOptions { MaxElementBytes = stanza.Length, MaxDepth = 2, MaxAttributes = 2, MaxHeaderBytes = 200 };
        var frames = Whole(Utf8("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" + stanza + "<iq a='1' b='2'/>"), options);
        Assert.Equal(3, frames.Count);
    }

    [Fact]
    public void Fragments_mode_reads_rfc7395_open_stanzas_and_close()
    {
        var options = new XmlFramerOptions { Fragments = true };
        var framer = new XmlFramer(options);
        var buffer = new ReadOnlySequence<byte>(Utf8(
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0' xml:lang='en'/>" +
            "<?xml version='1.0'?><message xmlns='jabber:client' xml:lang='en'><body>Every WebSocket message is parsable by itself.</body></message>" +
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>" +
            "<error xmlns='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>" +
            "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"));
        var frames = new List<XmlFrame>();
        while (framer.TryRead(ref buffer, out var f)) frames.Add(f);
        Assert.Equal(5, frames.Count);
        var header = frames[0].Header!;
        Assert.Equal(XmlFrameKind.StreamOpen, frames[0].Kind);
        Assert.Equal(("example.com", "1.0", "en", Ns.Client, Ns.Framing), (header.To, header.Version, header.Lang, header.ContentNamespace, header.StreamNamespace));
        Assert.Equal(new QName(Ns.Client, "message"), frames[1].Element!.Name);
        Assert.Equal(new QName(Ns.Streams, "features"), frames[2].Element!.Name);
        Assert.Equal(new QName(Ns.Streams, "error"), frames[3].Element!.Name);
        Assert.Equal(XmlFrameKind.StreamClose, frames[4].Kind);
    }

    [Fact]
    public void Fragments_mode_requires_open_first_and_namespaced_elements()
    {
        var options = new XmlFramerOptions { Fragments = true };
        Assert.Equal(StreamErrorCondition.InvalidNamespace, ErrorOf("<open xmlns='urn:wrong' to='example.com'/>", options));
        Assert.Equal(StreamErrorCondition.InvalidNamespace, ErrorOf("<message xmlns='jabber:client'/>", options));
        Assert.Equal(StreamErrorCondition.InvalidNamespace, ErrorOf("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/><message/>", options));
        Assert.Equal(StreamErrorCondition.NotWellFormed, ErrorOf("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/></stream:stream>", options));
    }

    private static StreamHeader ParseHeader(string xml)
    {
        var frames = ReadAll(xml);
        Assert.Equal(XmlFrameKind.StreamOpen, frames[0].Kind);
        return frames[0].Header!;
    }

    private static List<XmlFrame> ReadAll(string xml)
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(xml));
        var frames = new List<XmlFrame>();
        while (framer.TryRead(ref buffer, out var f)) frames.Add(f);
        return frames;
    }
}
