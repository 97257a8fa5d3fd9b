namespace Parley.Protocol;

/// <summary>
/// The plain ASCII attribute values of one parsed stanza (no reference, no white space to normalize, nothing to
/// transcode: validated while parsing), kept as bytes in one exact-size array and made into strings only when read.
/// Routing reads a few attributes of a stanza and forwards the rest, so most of these strings are never made.
/// The parser creates it empty, gives it to the stanza's elements, and fills it once the whole stanza has parsed;
/// from then on it is immutable, so elements and their clones share it safely.
/// </summary>
internal sealed class RawAttributeValues
{
    private byte[] _bytes = [];

    // Per attribute of each element that defers values, in document order: offset and length in _bytes; a value
    // decoded while parsing has offset -1 and is never looked up here.
    private int[] _spans = [];

    public void Fill(byte[] bytes, int[] spans)
    {
        _bytes = bytes;
        _spans = spans;
    }

    public string Decode(int attribute) => XmlElementParser.DecodePlainAscii(_bytes.AsSpan(_spans[2 * attribute], _spans[2 * attribute + 1]));
}
