using System.Runtime.InteropServices;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// The plain attribute values and text of one parsed stanza, kept as bytes in one exact-size array and made into
/// strings only when read. Plain means validated while parsing and needing no decoding beyond UTF-8: no reference,
/// no white space to normalize, no line end to fold (and, for attribute values, ASCII only). Routing reads a few
/// attributes of a stanza and forwards the rest, so most of these strings are never made.
/// The parser creates it empty, gives it to the stanza's elements, and fills it once the whole stanza has parsed;
/// from then on it is immutable, so elements and their clones share it safely.
/// </summary>
internal sealed class RawValues
{
    // The values and text, then from _spans on, per attribute of each element that defers values (in document
    // order), two ints: offset and length of its value; a value decoded while parsing has offset -1 and is never
    // looked up here.
    private byte[] _bytes = [];
    private int _spans;

    public void Fill(byte[] bytes, int spans)
    {
        _bytes = bytes;
        _spans = spans;
    }

    public string DecodeAttribute(int attribute)
    {
        var span = _bytes.AsSpan(_spans + 8 * attribute, 8);
        return XmlElementParser.DecodePlainAscii(_bytes.AsSpan(MemoryMarshal.Read<int>(span), MemoryMarshal.Read<int>(span[4..])));
    }

    public string DecodeText(int offset, int length) => Encoding.UTF8.GetString(_bytes, offset, length);
}

/// <summary>A text node of a parsed element not yet made into a string: <see cref="Element"/> replaces it with its
/// string on first read, so it is never seen outside that class.</summary>
internal sealed class RawText(RawValues source, int offset, int length)
{
    public string Decode() => source.DecodeText(offset, length);
}
