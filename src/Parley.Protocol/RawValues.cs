using System.Runtime.InteropServices;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// One parsed stanza below its root element object: its bytes as parsed, then ints that record its elements (name,
/// attributes, nodes), all in one exact-size array; an element's attribute array, its nodes, its child elements and
/// the strings of plain values and text are made from them only when read. Plain means validated while parsing and
/// needing no decoding beyond UTF-8: no reference, no white space to normalize, no line end to fold (and, for
/// attribute values, ASCII only). Routing reads a few attributes of a stanza and forwards the rest, and the writer
/// writes unmade elements straight from the records, so most of these objects and strings are never made.
/// The parser creates it empty, gives it to the stanza's elements, and fills it once the whole stanza has parsed;
/// from then on it is immutable, so elements and their clones share it safely.
/// </summary>
internal sealed class RawValues
{
    /// <summary>Namespace code of an unqualified attribute.</summary>
    public const int NoNamespace = 0;

    /// <summary>Namespace code of an attribute in the xml: namespace.</summary>
    public const int XmlNamespace = 1;

    /// <summary>Namespace codes from this one on are this plus an index in the references.</summary>
    public const int FirstNamespaceRef = 2;

    /// <summary>First int of a node that is a child element: the second is the index of its record.</summary>
    public const int ElementNode = -1;

    /// <summary>First int of a node that is text the parser decoded: the second is an index in the references.</summary>
    public const int StringNode = -2;

    // The values and text, then from _spans on ints:
    // - per element with attributes (its "first" index), the count, then per attribute four ints: its local name (an
    //   index in _names, or the complement of an index in _refs), its namespace code, and its value's offset and
    //   length in the bytes (or -1 and an index in _refs when the parser decoded it);
    // - per element below the stanza's root (its record, written at its end tag): its expanded name (an index in
    //   _qnames, or the complement of an index in _refs), its attributes' first index (0 when it has none), its node
    //   count, then two ints per node: plain text's offset and length in the bytes, or ElementNode and a child's
    //   record, or StringNode and an index in _refs;
    // - for the root, its node count and nodes, likewise.
    private byte[] _bytes = [];
    private int _spans;
    private bool _narrow; // the ints are stored as 16-bit ints (every one fits; see Records)
    private string[] _names = [];
    private QName[] _qnames = [];
    private object[]? _refs;

    public void Fill(byte[] bytes, int spans, bool narrow, string[] names, QName[] qnames, object[]? refs)
    {
        _bytes = bytes;
        _spans = spans;
        _narrow = narrow;
        _names = names;
        _qnames = qnames;
        _refs = refs;
    }

    /// <summary>The nodes whose count is at <paramref name="content"/> (an element's, see the layout above) as the
    /// parser builds them: child elements whose own nodes wait in their records, the text of an element whose only
    /// node it is kept as bytes in the element, other plain text as <see cref="RawText"/>.</summary>
    public object[] MakeNodes(int content)
    {
        var ints = Ints;
        var nodes = new object[ints[content]];
        for (var i = 0; i < nodes.Length; i++)
        {
            var a = Node(ints, content, i, out var b);
            nodes[i] = a >= 0 ? new RawText(this, a, b) : a == StringNode ? _refs![b] : MakeElement(ints, b);
        }
        return nodes;
    }

    private Element MakeElement(Records ints, int record)
    {
        var element = new Element(Record(ints, record, out var attributes, out var count, out var content), this, attributes);
        if (count == 0) return element;
        var first = Node(ints, content, 0, out var length);
        if (count == 1 && first >= 0) element.SetParsedText(this, first, length);
        else element.SetParsedContent(this, content, count);
        return element;
    }

    /// <summary>The ints (see the layout above), to read records with.</summary>
    public Records Ints => new(_bytes.AsSpan(_spans), _narrow);

    /// <summary>The element whose record is at <paramref name="record"/>: its expanded name, its attributes' first
    /// index (0 when none), its node count, and where that count is (for <see cref="Node"/>).</summary>
    public QName Record(Records ints, int record, out int attributes, out int count, out int content)
    {
        var code = ints[record];
        attributes = ints[record + 1];
        content = record + 2;
        count = ints[content];
        return code >= 0 ? _qnames[code] : (QName)_refs![~code];
    }

    /// <summary>Node <paramref name="index"/> of the nodes whose count is at <paramref name="content"/>: plain text's
    /// offset (then <paramref name="value"/> is its length), or <see cref="ElementNode"/> (a child's record) or
    /// <see cref="StringNode"/> (an index in the references).</summary>
    public static int Node(Records ints, int content, int index, out int value)
    {
        value = ints[content + 2 + 2 * index];
        return ints[content + 1 + 2 * index];
    }

    /// <summary>For the writer: the string of a <see cref="StringNode"/>.</summary>
    public string String(int index) => (string)_refs![index];

    /// <summary>The attribute array of the element whose attributes start at <paramref name="first"/>; a value the
    /// parser did not decode is decoded now when <paramref name="decode"/>, else left null for
    /// <see cref="DecodeAttribute"/>.</summary>
    public XAttribute[] Attributes(int first, bool decode)
    {
        var attributes = new XAttribute[AttributeCount(first)];
        for (var i = 0; i < attributes.Length; i++)
        {
            Attribute(first, i, out var name, out var ns, out var value, out var raw);
            attributes[i] = new XAttribute(name, value ?? (decode ? XmlElementParser.DecodePlainAscii(raw) : null!), ns);
        }
        return attributes;
    }

    /// <summary>The value of attribute <paramref name="index"/> of the element whose attributes start at
    /// <paramref name="first"/>, when the parser kept it as bytes.</summary>
    public string DecodeAttribute(int first, int index) => XmlElementParser.DecodePlainAscii(AttributeBytes(first, index));

    /// <summary>The bytes of attribute <paramref name="index"/> of the element whose attributes start at
    /// <paramref name="first"/>, when the parser kept its value as bytes.</summary>
    public ReadOnlySpan<byte> AttributeBytes(int first, int index)
    {
        var k = first + 1 + 4 * index;
        var ints = Ints;
        return _bytes.AsSpan(ints[k + 2], ints[k + 3]);
    }

    public string DecodeText(int offset, int length) => Encoding.UTF8.GetString(_bytes, offset, length);

    /// <summary>Plain text or a plain attribute value as the parser found it (see the class remarks).</summary>
    public ReadOnlySpan<byte> Bytes(int offset, int length) => _bytes.AsSpan(offset, length);

    /// <summary>How many attributes the element whose attributes start at <paramref name="first"/> has.</summary>
    public int AttributeCount(int first) => AttributeCount(Ints, first);

    /// <inheritdoc cref="AttributeCount(int)"/>
    public static int AttributeCount(Records ints, int first) => ints[first];

    /// <summary>Attribute <paramref name="index"/> of the element whose attributes start at <paramref name="first"/>,
    /// without making the element's array: its name and namespace, and its value when the parser decoded it (else
    /// null, and <paramref name="raw"/> holds its plain ASCII bytes).</summary>
    public void Attribute(int first, int index, out string name, out string ns, out string? value, out ReadOnlySpan<byte> raw) =>
        Attribute(Ints, first, index, out name, out ns, out value, out raw);

    /// <inheritdoc cref="Attribute(int, int, out string, out string, out string?, out ReadOnlySpan{byte})"/>
    public void Attribute(Records ints, int first, int index, out string name, out string ns, out string? value, out ReadOnlySpan<byte> raw)
    {
        var k = first + 1 + 4 * index;
        var nameCode = ints[k];
        var nsCode = ints[k + 1];
        var offset = ints[k + 2];
        name = nameCode >= 0 ? _names[nameCode] : (string)_refs![~nameCode];
        ns = nsCode == NoNamespace ? "" : nsCode == XmlNamespace ? Ns.Xml : (string)_refs![nsCode - FirstNamespaceRef];
        if (offset < 0)
        {
            value = (string)_refs![ints[k + 3]];
            raw = default;
        }
        else
        {
            value = null;
            raw = _bytes.AsSpan(offset, ints[k + 3]);
        }
    }
}

/// <summary>
/// The ints of a stanza's records (see <see cref="RawValues"/>), as the parser stored them: 32-bit, or 16-bit when
/// every one of them fits (the stanza's bytes, records and references each below 32,768, which nearly every stanza
/// is), so that a stanza's records take half the memory. The indices are the same either way.
/// </summary>
internal readonly ref struct Records(ReadOnlySpan<byte> data, bool narrow)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private readonly bool _narrow = narrow;

    public int this[int index] => _narrow ? MemoryMarshal.Read<short>(_data.Slice(2 * index)) : MemoryMarshal.Read<int>(_data.Slice(4 * index));
}

/// <summary>A text node of a parsed element not yet made into a string: <see cref="Element"/> replaces it with its
/// string on first read, so it is never seen outside that class.</summary>
internal sealed class RawText(RawValues source, int offset, int length)
{
    public string Decode() => source.DecodeText(offset, length);

    /// <summary>The text's UTF-8 bytes, as the parser found them.</summary>
    public ReadOnlySpan<byte> Bytes => source.Bytes(offset, length);
}
