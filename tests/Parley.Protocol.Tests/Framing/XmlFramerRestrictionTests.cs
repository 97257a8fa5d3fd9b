using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

/// <summary>RFC 6120 §11 and §4.9.3: each violation ends the stream with its condition.</summary>
public sealed class XmlFramerRestrictionTests
{
    private static StreamErrorCondition InStanza(string xml, XmlFramerOptions? options = null) => ErrorOf(ClientHeader + xml, options);

    // RFC 6120 §11.1
    [Fact]
    public void Comment_in_stanza_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<message><!-- hi --><body/></message>"));

    [Fact]
    public void Comment_between_stanzas_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<!-- hi -->"));

    [Fact]
    public void Comment_before_the_header_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, ErrorOf("<?xml version='1.0'?><!-- hi -->" + ClientHeader[21..]));

    [Fact]
    public void Doctype_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, ErrorOf("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>"));

    [Fact]
    public void Markup_declaration_in_stanza_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<message><!ENTITY x 'y'></message>"));

    [Fact]
    public void Processing_instruction_in_stanza_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<message><?php echo 1; ?></message>"));

    [Fact]
    public void Processing_instruction_between_stanzas_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<?foo bar?>"));

    [Fact]
    public void Xml_declaration_after_the_header_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<?xml version='1.0'?>"));

    [Fact]
    public void Second_xml_declaration_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, ErrorOf("<?xml version='1.0'?><?xml version='1.0'?>"));

    [Fact]
    public void Processing_instruction_before_the_header_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, ErrorOf("<?xml-stylesheet href='a'?>" + ClientHeader));

    [Fact]
    public void Unknown_entity_reference_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<message><body>&nbsp;</body></message>"));

    [Fact]
    public void Unknown_entity_reference_in_attribute_is_restricted_xml() =>
        Assert.Equal(StreamErrorCondition.RestrictedXml, InStanza("<message id='&foo;'/>"));

    // RFC 6120 §11.3
    [Theory]
    [InlineData("<message><body>x</message></stream:stream>")] // the element only ends when the depth returns to zero
    [InlineData("<message></body></message>")]
    [InlineData("<message><body>x</body></messagex>")]
    [InlineData("<message id='1' id='2'/>")]
    [InlineData("<message xmlns:a='urn:x' xmlns:b='urn:x' a:id='1' b:id='2'/>")]
    [InlineData("<message id=1/>")]
    [InlineData("<message id='1'type='chat'/>")]
    [InlineData("<message id/>")]
    [InlineData("<message / >")]
    [InlineData("<message><<body/></message>")]
    [InlineData("<message><1body/></message>")]
    [InlineData("<message id='<'/>")]
    [InlineData("<message><body>a & b</body></message>")]
    [InlineData("<message><body>&amp</body></message>")]
    [InlineData("<message><body>&#0;</body></message>")]
    [InlineData("<message><body>&#xD800;</body></message>")]
    [InlineData("<message><body>&#xFFFE;</body></message>")]
    [InlineData("<message><body>&#x110000;</body></message>")]
    [InlineData("<message><body>&#99999999999999;</body></message>")]
    [InlineData("<message><body>&#xZZ;</body></message>")]
    [InlineData("<message><body>&#;</body></message>")]
    [InlineData("<message><body>]]></body></message>")]
    [InlineData("<message><body>\u0001</body></message>")]
    [InlineData("<message id='\u0008'/>")]
    [InlineData("<message><body>\uFFFF</body></message>")]
    [InlineData("<a:b:c xmlns:a='urn:a'/>")]
    [InlineData("<message xmlns:p=''/>")]
    [InlineData("<message xmlns:xml='urn:not-xml'/>")]
    [InlineData("<message xmlns:p='http://www.w3.org/2000/xmlns/'/>")]
    [InlineData("<message xmlns='http://www.w3.org/2000/xmlns/'/>")] // XML Namespaces §3: neither reserved namespace
    [InlineData("<message><x xmlns='http://www.w3.org/XML/1998/namespace'/></message>")] // may be the default
    [InlineData("<message><x xmlns='http://www.w3.org/2000/xmlns/' xmlns:a='urn:a'/></message>")]
    [InlineData("<message><![CDATA[x]]]></message>x")]
    [InlineData("<message><![CDAT[x]]></message>")]
    [InlineData("<message><!-x--></message>")]
    [InlineData("<message>\u00e9<b\u00d7/></message>")]
    [InlineData("text between stanzas")]
    [InlineData("<![CDATA[top level]]>")]
    [InlineData("</stream:streamx>")]
    [InlineData("</other>")]
    public void Malformed_stanza_is_not_well_formed(string xml) =>
        Assert.Equal(StreamErrorCondition.NotWellFormed, InStanza(xml));

    [Theory]
    [InlineData(new byte[] { 0xC3 })] // truncated sequence
    [InlineData(new byte[] { 0xC0, 0xAF })] // overlong
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0x80 })] // stray continuation byte
    [InlineData(new byte[] { 0xEF, 0xBF, 0xBE })] // U+FFFE
    public void Bad_utf8_in_text_is_not_well_formed(byte[] bad)
    {
        byte[] input = [.. Utf8(ClientHeader + "<message><body>a"), .. bad, .. Utf8("b</body></message>")];
        Assert.Equal(StreamErrorCondition.NotWellFormed, ErrorOf(input));
    }

    [Fact]
    public void Bad_utf8_in_attribute_value_and_name_is_not_well_formed()
    {
        Assert.Equal(StreamErrorCondition.NotWellFormed, ErrorOf([.. Utf8(ClientHeader + "<message id='"), 0xFF, .. Utf8("'/>")]));
        Assert.Equal(StreamErrorCondition.NotWellFormed, ErrorOf([.. Utf8(ClientHeader + "<message x"), 0xC3, .. Utf8("='1'/>")]));
    }

    [Fact]
    public void Undeclared_prefix_on_element_is_bad_namespace_prefix() =>
        Assert.Equal(StreamErrorCondition.BadNamespacePrefix, InStanza("<foo:message/>"));

    [Fact]
    public void Undeclared_prefix_on_attribute_is_bad_namespace_prefix() =>
        Assert.Equal(StreamErrorCondition.BadNamespacePrefix, InStanza("<message foo:id='1'/>"));

    [Fact]
    public void Undeclared_stream_prefix_on_the_header_is_bad_namespace_prefix() =>
        Assert.Equal(StreamErrorCondition.BadNamespacePrefix, ErrorOf("<stream:stream xmlns='jabber:client'>"));

    // RFC 6120 §4.8.1 and §4.8.2
    [Theory]
    [InlineData("<stream:stream xmlns='jabber:client' xmlns:stream='http://wrong.example/streams'>")]
    [InlineData("<stream:streams xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")]
    [InlineData("<stream xmlns='http://etherx.jabber.org/streams'>")]
    [InlineData("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>")]
    [InlineData("<stream:stream xmlns='urn:other' xmlns:stream='http://etherx.jabber.org/streams'>")]
    [InlineData("<message xmlns='jabber:client'>")]
    public void Wrong_stream_or_content_namespace_is_invalid_namespace(string header) =>
        Assert.Equal(StreamErrorCondition.InvalidNamespace, ErrorOf(header));

    [Fact]
    public void Version_major_is_left_to_the_server()
    {
        var frames = Whole(Utf8("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='2.0'>"));
        Assert.Contains("version=2.0", frames[0]);
    }

    // RFC 6120 §11.6
    [Theory]
    [InlineData("<?xml version='1.0' encoding='ISO-8859-1'?>")]
    [InlineData("<?xml version='1.0' encoding='UTF-16'?>")]
    public void Encoding_other_than_utf8_is_unsupported_encoding(string declaration) =>
        Assert.Equal(StreamErrorCondition.UnsupportedEncoding, ErrorOf(declaration + ClientHeader[21..]));

    [Fact]
    public void Utf16_bytes_are_unsupported_encoding()
    {
        Assert.Equal(StreamErrorCondition.UnsupportedEncoding, ErrorOf(System.Text.Encoding.Unicode.GetBytes("<stream:stream>")));
        Assert.Equal(StreamErrorCondition.UnsupportedEncoding, ErrorOf(System.Text.Encoding.BigEndianUnicode.GetBytes("<stream:stream>")));
        Assert.Equal(StreamErrorCondition.UnsupportedEncoding, ErrorOf([0xFF, 0xFE, .. System.Text.Encoding.Unicode.GetBytes("<")]));
        Assert.Equal(StreamErrorCondition.UnsupportedEncoding, ErrorOf([0xFE, 0xFF, .. System.Text.Encoding.BigEndianUnicode.GetBytes("<")]));
    }

    [Theory]
    [InlineData("hello" )]
    [InlineData("<?xml version='1.0'?>junk")]
    [InlineData("<?xml version='2.0'?>")]
    [InlineData("<?xml encoding='UTF-8'?>")]
    [InlineData("<?xml version='1.0' standalone='maybe'?>")]
    [InlineData("</stream:stream>")]
    [InlineData("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='a' to='b'>")]
    public void Bad_data_before_or_in_the_header_is_not_well_formed(string input) =>
        Assert.Equal(StreamErrorCondition.NotWellFormed, ErrorOf(input));

    // Limits (RFC 6120 §13.12): policy-violation.
    [Fact]
    public void Element_larger_than_the_limit_is_policy_violation()
    {
        var options = new XmlFramerOptions { MaxElementBytes = 100 };
        Assert.Equal(StreamErrorCondition.PolicyViolation, InStanza("<message><body>" + new string('a', 200) + "</body></message>", options));
        // Detected before the element ends: a peer cannot make the server buffer without bound.
        Assert.Equal(StreamErrorCondition.PolicyViolation, InStanza("<message><body>" + new string('a', 200), options));
        Assert.Equal(StreamErrorCondition.PolicyViolation, InStanza("<message id='" + new string('a', 200), options));
    }

    [Fact]
    public void Element_deeper_than_the_limit_is_policy_violation()
    {
        var options = new XmlFramerOptions { MaxDepth = 3 };
        Assert.Equal(StreamErrorCondition.PolicyViolation, InStanza("<a><b><c><d>", options));
    }

    [Fact]
    public void Element_with_too_many_attributes_is_policy_violation()
    {
        var options = new XmlFramerOptions { MaxAttributes = 3 };
        Assert.Equal(StreamErrorCondition.PolicyViolation, InStanza("<a xmlns='urn:a' b='1' c='2' d='3'/>", options));
    }

    [Fact]
    public void Header_larger_than_the_limit_is_policy_violation()
    {
        var options = new XmlFramerOptions { MaxHeaderBytes = 200 };
        Assert.Equal(StreamErrorCondition.PolicyViolation, ErrorOf(ClientHeader[..^1] + " id='" + new string('x', 300) + "'>", options));
        Assert.Equal(StreamErrorCondition.PolicyViolation, ErrorOf("<stream:stream id='" + new string('x', 300), options));
    }
}
