using System.Text;

namespace Parley.Protocol;

/// <summary>
/// A small, mutable XML element tree owned by one stanza: a name, attributes, and mixed content
/// (child elements and text, in document order).
/// </summary>
public sealed class Element
{
    private List<XAttribute>? _attributes;
    private List<object>? _nodes; // Element or string

    /// <summary>Creates an element with the given expanded name.</summary>
    public Element(QName name) => Name = name;

    /// <summary>For the parser: an element whose attributes (already checked for duplicates) follow.</summary>
    internal Element(QName name, int attributeCount)
    {
        Name = name;
        if (attributeCount > 0) _attributes = new List<XAttribute>(attributeCount);
    }

    /// <summary>For the parser: appends an attribute it has already checked for duplicates.</summary>
    internal void AddParsedAttribute(string name, string ns, string value) => _attributes!.Add(new XAttribute(name, value, ns));

    /// <summary>Creates an element with the given local name and namespace.</summary>
    public Element(string localName, string ns) => Name = new QName(ns, localName);

    /// <summary>The element's expanded name.</summary>
    public QName Name { get; set; }

    /// <summary>The element's local name.</summary>
    public string LocalName => Name.LocalName;

    /// <summary>The element's namespace URI.</summary>
    public string Namespace => Name.Namespace;

    /// <summary>The attributes, in document order.</summary>
    public IReadOnlyList<XAttribute> Attributes => (IReadOnlyList<XAttribute>?)_attributes ?? [];

    /// <summary>Child elements and text strings, in document order.</summary>
    public IReadOnlyList<object> Nodes => (IReadOnlyList<object>?)_nodes ?? [];

    /// <summary>Whether the element has any child element or text.</summary>
    public bool IsEmpty => _nodes is null || _nodes.Count == 0;

    /// <summary>The value of an unqualified attribute, or null.</summary>
    public string? GetAttribute(string name) => GetAttribute(name, "");

    /// <summary>The value of a namespaced attribute, or null.</summary>
    public string? GetAttribute(string name, string ns)
    {
        if (_attributes is null) return null;
        foreach (var a in _attributes)
            if (a.Name == name && a.Namespace == ns) return a.Value;
        return null;
    }

    /// <summary>Sets an unqualified attribute; null removes it. Returns this element.</summary>
    public Element SetAttribute(string name, string? value) => SetAttribute(name, "", value);

    /// <summary>Sets a namespaced attribute; null removes it. Returns this element.</summary>
    public Element SetAttribute(string name, string ns, string? value)
    {
        _attributes ??= new List<XAttribute>(4);
        for (var i = 0; i < _attributes.Count; i++)
        {
            if (_attributes[i].Name != name || _attributes[i].Namespace != ns) continue;
            if (value is null) _attributes.RemoveAt(i);
            else _attributes[i] = new XAttribute(name, value, ns);
            return this;
        }
        if (value is not null) _attributes.Add(new XAttribute(name, value, ns));
        return this;
    }

    /// <summary>Appends a child element and returns this element.</summary>
    public Element Add(Element child)
    {
        (_nodes ??= new List<object>(2)).Add(child);
        return this;
    }

    /// <summary>Appends a child element and returns the child.</summary>
    public Element AddChild(Element child)
    {
        (_nodes ??= new List<object>(2)).Add(child);
        return child;
    }

    /// <summary>Appends a text node (merged with a preceding text node) and returns this element.</summary>
    public Element AddText(string text)
    {
        if (text.Length == 0) return this;
        _nodes ??= new List<object>(1);
        if (_nodes.Count > 0 && _nodes[^1] is string last) _nodes[^1] = last + text;
        else _nodes.Add(text);
        return this;
    }

    /// <summary>Replaces all text content with <paramref name="text"/> (child elements stay). Returns this element.</summary>
    public Element SetText(string? text)
    {
        _nodes?.RemoveAll(static n => n is string);
        if (!string.IsNullOrEmpty(text)) AddText(text);
        return this;
    }

    /// <summary>Removes a child element. Returns whether it was present.</summary>
    public bool Remove(Element child) => _nodes is not null && _nodes.Remove(child);

    /// <summary>Removes every child element with the given name.</summary>
    public int RemoveAll(QName name) => _nodes?.RemoveAll(n => n is Element e && e.Name == name) ?? 0;

    /// <summary>The concatenated direct text content ("" when none).</summary>
    public string Text
    {
        get
        {
            if (_nodes is null) return "";
            string? single = null;
            StringBuilder? sb = null;
            foreach (var n in _nodes)
            {
                if (n is not string s) continue;
                if (single is null) single = s;
                else (sb ??= new StringBuilder(single)).Append(s);
            }
            return sb?.ToString() ?? single ?? "";
        }
    }

    /// <summary>The child elements, in document order.</summary>
    public ChildEnumerable Children => new(_nodes);

    /// <summary>How many child elements there are.</summary>
    public int ChildCount
    {
        get
        {
            if (_nodes is null) return 0;
            var c = 0;
            foreach (var n in _nodes) if (n is Element) c++;
            return c;
        }
    }

    /// <summary>The first child element, or null.</summary>
    public Element? FirstChild()
    {
        if (_nodes is null) return null;
        foreach (var n in _nodes) if (n is Element e) return e;
        return null;
    }

    /// <summary>The first child element with this expanded name, or null.</summary>
    public Element? Child(QName name)
    {
        if (_nodes is null) return null;
        foreach (var n in _nodes)
            if (n is Element e && e.Name == name) return e;
        return null;
    }

    /// <summary>The first child element with this local name and namespace, or null.</summary>
    public Element? Child(string localName, string ns)
    {
        if (_nodes is null) return null;
        foreach (var n in _nodes)
            if (n is Element e && e.Name.LocalName == localName && e.Name.Namespace == ns) return e;
        return null;
    }

    /// <summary>The text of the first child with this name, or null when there is no such child.</summary>
    public string? ChildText(string localName, string ns) => Child(localName, ns)?.Text;

    /// <summary>A deep copy.</summary>
    public Element Clone()
    {
        var copy = new Element(Name);
        if (_attributes is not null) copy._attributes = new List<XAttribute>(_attributes);
        if (_nodes is not null)
        {
            copy._nodes = new List<object>(_nodes.Count);
            foreach (var n in _nodes) copy._nodes.Add(n is Element e ? e.Clone() : n);
        }
        return copy;
    }

    /// <summary>Serializes this element as standalone XML (with its own namespace declaration).</summary>
    public override string ToString() => ElementWriter.ToXmlString(this);

    /// <summary>Enumerates child elements without allocating.</summary>
    public readonly struct ChildEnumerable(List<object>? nodes)
    {
        /// <summary>Gets the enumerator.</summary>
        public Enumerator GetEnumerator() => new(nodes);

        /// <summary>The enumerator.</summary>
        public struct Enumerator(List<object>? nodes)
        {
            private int _index = -1;

            /// <summary>The current child.</summary>
            public Element Current { get; private set; } = null!;

            /// <summary>Advances to the next child element.</summary>
            public bool MoveNext()
            {
                if (nodes is null) return false;
                while (++_index < nodes.Count)
                {
                    if (nodes[_index] is Element e) { Current = e; return true; }
                }
                return false;
            }
        }
    }
}
