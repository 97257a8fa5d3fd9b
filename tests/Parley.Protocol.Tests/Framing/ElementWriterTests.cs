using System.Buffers;
using System.Text;
using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

public sealed class ElementWriterTests
{
    private static string Write(Element element, string streamNamespace = Ns.Client)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ElementWriter.Write(buffer, element, streamNamespace);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Parse_write_parse_yields_the_same_tree()
    {
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Utf8(XmlFramerTests.ClientStream));
        var count = 0;
        while (framer.TryRead(ref buffer, out var frame))
        {
            if (frame.Kind != XmlFrameKind.Element) continue;
            var element = frame.Element!;
            // In the stream's context and standalone, the written XML reads back as the same tree.
            Assert.Equal(element.ToString(), ParseStanza(Write(element)).ToString());
            Assert.Equal(Write(element), Write(ParseStanza(Write(element))));
            Assert.Equal(element.ToString(), ParseStanza(element.ToString()).ToString());
            count++;
        }
        Assert.Equal(8, count);
    }

    [Fact]
    public void Xep0220_dialback_elements_on_a_server_stream_use_the_db_prefix_its_header_declares()
    {
        var error = new Element("error", Ns.Client).SetAttribute("type", "cancel")
            .Add(new Element("item-not-found", Ns.Stanzas));
        var result = new Element("result", Ns.Dialback).SetAttribute("from", "a.example").SetAttribute("to", "b.example")
            .SetAttribute("type", "error").Add(error);
        // The error stays in the stream's default namespace (jabber:server), as in XEP-0220's examples.
        Assert.Equal("<db:result from='a.example' to='b.example' type='error'><error type='cancel'>"
            + "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></db:result>", Write(result, Ns.Server));
        Assert.Equal("<verify xmlns='jabber:server:dialback' id='i'>k</verify>",
            Write(new Element("verify", Ns.Dialback).SetAttribute("id", "i").AddText("k")));
    }

    [Fact]
    public void Text_escapes_markup_and_carriage_return()
    {
        var e = new Element("body", Ns.Client).AddText("a & b < c > d \" e ' f \r g \n h \t i ]]> j");
        Assert.Equal("<body>a &amp; b &lt; c &gt; d \" e ' f &#xD; g \n h \t i ]]&gt; j</body>", Write(e));
        Assert.Equal("a & b < c > d \" e ' f \r g \n h \t i ]]> j", ParseStanza(Write(e)).Text);
    }

    [Fact]
    public void Attribute_values_escape_quotes_and_whitespace()
    {
        var value = "a & b < c > d \" e ' f \r g \n h \t i";
        var e = new Element("message", Ns.Client).SetAttribute("id", value);
        Assert.Equal("<message id='a &amp; b &lt; c &gt; d &quot; e &apos; f &#xD; g &#xA; h &#x9; i'/>", Write(e));
        Assert.Equal(value, ParseStanza(Write(e)).GetAttribute("id"));
    }

    [Fact]
    public void Characters_xml_cannot_carry_become_replacement_characters()
    {
        var e = new Element("body", Ns.Client).AddText("a\0b\u0001c\uFFFEd\uD800e").SetAttribute("x", "\u001F");
        Assert.Equal("<body x='\uFFFD'>a\uFFFDb\uFFFDc\uFFFDd\uFFFDe</body>", Write(e));
    }

    [Fact]
    public void Non_ascii_text_is_written_as_utf8()
    {
        var text = "Grüße 日本語 😀 " + new string('é', 5000);
        var e = new Element("body", Ns.Client).AddText(text);
        Assert.Equal(text, ParseStanza(Write(e)).Text);
    }

    [Fact]
    public void Top_level_client_element_takes_the_stream_namespace()
    {
        var message = new Element("message", Ns.Client).SetAttribute("to", "juliet@example.com")
            .Add(new Element("body", Ns.Client).AddText("hi"))
            .Add(new Element("active", "http://jabber.org/protocol/chatstates"));
        var expected = "<message to='juliet@example.com'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";
        Assert.Equal(expected, Write(message, Ns.Client));
        Assert.Equal(expected, Write(message, Ns.Server));
        Assert.Equal(expected, Write(message, Ns.ComponentAccept));
    }

    [Fact]
    public void Descendants_declare_a_namespace_only_when_it_changes()
    {
        var forwarded = new Element("forwarded", "urn:xmpp:forward:0")
            .Add(new Element("delay", "urn:xmpp:delay").SetAttribute("stamp", "2010-07-10T23:08:25Z"))
            .Add(new Element("message", Ns.Client).Add(new Element("body", Ns.Client).AddText("x")));
        var message = new Element("message", Ns.Client)
            .Add(new Element("result", "urn:xmpp:mam:2").Add(forwarded).Add(new Element("unqualified", "")));
        Assert.Equal(
            "<message><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>" +
            "<message xmlns='jabber:client'><body>x</body></message></forwarded><unqualified xmlns=''/></result></message>",
            Write(message));
    }

    [Fact]
    public void Stream_elements_use_the_stream_prefix()
    {
        var features = new Element("features", Ns.Streams)
            .Add(new Element("starttls", Ns.Tls).Add(new Element("required", Ns.Tls)));
        Assert.Equal(
            "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
            Write(features));
        Assert.Equal(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
            ElementWriter.ToXmlString(features));
        Assert.Equal(
            "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>bad</text></stream:error>",
            Write(StreamError.NotWellFormed("bad").ToElement()));
    }

    [Fact]
    public void Client_element_under_a_stream_element_inherits_the_stream_namespace()
    {
        var e = new Element("features", Ns.Streams).Add(new Element("x", Ns.Client));
        Assert.Equal("<stream:features><x/></stream:features>", Write(e));
        Assert.Equal("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><x xmlns='jabber:client'/></stream:features>", e.ToString());
    }

    [Fact]
    public void Standalone_element_declares_its_namespace()
    {
        var e = new Element("message", Ns.Client).Add(new Element("body", Ns.Client).AddText("x"));
        Assert.Equal("<message xmlns='jabber:client'><body>x</body></message>", ElementWriter.ToXmlString(e));
        Assert.Equal(ElementWriter.ToXmlString(e), e.ToString());
        Assert.Equal("<message xmlns='jabber:client'><body>x</body></message>", Write(e, Ns.Framing));
        Assert.Equal("<plain/>", new Element("plain", "").ToString());
    }

    [Fact]
    public void Namespaced_attributes_get_xml_or_generated_prefixes()
    {
        var e = new Element("item", "urn:a")
            .SetAttribute("lang", Ns.Xml, "en")
            .SetAttribute("x", "urn:b", "1")
            .SetAttribute("plain", "2")
            .SetAttribute("y", "urn:b", "3")
            .SetAttribute("z", "urn:c", "4");
        var xml = e.ToString();
        Assert.Equal("<item xmlns='urn:a' xml:lang='en' xmlns:ns1='urn:b' ns1:x='1' plain='2' ns1:y='3' xmlns:ns4='urn:c' ns4:z='4'/>", xml);
        var back = ParseStanza(xml);
        Assert.Equal("en", back.GetAttribute("lang", Ns.Xml));
        Assert.Equal("3", back.GetAttribute("y", "urn:b"));
        Assert.Equal("4", back.GetAttribute("z", "urn:c"));
    }

    [Fact]
    public void Stream_header_is_written_with_declaration_and_both_namespaces()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var header = new StreamHeader("juliet@im.example.com", "im.example.com", "t7AMCin9zjMNwQKDnplntZPIDEI=", "1.0", "en", Ns.Client, Ns.Streams);
        ElementWriter.WriteStreamHeader(buffer, header);
        Assert.Equal(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='t7AMCin9zjMNwQKDnplntZPIDEI=' from='im.example.com' to='juliet@im.example.com' version='1.0' xml:lang='en'>",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        var frames = Whole(buffer.WrittenSpan.ToArray());
        Assert.Equal(Describe(header), frames[0]);
    }

    [Fact]
    public void Server_stream_header_writes_its_prefixes_and_omits_null_attributes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var header = new StreamHeader(null, "a.example", null, null, null, Ns.Server, Ns.Streams)
        {
            Prefixes = new Dictionary<string, string> { ["db"] = "jabber:server:dialback" },
        };
        ElementWriter.WriteStreamHeader(buffer, header);
        Assert.Equal(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='a.example'>",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(Describe(header), Whole(buffer.WrittenSpan.ToArray())[0]);
    }

    [Fact]
    public void Framing_header_is_an_rfc7395_open_element()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var header = new StreamHeader("example.com", null, "++TR84Sm6A3hnt3Q065SnAbbk3Y=", "1.0", "en", Ns.Client, Ns.Framing);
        ElementWriter.WriteStreamHeader(buffer, header);
        ElementWriter.WriteFramingClose(buffer);
        Assert.Equal(
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' to='example.com' version='1.0' xml:lang='en'/>" +
            "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        var frames = Whole(buffer.WrittenSpan.ToArray(), new XmlFramerOptions { Fragments = true });
        Assert.Equal([Describe(header with { Id = null }).Replace("id= ", "id=++TR84Sm6A3hnt3Q065SnAbbk3Y= ", StringComparison.Ordinal), "CLOSE"], frames);
    }

    [Fact]
    public void Stream_close_is_the_end_tag()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ElementWriter.WriteStreamClose(buffer);
        Assert.Equal("</stream:stream>", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
