using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

/// <summary>
/// Character data is classified 32 bytes a step (where the next '&lt;' is, and whether anything before it needs
/// decoding or refusing), the input's last bytes the scalar way: a special byte reads the same, and a forbidden one is
/// refused the same, wherever it falls against those steps (XML 1.0 §2.4, §2.11, §4.1, §4.6; RFC 6120 §11).
/// </summary>
public sealed class XmlFramerTextRunTests
{
    private static readonly int[] Lengths = [1, 31, 32, 33, 63, 64, 65, 100];

    public static TheoryData<int, int, string, string> Decoded()
    {
        var data = new TheoryData<int, int, string, string>();
        (string raw, string text)[] specials = [("&amp;", "&"), ("\r\n", "\n"), ("\r", "\n"), ("é", "é"), ("\uFF01", "\uFF01"), ("&#x1F600;", "😀"), (">", ">"), ("\t", "\t")];
        foreach (var length in Lengths)
            foreach (var at in new[] { 0, length / 2, length - 1, length }.Distinct()) // for length 1, three are 0
                foreach (var (raw, text) in specials)
                    data.Add(length, at, raw, text);
        return data;
    }

    [Theory]
    [MemberData(nameof(Decoded))]
    public void A_special_byte_anywhere_in_a_long_text_reads_the_same(int length, int at, string raw, string text)
    {
        var plain = new string('a', length);
        var body = plain[..at] + raw + plain[at..];
        var expected = plain[..at] + text + plain[at..];
        foreach (var tail in new[] { "", new string(' ', 40) })
        {
            // Without a tail the text ends within the input's last 32 bytes; with one it does not.
            var stanza = "<message><body>" + body + "</body></message>" + tail;
            Assert.Equal(expected, ParseStanza(stanza).ChildText("body", Ns.Client));
            Assert.Equal([ "ELEMENT <message xmlns='jabber:client'><body>" + Escaped(expected) + "</body></message>" ],
                OneByteAtATime(Utf8(ClientHeader + stanza))[1..]);
        }
    }

    public static TheoryData<int, int, string> Refused()
    {
        var data = new TheoryData<int, int, string>();
        foreach (var length in Lengths)
            foreach (var at in new[] { 0, length / 2, length }.Distinct())
                foreach (var raw in new[] { "\u0001", "]]>", "\uFFFE", "&bogus;" })
                    data.Add(length, at, raw);
        return data;
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_forbidden_byte_anywhere_in_a_long_text_is_refused(int length, int at, string raw)
    {
        var plain = new string('a', length);
        var stanza = "<message><body>" + plain[..at] + raw + plain[at..] + "</body></message>" + new string(' ', 40);
        var expected = raw == "&bogus;" ? StreamErrorCondition.RestrictedXml : StreamErrorCondition.NotWellFormed;
        Assert.Equal(expected, ErrorOf(ClientHeader + stanza));
    }

    [Fact]
    public void Invalid_utf8_in_a_long_text_is_refused()
    {
        var head = Utf8(ClientHeader + "<message><body>" + new string('a', 40));
        byte[] input = [.. head, 0xC3, 0x28, .. Utf8(new string('b', 40) + "</body></message>" + new string(' ', 40))];
        Assert.Equal(StreamErrorCondition.NotWellFormed, ErrorOf(input));
    }

    private static string Escaped(string text) => text.Replace("&", "&amp;").Replace(">", "&gt;");
}
