using System.Text;

namespace Parley.Protocol;

/// <summary>
/// A small, mutable XML element tree owned by one stanza: a name, attributes, and mixed content
/// (child elements and text, in document order).
/// </summary>
/// <remarks>
/// Storage is two plain arrays rather than lists, so a parsed element costs three objects at most (itself, its
/// attributes, its nodes): the attribute array always has exactly as many entries as there are attributes (it is
/// replaced, never resized, when one is added or removed); the node array may have spare room after
/// <see cref="Add"/>, which <see cref="Nodes"/> trims. Arrays made from what the parser kept are of exact size.
/// A parsed element makes its attribute array only when first asked (<see cref="AttributeArray"/>), from the ints the
/// parser wrote for it in the stanza's <see cref="RawValues"/>, and leaves the <see cref="XAttribute.Value"/> of plain
/// ASCII attributes null there, to be decoded from the stanza's bytes on first read; every member that reads or
/// changes attributes goes through <see cref="AttributeArray"/> and <see cref="ValueAt"/> or
/// <see cref="MaterializeValues"/>, so nothing outside this class sees a missing array or a null value.
/// Likewise a parsed text node may be a <see cref="RawText"/> until read; every member that reads nodes as text goes
/// through <see cref="NodeAt"/>, which replaces it with its string. A parsed element whose only node is such text
/// (a body, a status, a roster group) has no node array at all until one is needed: the text's place in the raw bytes
/// is kept in two fields, and <see cref="NodeArray"/> makes the array; members that look only for child elements
/// skip it, since there are none. The parser makes no element below a stanza's root: each is a record of ints in
/// <see cref="RawValues"/>, and an element whose nodes are still records makes its node array, with its direct
/// children (whose own nodes stay records), on first use through <see cref="NodeArray"/> or <see cref="ElementNodes"/>,
/// published with a compare-exchange so that every member and every concurrent reader sees the same child objects.
/// The writer writes nodes that are still records without making them (<see cref="WriterContent"/>).
/// </remarks>
public sealed class Element
{
    private XAttribute[]? _attributes; // exact size; for a parsed element, made on first use (AttributeArray)
    private RawValues? _rawValues; // with _rawFirst > 0: where the attributes and the null values of _attributes are
    private int _rawFirst;
    private object[]? _nodes;          // Element, string or RawText; the first _nodeCount are in use
    private int _nodeCount;
    private int _textOffset;           // with _nodes null: _textLength > 0, the only node, raw text in _rawValues;
    private int _textLength;           // _textLength < 0, the nodes still in _rawValues' records, their count at _textOffset

    /// <summary>Creates an element with the given expanded name.</summary>
    public Element(QName name) => Name = name;

    /// <summary>Creates an element with the given local name and namespace.</summary>
    public Element(string localName, string ns) => Name = new QName(ns, localName);

    /// <summary>For the parser: an element whose attributes (already checked for duplicates) are given as an
    /// exact-size array that the element now owns.</summary>
    internal Element(QName name, XAttribute[]? attributes)
    {
        Name = name;
        _attributes = attributes;
    }

    /// <summary>For the parser: an element whose attributes (already checked for duplicates) are at
    /// <paramref name="rawFirst"/> (above 0) of <paramref name="rawValues"/>: its array is made on first use.</summary>
    internal Element(QName name, RawValues rawValues, int rawFirst)
    {
        Name = name;
        _rawValues = rawValues;
        _rawFirst = rawFirst;
    }

    // The attribute array, made on first use for a parsed element (with every value decoded when all are about to be
    // read). Published with one compare-exchange, so concurrent readers of a shared element all see the same array.
    private XAttribute[]? AttributeArray => _attributes is not null || _rawFirst == 0 ? _attributes : MakeAttributes(decode: false);

    private XAttribute[] MakeAttributes(bool decode)
    {
        Interlocked.CompareExchange(ref _attributes, _rawValues!.Attributes(_rawFirst, decode), null);
        return _attributes;
    }

    /// <summary>For the parser: the element's nodes (no two strings adjacent), an exact-size array it now owns.</summary>
    internal void SetParsedNodes(object[] nodes)
    {
        _nodes = nodes;
        _nodeCount = nodes.Length;
    }

    /// <summary>For the parser: the element's only node is plain text, at <paramref name="offset"/> in
    /// <paramref name="rawValues"/>.</summary>
    internal void SetParsedText(RawValues rawValues, int offset, int length)
    {
        _rawValues = rawValues;
        _textOffset = offset;
        _textLength = length;
        _nodeCount = 1;
    }

    /// <summary>For the parser: the element's nodes are in <paramref name="rawValues"/>' records, their count
    /// (<paramref name="count"/>) at <paramref name="content"/>; the node array and the child elements are made on
    /// first use.</summary>
    internal void SetParsedContent(RawValues rawValues, int content, int count)
    {
        _rawValues = rawValues;
        _textOffset = content;
        _textLength = -1;
        _nodeCount = count;
    }

    // The node array, made on first use for a parsed element whose only node is still raw text or whose nodes are
    // still records (then with its child elements, each of which makes its own nodes on its first use). Published
    // with one compare-exchange, so concurrent readers of a shared element all see the same array and children.
    private object[]? NodeArray
    {
        get
        {
            var nodes = _nodes;
            if (nodes is not null || _textLength == 0) return nodes;
            return MakeNodeArray();
        }
    }

    private object[] MakeNodeArray()
    {
        object[] made = _textLength > 0 ? [_rawValues!.DecodeText(_textOffset, _textLength)] : _rawValues!.MakeNodes(_textOffset);
        return Interlocked.CompareExchange(ref _nodes, made, null) ?? made;
    }

    // The node array when it may hold child elements, with how many nodes are in use: pending raw text is no element.
    private object[]? ElementNodes(out int count)
    {
        var nodes = _nodes;
        if (nodes is null && _textLength < 0) nodes = MakeNodeArray();
        count = nodes is null ? 0 : _nodeCount;
        return nodes;
    }

    /// <summary>For the writer: whether the element's nodes are still the parser's records (none made yet), and
    /// where their count is in <paramref name="rawValues"/> (see <see cref="RawValues"/>).</summary>
    internal bool WriterContent(out RawValues rawValues, out int content)
    {
        rawValues = _rawValues!;
        content = _textOffset;
        return _nodes is null && _textLength < 0;
    }

    /// <summary>The element's expanded name.</summary>
    public QName Name { get; set; }

    /// <summary>The element's local name.</summary>
    public string LocalName => Name.LocalName;

    /// <summary>The element's namespace URI.</summary>
    public string Namespace => Name.Namespace;

    /// <summary>The attributes, in document order. A snapshot: read it again after changing the attributes.</summary>
    public IReadOnlyList<XAttribute> Attributes
    {
        get
        {
            MaterializeValues();
            return AttributeArray ?? [];
        }
    }

    /// <summary>Child elements and text strings, in document order. A snapshot: read it again after changing the content.</summary>
    public IReadOnlyList<object> Nodes
    {
        get
        {
            if (NodeArray is null) return [];
            for (var i = 0; i < _nodeCount; i++) NodeAt(i);
            if (_nodes!.Length != _nodeCount) Array.Resize(ref _nodes, _nodeCount);
            return _nodes;
        }
    }

    /// <summary>How many nodes there are (for the writer, which must not trim).</summary>
    internal int NodeCount => _nodeCount;

    /// <summary>The node at <paramref name="index"/>, below <see cref="NodeCount"/>: an element or a string. Raw text is
    /// decoded on first read; only the slot changes, from the raw text to an equal string whoever writes it, so
    /// concurrent readers of a shared element at worst decode it twice.</summary>
    internal object NodeAt(int index)
    {
        var nodes = NodeArray!;
        var node = nodes[index];
        if (node is not RawText raw) return node;
        var text = raw.Decode();
        nodes[index] = text;
        return text;
    }

    /// <summary>For the writer: how many attributes there are, without making a parsed element's array.</summary>
    internal int WriterAttributeCount => _attributes?.Length ?? (_rawFirst == 0 ? 0 : _rawValues!.AttributeCount(_rawFirst));

    /// <summary>For the writer: attribute <paramref name="index"/> (below <see cref="WriterAttributeCount"/>), its value
    /// when it is a string, else null with <paramref name="raw"/> its plain ASCII bytes as parsed (see
    /// <see cref="RawValues"/>). Nothing is made or decoded, so an element that is only written stays as parsed.</summary>
    internal void WriterAttribute(int index, out string name, out string ns, out string? value, out ReadOnlySpan<byte> raw)
    {
        var attributes = _attributes;
        if (attributes is null)
        {
            _rawValues!.Attribute(_rawFirst, index, out name, out ns, out value, out raw);
            return;
        }
        var a = attributes[index];
        name = a.Name;
        ns = a.Namespace;
        value = a.Value;
        // A null value in a made array is still the raw bytes at the same index (SetAttribute decodes all first).
        raw = value is null ? _rawValues!.AttributeBytes(_rawFirst, index) : default;
    }

    /// <summary>For the writer: node <paramref name="index"/> (below <see cref="NodeCount"/>), an element or a string,
    /// or null when it is plain text not yet read, whose UTF-8 bytes as parsed are then in <paramref name="raw"/>:
    /// they need no escaping (no '&amp;', '&lt;', '&gt;' or CR, nothing that is not an XML character). Nothing is
    /// decoded.</summary>
    internal object? WriterNode(int index, out ReadOnlySpan<byte> raw)
    {
        var nodes = _nodes;
        if (nodes is null)
        {
            if (_textLength > 0)
            {
                raw = _rawValues!.Bytes(_textOffset, _textLength); // the only node: raw text (SetParsedText)
                return null;
            }
            nodes = MakeNodeArray();
        }
        var node = nodes[index];
        if (node is RawText text)
        {
            raw = text.Bytes;
            return null;
        }
        raw = default;
        return node;
    }

    /// <summary>Whether the element has any child element or text.</summary>
    public bool IsEmpty => _nodeCount == 0;

    /// <summary>The value of an unqualified attribute, or null.</summary>
    public string? GetAttribute(string name) => GetAttribute(name, "");

    /// <summary>The value of a namespaced attribute, or null.</summary>
    public string? GetAttribute(string name, string ns)
    {
        var attributes = AttributeArray;
        if (attributes is null) return null;
        for (var i = 0; i < attributes.Length; i++)
            if (attributes[i].Name == name && attributes[i].Namespace == ns) return ValueAt(i);
        return null;
    }

    /// <summary>Sets an unqualified attribute; null removes it. Returns this element.</summary>
    public Element SetAttribute(string name, string? value) => SetAttribute(name, "", value);

    /// <summary>Sets a namespaced attribute; null removes it. Returns this element.</summary>
    public Element SetAttribute(string name, string ns, string? value)
    {
        MaterializeValues(); // indexes shift below; no value may still be waiting for its raw bytes
        var attributes = AttributeArray ?? [];
        for (var i = 0; i < attributes.Length; i++)
        {
            if (attributes[i].Name != name || attributes[i].Namespace != ns) continue;
            if (value is not null)
            {
                attributes[i] = new XAttribute(name, value, ns);
                return this;
            }
            var fewer = new XAttribute[attributes.Length - 1];
            Array.Copy(attributes, fewer, i);
            Array.Copy(attributes, i + 1, fewer, i, fewer.Length - i);
            _attributes = fewer;
            return this;
        }
        if (value is null) return this;
        var more = new XAttribute[attributes.Length + 1];
        Array.Copy(attributes, more, attributes.Length);
        more[^1] = new XAttribute(name, value, ns);
        _attributes = more;
        return this;
    }

    /// <summary>Appends a child element and returns this element.</summary>
    public Element Add(Element child)
    {
        Append(child);
        return this;
    }

    /// <summary>Appends a child element and returns the child.</summary>
    public Element AddChild(Element child)
    {
        Append(child);
        return child;
    }

    /// <summary>Appends a text node (merged with a preceding text node) and returns this element.</summary>
    public Element AddText(string text)
    {
        if (text.Length == 0) return this;
        if (_nodeCount > 0 && NodeAt(_nodeCount - 1) is string last) _nodes![_nodeCount - 1] = last + text;
        else Append(text);
        return this;
    }

    /// <summary>Replaces all text content with <paramref name="text"/> (child elements stay). Returns this element.</summary>
    public Element SetText(string? text)
    {
        RemoveWhere(static (n, _) => n is string or RawText, 0);
        if (!string.IsNullOrEmpty(text)) AddText(text);
        return this;
    }

    /// <summary>Removes a child element. Returns whether it was present.</summary>
    public bool Remove(Element child)
    {
        var nodes = ElementNodes(out var count);
        for (var i = 0; i < count; i++)
        {
            if (!ReferenceEquals(nodes![i], child)) continue;
            _nodeCount--;
            Array.Copy(nodes, i + 1, nodes, i, _nodeCount - i);
            nodes[_nodeCount] = null!;
            return true;
        }
        return false;
    }

    /// <summary>Removes every child element with the given name.</summary>
    public int RemoveAll(QName name) => RemoveWhere(static (n, name) => n is Element e && e.Name == name, name);

    /// <summary>The concatenated direct text content ("" when none).</summary>
    public string Text
    {
        get
        {
            string? single = null;
            StringBuilder? sb = null;
            var nodes = NodeArray;
            for (var i = 0; i < _nodeCount; i++)
            {
                if (nodes![i] is Element || NodeAt(i) is not string s) continue;
                if (single is null) single = s;
                else (sb ??= new StringBuilder(single)).Append(s);
            }
            return sb?.ToString() ?? single ?? "";
        }
    }

    /// <summary>The child elements, in document order.</summary>
    public ChildEnumerable Children
    {
        get
        {
            var nodes = ElementNodes(out var count);
            return new(nodes, count);
        }
    }

    /// <summary>How many child elements there are.</summary>
    public int ChildCount
    {
        get
        {
            var nodes = ElementNodes(out var count);
            var c = 0;
            for (var i = 0; i < count; i++) if (nodes![i] is Element) c++;
            return c;
        }
    }

    /// <summary>The first child element, or null.</summary>
    public Element? FirstChild()
    {
        var nodes = ElementNodes(out var count);
        for (var i = 0; i < count; i++) if (nodes![i] is Element e) return e;
        return null;
    }

    /// <summary>The first child element with this expanded name, or null.</summary>
    public Element? Child(QName name)
    {
        var nodes = ElementNodes(out var count);
        for (var i = 0; i < count; i++)
            if (nodes![i] is Element e && e.Name == name) return e;
        return null;
    }

    /// <summary>The first child element with this local name and namespace, or null.</summary>
    public Element? Child(string localName, string ns)
    {
        var nodes = ElementNodes(out var count);
        for (var i = 0; i < count; i++)
            if (nodes![i] is Element e && e.Name.LocalName == localName && e.Name.Namespace == ns) return e;
        return null;
    }

    /// <summary>The text of the first child with this name, or null when there is no such child.</summary>
    public string? ChildText(string localName, string ns) => Child(localName, ns)?.Text;

    /// <summary>A deep copy.</summary>
    public Element Clone()
    {
        // The attribute array is copied, not shared: SetAttribute replaces a value in place. The raw values are
        // immutable and line up with the copy (or make its array when it is not made yet), so they are shared.
        var copy = new Element(Name, _attributes is null ? null : (XAttribute[])_attributes.Clone())
        {
            _rawValues = _rawValues,
            _rawFirst = _rawFirst,
        };
        var source = _nodes;
        if (source is not null)
        {
            var nodes = new object[_nodeCount];
            for (var i = 0; i < nodes.Length; i++) nodes[i] = source[i] is Element e ? e.Clone() : source[i];
            copy.SetParsedNodes(nodes);
        }
        else if (_textLength > 0)
        {
            copy.SetParsedText(_rawValues!, _textOffset, _textLength);
        }
        else if (_textLength < 0)
        {
            copy.SetParsedContent(_rawValues!, _textOffset, _nodeCount); // the records are immutable: shared
        }
        return copy;
    }

    /// <summary>Serializes this element as standalone XML (with its own namespace declaration).</summary>
    public override string ToString() => ElementWriter.ToXmlString(this);

    // The value of attribute i, decoded from the stanza's bytes on first read. Only Value changes in the slot, from
    // null to an equal string whoever writes it, so concurrent readers of a shared element at worst decode it twice.
    private string ValueAt(int i)
    {
        var attributes = _attributes!;
        var a = attributes[i];
        if (a.Value is not null) return a.Value;
        var value = _rawValues!.DecodeAttribute(_rawFirst, i);
        attributes[i] = a with { Value = value };
        return value;
    }

    private void MaterializeValues()
    {
        if (_attributes is null && _rawFirst != 0)
        {
            MakeAttributes(decode: true);
            return;
        }
        var attributes = _attributes;
        if (attributes is null || _rawFirst == 0) return;
        for (var i = 0; i < attributes.Length; i++) ValueAt(i);
    }

    private void Append(object node)
    {
        var nodes = NodeArray;
        if (nodes is null) _nodes = nodes = new object[2];
        else if (_nodeCount == nodes.Length) Array.Resize(ref _nodes, Math.Max(4, _nodeCount * 2));
        _nodes![_nodeCount++] = node;
    }

    private int RemoveWhere<TState>(Func<object, TState, bool> match, TState state)
    {
        _ = NodeArray;
        var kept = 0;
        for (var i = 0; i < _nodeCount; i++)
        {
            var n = _nodes![i];
            if (!match(n, state)) _nodes[kept++] = n;
        }
        var removed = _nodeCount - kept;
        if (removed > 0) Array.Clear(_nodes!, kept, removed);
        _nodeCount = kept;
        return removed;
    }

    /// <summary>Enumerates child elements without allocating.</summary>
    public readonly struct ChildEnumerable
    {
        private readonly object[]? _nodes;
        private readonly int _count;

        internal ChildEnumerable(object[]? nodes, int count)
        {
            _nodes = nodes;
            _count = count;
        }

        /// <summary>Gets the enumerator.</summary>
        public Enumerator GetEnumerator() => new(_nodes, _count);

        /// <summary>The enumerator.</summary>
        public struct Enumerator
        {
            private readonly object[]? _nodes;
            private readonly int _count;
            private int _index;

            internal Enumerator(object[]? nodes, int count)
            {
                _nodes = nodes;
                _count = count;
                _index = -1;
                Current = null!;
            }

            /// <summary>The current child.</summary>
            public Element Current { get; private set; }

            /// <summary>Advances to the next child element.</summary>
            public bool MoveNext()
            {
                while (++_index < _count)
                {
                    if (_nodes![_index] is Element e) { Current = e; return true; }
                }
                return false;
            }
        }
    }
}
