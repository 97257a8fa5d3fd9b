using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Unicode;

namespace Parley.Protocol;

/// <summary>
/// Second pass of <see cref="XmlFramer"/>: turns the contiguous bytes of one complete frame (the stream header, one
/// top-level element, the XML declaration or the closing tag) into typed values, enforcing XML 1.0 well-formedness,
/// namespace well-formedness and the restrictions of RFC 6120 §11. It keeps the namespace scope of the stream.
/// </summary>
internal sealed class XmlElementParser
{
    private readonly XmlNameTable _names = new();
    private readonly XmlQNameCache _qnames = new();
    private readonly int _maxAttributes;
    private readonly int _maxDepth;

    // Namespace scope: a stack of (prefix, URI) bindings; "" is the default namespace.
    private string[] _prefixes = new string[4];
    private string[] _uris = new string[4];
    private int _nsCount;

    // RFC 6120 §4.8.3: stanzas of a jabber:server (or component) stream are re-scoped to jabber:client.
    private string? _rescopeFrom;

    private Attr[] _attrs = new Attr[8];
    private int _attrCount;
    private int _declarationCount;

    // While parsing an element: where the tag just read wrote its attributes' records in _rawSpans (0 when it has
    // none; see WriteAttributes), where they end, and whether one has a prefix other than xml: (its namespace is
    // resolved once the tag's declarations apply).
    private int _attrFirst;
    private int _attrEnd;
    private bool _attrPrefixed;
    private string? _defaultDeclaration; // the value of the tag's xmlns='…', if it has one (see ApplyDeclarations)
    private Open[] _open = new Open[4];

    private char[] _chars = [];
    private int _textLength;

    // The nodes of the open elements, each element's after its parent's, two ints a node as RawValues keeps them
    // (plain text's offset and length in _rawBytes, or RawValues.ElementNode and a child's record, or
    // RawValues.StringNode and an index in _rawRefs): at its end tag an element's nodes move from here to its record,
    // so nothing but the root is made while parsing, and no reference is stored (no write barrier).
    private int[] _nodeInts = new int[8];
    private int _nodeTop; // in nodes

    // The expanded names of the elements below a stanza's root, by CachedName.QNameId: shared by every stanza's
    // RawValues, written once per slot like _nameTable. Bounded: a name whose namespace keeps changing takes a new
    // slot each time, and once the table is full such names are kept in the stanza's references instead.
    private QName[] _qnameTable = new QName[4];
    private int _qnameTableCount;
    private const int MaxQNameTable = 1024;

    // While parsing an element (not the stream header): plain ASCII attribute values and plain text are not decoded
    // but copied to _rawBytes, every element's attributes are written as ints to _rawSpans, and so is every element
    // below the root, at its end tag (RawValues says how), with the strings they need that the parser's tables do not
    // hold in _rawRefs. Once the element has parsed, all are handed to the stanza as RawValues, from which elements
    // make their attribute arrays, nodes and children when first asked. Index 0 of _rawSpans is never an element's.
    private bool _deferValues;
    private byte[] _rawBytes = [];
    private int _rawLength;
    private int[] _rawSpans = new int[16];
    private int _rawSpanCount;
    private object[] _rawRefs = [];
    private int _rawRefCount;
    private RawValues? _rawValues;

    // The local names of the cached names, by CachedName.Id: shared by every stanza's RawValues. A slot is written
    // once, before any attribute refers to it, and never changed, so stanzas parsed earlier read it safely; growing
    // copies it to a larger array, and stanzas that hold the old one only read the slots written before.
    private string[] _nameTable = new string[16];
    private int _nameTableCount;

    // The scope's size before the element being parsed: restored when it ends, is refused or is abandoned.
    private int _baseMark;

    // Names met before, found by their raw bytes (at most 15) so they are scanned, validated and split only once.
    // Sets of 4, filled first come first served and never evicted: a stream uses a few dozen names, and evicting
    // would let two names that share a set push each other out on every use. An idle session meets about 20, so the
    // cache starts at 8 sets and doubles (up to 64) when names have found their set full often enough; the set is
    // the hash's top bits, so each set splits into two and the entries move without overflowing.
    private const int NameCacheWays = 4;
    private const int NameCacheMinSetBits = 3;
    private const int NameCacheMaxSetBits = 6;
    private CachedName?[] _nameCache = new CachedName?[NameCacheWays << NameCacheMinSetBits];
    private int _nameSetShift = 64 - NameCacheMinSetBits;
    private const int NameCacheRefusalsToGrow = 16;
    private int _nameRefusals;

    // One per name an idle session has met (a few dozen), so every field counts: the name's length is in its key
    // (see NameKey), the namespace of its expanded name is the expanded name's.
    private sealed class CachedName(ulong k0, ulong k1, string prefix, string local, int id = -1)
    {
        // The local name's index in _nameTable, or -1 for a transient name.
        public readonly int Id = id;

        public readonly ulong K0 = k0;
        public readonly ulong K1 = k1;
        public readonly string Prefix = prefix;
        public readonly string Local = local;
        public readonly bool IsDeclaration = prefix.Length == 0 ? local == "xmlns" : prefix == "xmlns";

        // An attribute name's namespace when it is known without the scope: none (no prefix), xml: (a prefix no
        // declaration may rebind), or another prefix, resolved in scope.
        public readonly byte PrefixKind = prefix.Length == 0 ? NoPrefix : prefix == "xml" ? XmlPrefix : OtherPrefix;

        // Made for one attribute whose name could not be cached (too long, a full set, the end of the input near):
        // not in the cache, so not the only entry for its name.
        public bool Transient => Id < 0;

        // The expanded name last made from this element name, and its index in _qnameTable (-1 when it has none).
        public QName? QName;
        public short QNameId = -1; // a short, so the entry stays 72 bytes


        // The default namespace this element name last declared: DeclaredNamespace.Once after its first declaration,
        // an object of its own from the second (attribute names and most element names never get that far, and the
        // two vectors would double the entry's size).
        public DeclaredNamespace? Declared;
    }

    // An element is nearly always declared in the same namespace: its first 64 bytes, its length and the string
    // decoded from them.
    private sealed class DeclaredNamespace
    {
        // Marks a name that has declared a namespace once; its length matches no declaration.
        public static readonly DeclaredNamespace Once = new() { Length = -1 };

        public Vector256<byte> Head;
        public Vector256<byte> Tail;
        public int Length;
        public string Uri = "";
    }

    private const byte NoPrefix = 0;
    private const byte XmlPrefix = 1;
    private const byte OtherPrefix = 2;

    private struct Attr
    {
        public CachedName Name; // one reference per attribute to store, where prefix and local name were two
        public string? Value; // set for declarations and in the stream header; an element's attributes are records
        public readonly string Prefix => Name.Prefix;
        public readonly string Local => Name.Local;
        public readonly bool IsDeclaration => Name.IsDeclaration;
    }

    private struct Open
    {
        public Element? Element; // the root's; elements below it are records (QName and Attributes)
        public int NameStart;
        public int NameLength;
        public int NsMark;
        public int NodeStart;
        public int QName; // a record's name code (see RawValues)
        public int Attributes; // a record's attributes' first index, 0 when none
    }

    public XmlElementParser(int maxAttributes, int maxDepth)
    {
        _maxAttributes = maxAttributes;
        _maxDepth = maxDepth;
        ResetScope();
    }

    /// <summary>Forgets every binding but xml: (a new stream, or fragment mode where each element stands alone).</summary>
    public void ResetScope()
    {
        _nsCount = 0;
        Bind("xml", Ns.Xml);
        _rescopeFrom = null;
    }

    /// <summary>Parses an opening stream tag (RFC 6120 §4.7) and keeps its bindings as the base scope.</summary>
    public StreamHeader ParseStreamHeader(ReadOnlySpan<byte> s, out bool selfClosed, out byte[] rootName)
    {
        try
        {
            var end = ParseStartTag(s, 0, out var nameStart, out var nameLength, out var colon, out var cached, out selfClosed);
            if (end != s.Length) XmlThrow.NotWellFormed("Malformed stream header");
            rootName = s.Slice(nameStart, nameLength).ToArray();
            SplitElementName(s, nameStart, nameLength, colon, cached, out var prefix, out var local);

            string? content = null;
            Dictionary<string, string>? prefixes = null;
            for (var i = 0; i < _attrCount; i++)
            {
                ref var a = ref _attrs[i];
                if (!a.IsDeclaration) continue;
                if (a.Prefix.Length == 0) content = a.Value;
                else if (a.Local != prefix) (prefixes ??= []).Add(a.Local, a.Value!);
            }
            ApplyDeclarations(depth: 0);

            // RFC 6120 §4.8.1 and §4.8.5.
            var streamNs = Lookup(prefix);
            if (streamNs is null) XmlThrow.BadNamespacePrefix("Undeclared prefix '" + prefix + "' on the stream header");
            if (local != "stream" || streamNs != Ns.Streams)
                XmlThrow.InvalidNamespace("The stream root must be <stream/> in " + Ns.Streams);
            // RFC 6120 §4.8.2 and §4.8.3: the content namespace is the default namespace.
            if (content is not (Ns.Client or Ns.Server or Ns.ComponentAccept))
                XmlThrow.InvalidNamespace("Unsupported content namespace '" + content + "'");

            string? to = null, from = null, id = null, version = null, lang = null;
            for (var i = 0; i < _attrCount; i++)
            {
                ref var a = ref _attrs[i];
                if (a.IsDeclaration) continue;
                if (a.Prefix.Length == 0)
                {
                    switch (a.Local)
                    {
                        case "to": to = a.Value; break;
                        case "from": from = a.Value; break;
                        case "id": id = a.Value; break;
                        case "version": version = a.Value; break;
                    }
                }
                else if (ResolveAttributePrefix(a.Prefix) == Ns.Xml && a.Local == "lang")
                {
                    lang = a.Value;
                }
            }
            CheckExpandedDuplicates();

            if (content is not Ns.Client)
            {
                _rescopeFrom = content;
                for (var i = _nsCount - 1; i >= 0; i--)
                {
                    if (_prefixes[i].Length != 0) continue;
                    _uris[i] = Ns.Client;
                    break;
                }
            }
            return new StreamHeader(to, from, id, version, lang, content, Ns.Streams)
            {
                Prefixes = prefixes ?? new Dictionary<string, string>(),
            };
        }
        finally
        {
            TrimChars();
        }
    }

    /// <summary>Whether <paramref name="s"/> is exactly the end tag of the stream root.</summary>
    public static void ParseStreamClose(ReadOnlySpan<byte> s, ReadOnlySpan<byte> rootName)
    {
        // s starts with "</" and ends with '>' (the first pass guarantees both).
        if (s.Length < rootName.Length + 3 || !s.Slice(2, rootName.Length).SequenceEqual(rootName))
            XmlThrow.NotWellFormed("The end tag does not match the stream root");
        var rest = s[(2 + rootName.Length)..^1];
        if (rest.IndexOfAnyExcept(XmlChars.Whitespace) >= 0) XmlThrow.NotWellFormed("The end tag does not match the stream root");
    }

    /// <summary>Parses an XML declaration (XML 1.0 §2.8). Only UTF-8 is accepted (RFC 6120 §11.6).</summary>
    public static void ParseDeclaration(ReadOnlySpan<byte> s)
    {
        // s is "<?xml" S ... "?>".
        var pos = 5;
        var value = DeclarationPseudoAttribute(s, ref pos, "version"u8, required: true);
        if (value.Length < 3 || value[0] != '1' || value[1] != '.' || value[2..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            XmlThrow.NotWellFormed("Bad version in the XML declaration");
        value = DeclarationPseudoAttribute(s, ref pos, "encoding"u8, required: false);
        if (!value.IsEmpty && !Ascii.EqualsIgnoreCase(value, "UTF-8"u8))
            XmlThrow.UnsupportedEncoding("Only UTF-8 is supported");
        value = DeclarationPseudoAttribute(s, ref pos, "standalone"u8, required: false);
        // RFC 6120 §11.5: a standalone declaration has no meaning; it is ignored.
        if (!value.IsEmpty && !value.SequenceEqual("yes"u8) && !value.SequenceEqual("no"u8))
            XmlThrow.NotWellFormed("Bad standalone declaration");
        while (pos < s.Length && XmlChars.IsWhitespace(s[pos])) pos++;
        if (pos != s.Length - 2) XmlThrow.NotWellFormed("Malformed XML declaration");
    }

    private static ReadOnlySpan<byte> DeclarationPseudoAttribute(ReadOnlySpan<byte> s, ref int pos, ReadOnlySpan<byte> name, bool required)
    {
        var p = pos;
        var ws = 0;
        while (p < s.Length && XmlChars.IsWhitespace(s[p])) { p++; ws++; }
        if (ws == 0 || !s[p..].StartsWith(name))
        {
            if (required) XmlThrow.NotWellFormed("Malformed XML declaration");
            return default;
        }
        p += name.Length;
        while (p < s.Length && XmlChars.IsWhitespace(s[p])) p++;
        if (p >= s.Length || s[p] != '=') XmlThrow.NotWellFormed("Malformed XML declaration");
        p++;
        while (p < s.Length && XmlChars.IsWhitespace(s[p])) p++;
        if (p >= s.Length || s[p] is not ((byte)'\'' or (byte)'"')) XmlThrow.NotWellFormed("Malformed XML declaration");
        var quote = s[p];
        var close = s[(p + 1)..].IndexOf(quote);
        if (close <= 0) XmlThrow.NotWellFormed("Malformed XML declaration");
        var value = s.Slice(p + 1, close);
        pos = p + close + 2;
        return value;
    }

    /// <summary>After <see cref="TryParseElement"/> found the input incomplete: where the construct it could not finish
    /// begins (all before it is markup and text it has accepted), and how many elements are open there. The framer's
    /// first pass resumes from there, in text, instead of rescanning what was parsed.</summary>
    public int ResumeAt { get; private set; }

    /// <inheritdoc cref="ResumeAt"/>
    public int ResumeDepth { get; private set; }

    /// <summary>Parses one complete top-level element; <paramref name="s"/> starts at its '&lt;' and ends at its last '&gt;'.</summary>
    public Element ParseElement(ReadOnlySpan<byte> s) => Complete(Parse(s, resume: false, out var length), length, s.Length);

    /// <summary>
    /// Finishes the element that <see cref="TryParseElement"/> found incomplete (<see cref="IsSuspended"/>):
    /// <paramref name="s"/> is the whole element, from the same '&lt;' as then, and parsing goes on at
    /// <see cref="ResumeAt"/> with everything accepted before it kept, so no byte is parsed twice.
    /// </summary>
    public Element ResumeElement(ReadOnlySpan<byte> s) => Complete(Parse(s, resume: true, out var length), length, s.Length);

    /// <summary>As <see cref="ResumeElement"/> when <paramref name="s"/> may end before the element does or hold more
    /// after it (as <see cref="TryParseElement"/>).</summary>
    public Element? TryResumeElement(ReadOnlySpan<byte> s, out int length) => Parse(s, resume: true, out length);

    private static Element Complete(Element? element, int length, int expected)
    {
        if (element is null) Truncated();
        if (length != expected) XmlThrow.NotWellFormed("Data after the element");
        return element;
    }

    /// <summary>Whether the last <see cref="TryParseElement"/> stopped at the end of its input and keeps what it
    /// accepted for <see cref="ResumeElement"/>.</summary>
    public bool IsSuspended { get; private set; }

    /// <summary>Drops a suspended element (a stream reset).</summary>
    public void Abandon()
    {
        if (!IsSuspended) return;
        IsSuspended = false;
        Cleanup();
    }

    /// <summary>
    /// Parses the top-level element at the start of <paramref name="s"/>, which may hold more input after it.
    /// Returns null when <paramref name="s"/> ends before the element does; nothing is thrown for that, so the framer
    /// can try this on whatever it has and fall back to scanning when the element is incomplete. Then the parser is
    /// <see cref="IsSuspended"/> until <see cref="ResumeElement"/>, <see cref="Abandon"/> or the next parse.
    /// </summary>
    public Element? TryParseElement(ReadOnlySpan<byte> s, out int length) => Parse(s, resume: false, out length);

    private Element? Parse(ReadOnlySpan<byte> s, bool resume, out int length)
    {
        if (resume)
        {
            if (!IsSuspended) throw new InvalidOperationException("No element to resume");
        }
        else
        {
            Abandon();
            _baseMark = _nsCount;
            _rawLength = 0;
            _rawSpanCount = 1;
            _rawRefCount = 0;
            _rawValues = null;
        }
        IsSuspended = false;
        _deferValues = true;
        try
        {
            length = ParseElementCore(s, resume, out var element);
            if (length < 0)
            {
                // Everything before ResumeAt stays accepted: the open elements, their nodes, bindings and raw bytes.
                IsSuspended = true;
                return null;
            }
            if (_rawValues is not null)
            {
                // One exact-size array: the bytes, then the records, as 16-bit ints when every one fits (Records):
                // offsets and lengths are below the bytes' length, indices below the records' count or the
                // references' (complemented or offset by at most FirstNamespaceRef), names below the tables' bounds.
                var narrow = _rawLength <= short.MaxValue && _rawSpanCount <= short.MaxValue
                    && _rawRefCount <= short.MaxValue - RawValues.FirstNamespaceRef;
                var bytes = new byte[_rawLength + (narrow ? 2 : 4) * _rawSpanCount];
                _rawBytes.AsSpan(0, _rawLength).CopyTo(bytes);
                if (narrow) Narrow(_rawSpans.AsSpan(0, _rawSpanCount), MemoryMarshal.Cast<byte, short>(bytes.AsSpan(_rawLength)));
                else MemoryMarshal.AsBytes(_rawSpans.AsSpan(0, _rawSpanCount)).CopyTo(bytes.AsSpan(_rawLength));
                _rawValues.Fill(bytes, _rawLength, narrow, _nameTable, _qnameTable, _rawRefCount == 0 ? null : _rawRefs.AsSpan(0, _rawRefCount).ToArray());
            }
            return element;
        }
        finally
        {
            if (!IsSuspended) Cleanup();
        }
    }

    // Every value fits in 16 bits (the caller checked): a truncating copy.
    private static void Narrow(ReadOnlySpan<int> from, Span<short> to)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; from.Length - i >= 16; i += 16)
                Vector256.Narrow(Vector256.Create(from.Slice(i, 8)), Vector256.Create(from.Slice(i + 8, 8))).CopyTo(to.Slice(i));
        }
        for (; i < from.Length; i++) to[i] = (short)from[i];
    }

    private void Cleanup()
    {
        _deferValues = false;
        _rawValues = null;
        if (_rawRefCount > 0) Array.Clear(_rawRefs, 0, _rawRefCount);
        _rawRefCount = 0;
        if (_rawBytes.Length > 4096) _rawBytes = [];
        _nsCount = _baseMark;
        TrimChars();
        _nodeTop = 0;
        _open[0].Element = null; // the only reference: elements below the root are records
    }

    // Returns the length of the element, or -1 when the input ends first.
    private int ParseElementCore(ReadOnlySpan<byte> s, bool resume, out Element root)
    {
        root = null!;
        var pos = resume ? ResumeAt : 0;
        var depth = resume ? ResumeDepth : 0;
        var nodeStart = depth == 0 ? 0 : _open[depth - 1].NodeStart; // where the innermost open element's nodes begin on _nodeStack
        while (true)
        {
            ResumeAt = pos;
            ResumeDepth = depth;
            if (pos >= s.Length) return -1;
            if (s[pos] != '<')
            {
                if (depth == 0) XmlThrow.NotWellFormed("Expected an element");
                var lt = TextRun(s, pos, out var found);
                if (lt < 0) return -1;
                var run = s.Slice(pos, lt);
                pos += lt;
                // Fast path: plain text (valid UTF-8 with no reference, line end or character to refuse) directly
                // followed by a tag is kept as raw bytes, a string only when read. It always follows a tag, so it
                // never needs merging with text before it.
                if (_textLength == 0 && pos + 1 < s.Length && s[pos + 1] != '!')
                {
                    if (found == 0 || (found == TextNonAscii && Utf8Run.IsValid(s, pos - run.Length, pos)))
                    {
                        PushNode(DeferBytes(s, pos - run.Length, run.Length), run.Length);
                        continue;
                    }
                }
                AppendText(run);
                continue;
            }
            if (pos + 1 >= s.Length) return -1;
            var next = s[pos + 1];
            if (next == '/')
            {
                if (depth == 0) XmlThrow.NotWellFormed("Unexpected end tag");
                FlushText(nodeStart);
                ref var open = ref _open[depth - 1];
                var nameEnd = pos + 2 + open.NameLength;
                if (nameEnd >= s.Length) return -1;
                if (!s.Slice(pos + 2, open.NameLength).SequenceEqual(s.Slice(open.NameStart, open.NameLength)))
                    XmlThrow.NotWellFormed("Mismatched end tag");
                pos = nameEnd;
                while (pos < s.Length && XmlChars.IsWhitespace(s[pos])) pos++;
                if (pos >= s.Length) return -1;
                if (s[pos] != '>') XmlThrow.NotWellFormed("Mismatched end tag");
                pos++;
                _nsCount = open.NsMark;
                if (depth == 1)
                {
                    root = open.Element!;
                    SetRootNodes(root, open.NodeStart);
                    open = default;
                    return pos;
                }
                var record = WriteRecord(open.QName, open.Attributes, open.NodeStart);
                depth--;
                PushNode(RawValues.ElementNode, record);
                nodeStart = _open[depth - 1].NodeStart;
                continue;
            }
            if (next == '!')
            {
                // Classified exactly as the framer's first pass does, so both report the same error.
                var rest = s[pos..];
                var cdata = "<![CDATA["u8;
                if (rest.Length < cdata.Length && rest.Length >= 3 && rest[2] == '[' && cdata.StartsWith(rest)) return -1;
                if (depth > 0 && rest.StartsWith(cdata))
                {
                    var start = pos + 9;
                    var end = s[start..].IndexOf("]]>"u8);
                    if (end < 0) return -1;
                    AppendCData(s.Slice(start, end));
                    pos = start + end + 3;
                    continue;
                }
                if (rest.Length < 3 || (rest[2] == '-' && rest.Length < 4)) return -1;
                if (rest[2] == '-' && rest[3] == '-') XmlThrow.RestrictedXml("Comments are not allowed (RFC 6120 §11.1)");
                if ((uint)((rest[2] | 0x20) - 'a') <= 'z' - 'a') XmlThrow.RestrictedXml("Document type declarations are not allowed (RFC 6120 §11.1)");
                XmlThrow.NotWellFormed("Malformed markup");
            }
            if (next == '?') XmlThrow.RestrictedXml("Processing instructions are not allowed (RFC 6120 §11.1)");

            if (depth > 0) FlushText(nodeStart);
            if (++depth > _maxDepth) XmlThrow.PolicyViolation("Element nesting too deep");
            var nsMark = _nsCount;
            var rawMark = _rawLength;
            var refMark = _rawRefCount;
            pos = ParseStartTag(s, pos, out var nameStart, out var nameLength, out var colon, out var cached, out var empty);
            if (pos < 0)
            {
                // The tag is read again from its '<' when more input comes: what it kept so far goes.
                _rawLength = rawMark;
                _rawRefCount = refMark;
                return -1;
            }
            var name = ElementName(s, nameStart, nameLength, colon, ref cached, depth);
            var attributes = WriteAttributes();
            if (depth == 1)
            {
                var element = attributes == 0 ? new Element(name, null) : new Element(name, _rawValues!, attributes);
                if (empty)
                {
                    _nsCount = nsMark;
                    root = element;
                    return pos;
                }
                _open[0] = new Open { Element = element, NameStart = nameStart, NameLength = nameLength, NsMark = nsMark, NodeStart = _nodeTop };
            }
            else
            {
                var code = QNameCode(cached, name);
                if (empty)
                {
                    _nsCount = nsMark;
                    depth--;
                    PushNode(RawValues.ElementNode, WriteRecord(code, attributes, _nodeTop));
                    continue;
                }
                if (depth > _open.Length) Array.Resize(ref _open, _open.Length * 2);
                _open[depth - 1] = new Open
                {
                    NameStart = nameStart, NameLength = nameLength, NsMark = nsMark, NodeStart = _nodeTop, QName = code, Attributes = attributes,
                };
            }
            nodeStart = _nodeTop;
        }
    }

    private void PushNode(int a, int b)
    {
        if (2 * _nodeTop == _nodeInts.Length) Array.Resize(ref _nodeInts, _nodeInts.Length * 2);
        _nodeInts[2 * _nodeTop] = a;
        _nodeInts[2 * _nodeTop + 1] = b;
        _nodeTop++;
    }

    // As Element.AddText: text right after text (which the parser does not produce) is merged.
    private void PushText(string text, int nodeStart)
    {
        if (_nodeTop > nodeStart && _nodeInts[2 * _nodeTop - 2] == RawValues.StringNode)
        {
            ref var last = ref _rawRefs[_nodeInts[2 * _nodeTop - 1]];
            last = (string)last + text;
        }
        else
        {
            PushNode(RawValues.StringNode, AddRef(text));
        }
    }

    // At the end tag of an element below the root: its record (name, attributes, and its nodes, which leave the
    // stack); returns the record's index.
    private int WriteRecord(int name, int attributes, int nodeStart)
    {
        var record = MoveNodes(nodeStart, header: 2);
        _rawSpans[record] = name;
        _rawSpans[record + 1] = attributes;
        return record;
    }

    // The nodes from nodeStart leave the stack for the records, after header ints left for the caller and their
    // count; returns where the header begins.
    private int MoveNodes(int nodeStart, int header)
    {
        var count = _nodeTop - nodeStart;
        var at = _rawSpanCount;
        var need = at + header + 1 + 2 * count;
        if (need > _rawSpans.Length) Array.Resize(ref _rawSpans, Math.Max(need, _rawSpans.Length * 2));
        _rawSpans[at + header] = count;
        if (count != 0) _nodeInts.AsSpan(2 * nodeStart, 2 * count).CopyTo(_rawSpans.AsSpan(at + header + 1));
        _rawSpanCount = need;
        _nodeTop = nodeStart;
        _rawValues ??= new RawValues();
        return at;
    }

    // At the root's end tag: its nodes, as an element's only text (no node array, no RawText) or as a count and the
    // nodes in the records, from which the root makes its node array when first asked.
    private void SetRootNodes(Element root, int nodeStart)
    {
        var count = _nodeTop - nodeStart;
        if (count == 0) return;
        var first = _nodeInts[2 * nodeStart];
        if (count == 1 && first >= 0)
        {
            root.SetParsedText(_rawValues ??= new RawValues(), first, _nodeInts[2 * nodeStart + 1]);
            _nodeTop = nodeStart;
            return;
        }
        var content = MoveNodes(nodeStart, header: 0);
        root.SetParsedContent(_rawValues!, content, count);
    }

    // An element name's expanded name (declarations applied, prefix resolved); cached becomes the name's cache entry
    // when it was not found in the cache but could be put there.
    private QName ElementName(ReadOnlySpan<byte> s, int nameStart, int nameLength, int colon, ref CachedName? cached, int depth)
    {
        if (_declarationCount != 0) ApplyDeclarations(depth);
        cached = SplitElementName(s, nameStart, nameLength, colon, cached, out var prefix, out var local);
        var ns = Lookup(prefix);
        if (ns is null) XmlThrow.BadNamespacePrefix("Undeclared prefix '" + prefix + "'");
        if (cached is null) return _qnames.Get(ns, local);
        // Namespaces are interned, so the expanded name last made from this raw name is usually the one.
        var name = cached.QName;
        if (name is null || !ReferenceEquals(name.Namespace, ns))
        {
            name = cached.QName = _qnames.Get(ns, local);
            cached.QNameId = -1;
        }
        return name;
    }

    // A record's name code: the name's index in _qnameTable (given to the cache entry on its first record), or the
    // complement of an index in the stanza's references.
    private int QNameCode(CachedName? cached, QName name)
    {
        if (cached is null) return ~AddRef(name);
        var id = cached.QNameId;
        if (id >= 0) return id;
        if (_qnameTableCount == MaxQNameTable) return ~AddRef(name);
        if (_qnameTableCount == _qnameTable.Length) Array.Resize(ref _qnameTable, _qnameTableCount * 2);
        _qnameTable[_qnameTableCount] = name;
        cached.QNameId = (short)_qnameTableCount;
        return _qnameTableCount++;
    }

    // The attributes of the tag just read (not its declarations), which ParseStartTag wrote as ints as it read them:
    // no references (so no write barriers) and no array; the element makes its array when first asked. Here their
    // count goes in, and the namespaces of prefixed names (other than xml:) once the tag's declarations apply.
    // Returns their first index, 0 when none.
    private int WriteAttributes()
    {
        var first = _attrFirst;
        if (first == 0) return 0;
        _rawSpans[first] = _attrCount - _declarationCount;
        if (_attrPrefixed) ResolveAttributeNamespaces(first);
        _rawSpanCount = _attrEnd;
        _rawValues ??= new RawValues();
        return first;
    }

    private void ResolveAttributeNamespaces(int first)
    {
        var k = first + 1;
        for (var i = 0; i < _attrCount; i++)
        {
            var attrName = _attrs[i].Name;
            if (attrName.IsDeclaration) continue;
            if (attrName.PrefixKind == OtherPrefix)
            {
                var attrNs = ResolveAttributePrefix(attrName.Prefix);
                _rawSpans[k + 1] = ReferenceEquals(attrNs, Ns.Xml) ? RawValues.XmlNamespace : RawValues.FirstNamespaceRef + AddRef(attrNs);
            }
            k += 4;
        }
        // Duplicates were refused while the tag was read by raw name; two prefixes bound to one namespace are found
        // here (xml: is bound to its namespace only, so an attribute with no other prefix cannot collide).
        CheckExpandedDuplicates();
    }

    // A string an attribute refers to that is not in the name table; returns its index in the stanza's references.
    private int AddRef(object value)
    {
        if (_rawRefCount == _rawRefs.Length) Array.Resize(ref _rawRefs, Math.Max(8, _rawRefCount * 2));
        _rawRefs[_rawRefCount] = value;
        return _rawRefCount++;
    }

    // Copies a plain attribute value or text to the stanza's raw bytes; returns its offset there.
    private int DeferBytes(ReadOnlySpan<byte> s, int start, int length)
    {
        var offset = _rawLength;
        var buffer = _rawBytes;
        if (buffer.Length - offset < Math.Max(length, 32)) buffer = GrowRawBytes(length);
        // Most values and text are short: one 32-byte vector copy (the bytes past the end are overwritten later).
        if (length <= 32 && s.Length - start >= 32 && Vector256.IsHardwareAccelerated)
            Vector256.Create(s.Slice(start, 32)).CopyTo(buffer.AsSpan(offset));
        else
            s.Slice(start, length).CopyTo(buffer.AsSpan(offset));
        _rawLength = offset + length;
        return offset;
    }

    private byte[] GrowRawBytes(int length)
    {
        Array.Resize(ref _rawBytes, Math.Max(256, (_rawLength + Math.Max(length, 32)) * 2));
        return _rawBytes;
    }

    // The element name split (and validated) when it was not found in the name cache; returns the new cache entry,
    // or null when the name cannot be cached (then prefix and local are set).
    private CachedName? SplitElementName(ReadOnlySpan<byte> s, int nameStart, int nameLength, int colon, CachedName? cached,
        out string prefix, out string local)
    {
        if (cached is not null)
        {
            prefix = cached.Prefix;
            local = cached.Local;
            return cached;
        }
        SplitName(s.Slice(nameStart, nameLength), colon, out prefix, out local);
        return RememberName(s, nameStart, nameLength, prefix, local);
    }

    private string ResolveAttributePrefix(string prefix)
    {
        var ns = Lookup(prefix);
        if (ns is null) XmlThrow.BadNamespacePrefix("Undeclared prefix '" + prefix + "'");
        return ns;
    }

    // XML Namespaces §6.3: no two attributes with the same local name and namespace URI.
    private void CheckExpandedDuplicates()
    {
        for (var i = 0; i < _attrCount; i++)
        {
            ref var a = ref _attrs[i];
            if (a.IsDeclaration || a.Prefix.Length == 0) continue;
            var ns = ResolveAttributePrefix(a.Prefix);
            for (var j = i + 1; j < _attrCount; j++)
            {
                ref var b = ref _attrs[j];
                if (b.IsDeclaration || b.Prefix.Length == 0 || b.Local != a.Local) continue;
                if (ResolveAttributePrefix(b.Prefix) == ns) XmlThrow.NotWellFormed("Duplicate attribute '" + a.Local + "'");
            }
        }
    }

    private void ApplyDeclarations(int depth)
    {
        if (_declarationCount == 0) return;
        if (_declarationCount == 1 && _defaultDeclaration is { } defaultUri)
        {
            // Most elements that declare anything declare only their default namespace: the checks below for it.
            if (defaultUri is Ns.Xmlns or Ns.Xml) XmlThrow.NotWellFormed("Reserved namespace binding");
            if (depth == 1 && _rescopeFrom is not null && defaultUri == _rescopeFrom) defaultUri = Ns.Client;
            Bind("", defaultUri);
            return;
        }
        for (var i = 0; i < _attrCount; i++)
        {
            ref var a = ref _attrs[i];
            if (!a.IsDeclaration) continue;
            var uri = a.Value!; // declarations are never deferred
            var prefix = a.Prefix.Length == 0 ? "" : a.Local;
            if (uri is Ns.Xmlns || (uri is Ns.Xml) != (prefix == "xml") || prefix == "xmlns")
                XmlThrow.NotWellFormed("Reserved namespace binding");
            if (prefix.Length != 0 && uri.Length == 0) XmlThrow.NotWellFormed("Empty namespace binding for prefix '" + prefix + "'");
            if (prefix == "xml") continue;
            if (depth == 1 && _rescopeFrom is not null && uri == _rescopeFrom) uri = Ns.Client;
            Bind(prefix, uri);
        }
    }

    private void Bind(string prefix, string uri)
    {
        if (_nsCount == _prefixes.Length)
        {
            Array.Resize(ref _prefixes, _nsCount * 2);
            Array.Resize(ref _uris, _nsCount * 2);
        }
        _prefixes[_nsCount] = prefix;
        _uris[_nsCount] = uri;
        _nsCount++;
    }

    private string? Lookup(string prefix)
    {
        for (var i = _nsCount - 1; i >= 0; i--)
        {
            if (ReferenceEquals(_prefixes[i], prefix) || _prefixes[i] == prefix) return _uris[i];
        }
        return prefix.Length == 0 ? "" : null;
    }

    // Start tag: '<' Name (S Attribute)* S? ('>' | '/>'). Fills _attrs; returns the position after the tag, or -1
    // when the input ends inside it.
    private int ParseStartTag(ReadOnlySpan<byte> s, int pos, out int nameStart, out int nameLength, out int colon,
        out CachedName? cached, out bool empty)
    {
        empty = false;
        nameStart = pos + 1;
        colon = -1;
        cached = FindName(s, nameStart, out nameLength);
        if (cached is null)
        {
            nameLength = ScanName(s, nameStart, out colon);
            if (nameLength < 0) return -1;
        }
        pos = nameStart + nameLength;
        _attrCount = 0;
        _declarationCount = 0;
        _defaultDeclaration = null;
        // While parsing an element, each attribute's record (see WriteAttributes) is written as soon as it is read,
        // from _rawSpanCount on: kept only when the tag is complete. seen has bit (Id % 64) of every cached name read
        // so far, so an attribute is compared with the others only when its bit is taken or a name is transient.
        var first = 0;
        var k = 0;
        var prefixed = false;
        var seen = 0UL;
        var transient = false;
        while (true)
        {
            var ws = pos;
            while (pos < s.Length && XmlChars.IsWhitespace(s[pos])) pos++;
            if (pos >= s.Length) return -1;
            var b = s[pos];
            if (b == '>')
            {
                _attrFirst = first;
                _attrEnd = k;
                _attrPrefixed = prefixed;
                return pos + 1;
            }
            if (b == '/')
            {
                if (pos + 1 >= s.Length) return -1;
                if (s[pos + 1] != '>') XmlThrow.NotWellFormed("Expected '>' after '/'");
                empty = true;
                _attrFirst = first;
                _attrEnd = k;
                _attrPrefixed = prefixed;
                return pos + 2;
            }
            if (ws == pos) XmlThrow.NotWellFormed("Attributes must be separated by white space");
            var attrStart = pos;
            var attrColon = -1;
            var attrCached = FindName(s, pos, out var attrLength);
            if (attrCached is null)
            {
                attrLength = ScanName(s, pos, out attrColon);
                if (attrLength < 0) return -1;
            }
            pos += attrLength;
            // Nearly always '=' and the quote right after the name: two bytes looked at, no white space skipped.
            if (pos + 1 >= s.Length || s[pos] != '=' || s[pos + 1] is not ((byte)'\'' or (byte)'"'))
            {
                while (pos < s.Length && XmlChars.IsWhitespace(s[pos])) pos++;
                if (pos >= s.Length) return -1;
                if (s[pos] != '=') XmlThrow.NotWellFormed("Expected '=' after an attribute name");
                pos++;
                while (pos < s.Length && XmlChars.IsWhitespace(s[pos])) pos++;
                if (pos >= s.Length) return -1;
                if (s[pos] is not ((byte)'\'' or (byte)'"')) XmlThrow.NotWellFormed("Attribute values must be quoted");
            }
            else
            {
                pos++;
            }
            var plain = PlainValueLength(s, pos + 1, s[pos]);
            var close = plain >= 0 ? plain : s[(pos + 1)..].IndexOf(s[pos]);
            if (close < 0) return -1;
            var raw = s.Slice(pos + 1, close);
            pos += close + 2;

            if (_attrCount == _maxAttributes) XmlThrow.PolicyViolation("Too many attributes");
            if (attrCached is null)
            {
                SplitName(s.Slice(attrStart, attrLength), attrColon, out var prefix, out var local);
                attrCached = RememberName(s, attrStart, attrLength, prefix, local) ?? new CachedName(0, 0, prefix, local);
            }
            var isDeclaration = attrCached.IsDeclaration;
            if (isDeclaration) _declarationCount++;
            var id = attrCached.Id;
            var bit = 1UL << id; // C# takes a ulong's shift count mod 64
            if (id < 0) transient = true;
            if (transient || (seen & bit) != 0) CheckDuplicate(attrCached);
            seen |= bit;
            if (_attrCount == _attrs.Length) Array.Resize(ref _attrs, _attrs.Length * 2);
            ref var attr = ref _attrs[_attrCount++];
            attr.Name = attrCached;
            if (_deferValues && !isDeclaration)
            {
                if (first == 0)
                {
                    first = _rawSpanCount;
                    k = first + 1;
                }
                if (k + 4 > _rawSpans.Length) Array.Resize(ref _rawSpans, Math.Max(k + 4, _rawSpans.Length * 2));
                var nameCode = id >= 0 ? id : ~AddRef(attrCached.Local);
                var prefixKind = attrCached.PrefixKind;
                if (prefixKind == OtherPrefix) prefixed = true;
                int offset, length;
                if (!raw.IsEmpty && (plain >= 0 || raw.IndexOfAny(XmlChars.NotPlainAttributeBytes) < 0))
                {
                    offset = DeferBytes(s, pos - close - 1, close);
                    length = raw.Length;
                }
                else
                {
                    offset = -1;
                    length = AddRef(plain < 0 ? DecodeAttribute(raw, isDeclaration: false) : DecodePlainAscii(raw));
                }
                var record = _rawSpans.AsSpan(k, 4);
                record[0] = nameCode;
                record[1] = prefixKind == NoPrefix ? RawValues.NoNamespace : prefixKind == XmlPrefix ? RawValues.XmlNamespace : 0;
                record[2] = offset;
                record[3] = length;
                k += 4;
            }
            else
            {
                attr.Value = isDeclaration
                    ? attrCached.Prefix.Length == 0 ? _defaultDeclaration = DecodeDefaultNamespace(s, pos - close - 1, close, cached) : DecodeNamespace(raw)
                    : plain < 0 ? DecodeAttribute(raw, isDeclaration: false)
                    : DecodePlainAscii(raw);
            }
        }
    }

    // A cached name has one entry per raw name, so two attributes have the same name exactly when they have the same
    // entry; only a name that could not be cached needs its strings compared.
    private void CheckDuplicate(CachedName name)
    {
        for (var j = 0; j < _attrCount; j++)
        {
            var other = _attrs[j].Name;
            if (ReferenceEquals(other, name) || ((other.Transient || name.Transient) && other.Local == name.Local && other.Prefix == name.Prefix))
                XmlThrow.NotWellFormed("Duplicate attribute '" + name.Local + "'");
        }
    }

    // The value of a default namespace declaration on an element: the one the same element name declared last time
    // when the bytes are the same (a compare of at most two vectors), else as DecodeNamespace finds it.
    private string DecodeDefaultNamespace(ReadOnlySpan<byte> s, int start, int length, CachedName? element)
    {
        if (element is null || length > 64 || s.Length - start < 64 || !Vector256.IsHardwareAccelerated) return DecodeNamespace(s.Slice(start, length));
        var head = Vector256.Create(s.Slice(start, 32));
        var tail = Vector256.Create(s.Slice(start + 32, 32));
        var declared = element.Declared;
        if (declared is not null && declared.Length == length)
        {
            var differ = (ulong)~Vector256.Equals(head, declared.Head).ExtractMostSignificantBits()
                | ((ulong)~Vector256.Equals(tail, declared.Tail).ExtractMostSignificantBits() << 32);
            if ((differ & (ulong.MaxValue >> (64 - length))) == 0 || length == 0) return declared.Uri;
        }
        var uri = DecodeNamespace(s.Slice(start, length));
        // Most names declare a namespace once in a session (the negotiation's), so the vectors wait for a second time.
        if (declared is null)
        {
            element.Declared = DeclaredNamespace.Once;
            return uri;
        }
        if (ReferenceEquals(declared, DeclaredNamespace.Once)) element.Declared = declared = new DeclaredNamespace();
        declared.Head = head;
        declared.Tail = tail;
        declared.Length = length;
        declared.Uri = uri;
        return uri;
    }

    // A namespace declaration's value: the same few namespaces are declared again and again (on every chat state,
    // receipt, caps or archived message), so the string decoded from the same bytes last time is reused. Decoding
    // depends on nothing but the bytes, so a hit gives what DecodeAttribute would; a miss decodes (and validates)
    // them and takes the slot.
    private string DecodeNamespace(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty) return "";
        if (raw.Length > MaxCachedNamespace) return DecodeAttribute(raw, isDeclaration: true);
        var h = (ulong)raw.Length * 0x9E3779B97F4A7C15UL;
        if (raw.Length >= 8)
        {
            h ^= MemoryMarshal.Read<ulong>(raw) ^ (MemoryMarshal.Read<ulong>(raw[^8..]) * 0xC2B2AE3D27D4EB4FUL);
        }
        else
        {
            h ^= raw[0] | ((ulong)raw[^1] << 8);
        }
        var cache = _namespaceCache;
        var slot = (int)((h * 0x9E3779B97F4A7C15UL) >> _namespaceShift);
        var entry = cache[slot];
        if (entry is not null && Ascii.Equals(raw, entry)) return entry;
        var uri = DecodeAttribute(raw, isDeclaration: true);
        // Only a namespace written as itself (ASCII, no reference) is kept, so its string is its key.
        if (!Ascii.Equals(raw, uri)) return uri;
        if (entry is not null && ++_namespaceEvictions > cache.Length && cache.Length < MaxNamespaceSlots)
        {
            // Namespaces that share a slot keep taking it from each other: twice the slots, refilled as met.
            _namespaceCache = cache = new string?[cache.Length * 2];
            _namespaceShift--;
            _namespaceEvictions = 0;
            slot = (int)((h * 0x9E3779B97F4A7C15UL) >> _namespaceShift);
        }
        cache[slot] = uri;
        return uri;
    }

    // Namespaces decoded from declarations, by their raw bytes (at most 128): a new one replaces the one in its slot
    // (a peer that declares ever new namespaces only makes misses). 8 slots to start with, doubled up to 64 when
    // replacements outnumber the slots. The strings are the name table's, so a slot costs a reference.
    private const int MaxCachedNamespace = 128;
    private const int MaxNamespaceSlots = 64;
    private string?[] _namespaceCache = new string?[8];
    private int _namespaceShift = 64 - 3;
    private int _namespaceEvictions;

    // Returns the length of the name at pos (and where its first colon is, or -1), or -1 when the input ends in it.
    private static int ScanName(ReadOnlySpan<byte> s, int pos, out int colon)
    {
        colon = -1;
        var classes = XmlChars.NameClasses;
        var i = pos;
        var seen = 0;
        while (i < s.Length)
        {
            var c = classes[s[i]];
            if (c == 0) break;
            if (c == 3 && colon < 0) colon = i - pos;
            seen |= c;
            i++;
        }
        if (i == s.Length) return -1;
        if (i == pos || !XmlChars.IsNameStartByte(s[pos])) XmlThrow.NotWellFormed("Expected a name");
        // A non-ASCII name is flagged by a colon index at or above NonAsciiFlag, so no second scan is needed.
        if ((seen & 4) != 0) colon = colon < 0 ? NonAsciiFlag - 1 : colon + NonAsciiFlag;
        return i - pos;
    }

    // The cached name at start, found by its raw bytes, with its length; null on a miss or when fewer than 16 bytes
    // follow (then the caller scans the name the slow way). A name longer than 15 bytes is never cached.
    // The name is taken to end at the first byte that may follow a name in a tag (white space, a control character,
    // '=', '>' or '/'), which is cheaper to find than the first byte that is not a name byte. On a hit the two are
    // the same: the bytes before it equal a cached name, which is made of name bytes only (it was validated when it
    // was cached), and the byte that ends it is no name byte. Any other byte in the way makes a miss, and the slow
    // path finds and judges it as before.
    private CachedName? FindName(ReadOnlySpan<byte> s, int start, out int length)
    {
        length = 0;
        if (s.Length - start < 16) return null;
        var v = Vector128.Create(s.Slice(start, 16));
        var ends = Vector128.LessThanOrEqual(v, Vector128.Create((byte)' ')) | Vector128.Equals(v, Vector128.Create((byte)'='))
            | Vector128.Equals(v, Vector128.Create((byte)'>')) | Vector128.Equals(v, Vector128.Create((byte)'/'));
        var n = BitOperations.TrailingZeroCount(ends.ExtractMostSignificantBits() | 0x10000);
        if (n is 0 or 16) return null;
        var slot = NameSet(MemoryMarshal.Read<ushort>(s.Slice(start, 2)), n, _nameSetShift);
        NameKey(v, n, out var k0, out var k1);
        var cache = _nameCache;
        for (var way = 0; way < NameCacheWays; way++)
        {
            var entry = cache[slot + way];
            if (entry is null) return null;
            if (entry.K0 == k0 && entry.K1 == k1)
            {
                length = n;
                return entry;
            }
        }
        return null;
    }

    // Caches a name that has just been split and validated; returns its entry, or null when it cannot be cached.
    private CachedName? RememberName(ReadOnlySpan<byte> s, int start, int length, string prefix, string local)
    {
        if (length >= 16 || s.Length - start < 16) return null;
        var v = Vector128.Create(s.Slice(start, 16));
        NameKey(v, length, out var k0, out var k1);
        while (true)
        {
            var slot = NameSet((ushort)k0, length, _nameSetShift);
            for (var way = 0; way < NameCacheWays; way++)
            {
                var entry = _nameCache[slot + way];
                if (entry is null)
                {
                    if (_nameTableCount == _nameTable.Length) Array.Resize(ref _nameTable, _nameTableCount + _nameTableCount / 2);
                    _nameTable[_nameTableCount] = local;
                    return _nameCache[slot + way] = new CachedName(k0, k1, prefix, local, id: _nameTableCount++);
                }
                if (entry.K0 == k0 && entry.K1 == k1) return entry; // one entry per name
            }
            // A full set: nothing is evicted, so names that recur are never pushed out by names that do not. Names
            // left out take the slow path each time they come; when that has happened often, the sets double.
            if (_nameSetShift == 64 - NameCacheMaxSetBits || ++_nameRefusals <= NameCacheRefusalsToGrow) return null;
            _nameRefusals = 0;
            GrowNameCache();
        }
    }

    // Twice the sets: every entry keeps its object (and Id) and moves to the half of its old set its next hash bit picks.
    private void GrowNameCache()
    {
        var shift = _nameSetShift - 1;
        var larger = new CachedName?[_nameCache.Length * 2];
        foreach (var entry in _nameCache)
        {
            if (entry is null) continue;
            var slot = NameSet((ushort)entry.K0, KeyLength(entry.K0, entry.K1), shift);
            while (larger[slot] is not null) slot++;
            larger[slot] = entry;
        }
        _nameCache = larger;
        _nameSetShift = shift;
    }

    // The first slot of a name's set: from its first two bytes (the first only, for a one-byte name) and its length,
    // which are at hand before the name is masked into its key, so the probe's loads start sooner; names that share
    // all three (few in XMPP) share a set of four ways.
    private static int NameSet(ushort firstTwo, int length, int shift)
    {
        var head = (uint)(length == 1 ? firstTwo & 0xFF : firstTwo);
        return (int)((((ulong)(uint)length << 16 | head) * 0x9E3779B97F4A7C15UL) >> shift) * NameCacheWays;
    }

    // A key's name length: its bytes are non-zero and the rest of the two words zero.
    private static int KeyLength(ulong k0, ulong k1) =>
        k1 == 0 ? 8 - BitOperations.LeadingZeroCount(k0) / 8 : 16 - BitOperations.LeadingZeroCount(k1) / 8;

    // The name's first 1 to 15 bytes as two words, the rest zeroed: the cache's key.
    private static void NameKey(Vector128<byte> v, int length, out ulong k0, out ulong k1)
    {
        // Masked with a compare rather than a branch on the length: names shorter and longer than 8 bytes alternate
        // in a tag, so such a branch is often mispredicted. The bytes past the name are zero and no name byte is, so
        // the two words tell names of different lengths apart without the length.
        var words = (v & Vector128.LessThan(Vector128<byte>.Indices, Vector128.Create((byte)length))).AsUInt64();
        k0 = words.ToScalar();
        k1 = words.GetElement(1);
    }

    // After an opening quote at start: the value's length when it closes within 32 bytes and is plain ASCII (no
    // reference, no white space to normalize, no control character, no '<', and nothing the writer would escape, no
    // quote or '>': nothing XmlChars.NotPlainAttributeBytes finds); -1 otherwise (the caller takes the general path,
    // which finds the same end).
    private static int PlainValueLength(ReadOnlySpan<byte> s, int start, byte quote) =>
        PlainRunLength(s, start, quote, (byte)'<', attribute: true);

    // TextRun's findings: non-ASCII bytes; a byte of TextSpecials (a reference, CR, '>', a control character, 0xEF).
    private const int TextNonAscii = 1;
    private const int TextSpecial = 2;

    // At the start of character data: its length up to the next '<' (-1 when the input ends first), and in found
    // what it holds (TextNonAscii, TextSpecial; 0 for plain ASCII). One pass, 32 bytes a step, classifies a run of
    // any length; the last bytes of the input are searched the scalar way.
    private static int TextRun(ReadOnlySpan<byte> s, int start, out int found)
    {
        found = 0;
        var i = start;
        if (Vector256.IsHardwareAccelerated)
        {
            while (s.Length - i >= 32)
            {
                var v = Vector256.Create(s.Slice(i, 32));
                var ends = Vector256.Equals(v, Vector256.Create((byte)'<')).ExtractMostSignificantBits();
                var control = Vector256.LessThan(v, Vector256.Create((byte)0x20))
                    & ~(Vector256.Equals(v, Vector256.Create((byte)'\t')) | Vector256.Equals(v, Vector256.Create((byte)'\n')));
                var specials = (control | Vector256.Equals(v, Vector256.Create((byte)'&')) | Vector256.Equals(v, Vector256.Create((byte)'>'))
                    | Vector256.Equals(v, Vector256.Create((byte)0xEF))).ExtractMostSignificantBits();
                var before = ends == 0 ? uint.MaxValue : (1u << BitOperations.TrailingZeroCount(ends)) - 1;
                if ((specials & before) != 0) found |= TextSpecial;
                if ((v.ExtractMostSignificantBits() & before) != 0) found |= TextNonAscii;
                if (ends != 0) return i - start + BitOperations.TrailingZeroCount(ends);
                i += 32;
            }
        }
        var rest = s[i..];
        var end = rest.IndexOf((byte)'<');
        if (end < 0) return -1;
        var tail = rest[..end];
        var k = tail.IndexOfAny(XmlChars.TextSpecialsOrNonAscii);
        if (k >= 0) found |= tail[k..].IndexOfAny(XmlChars.TextSpecials) >= 0 ? TextSpecial | TextNonAscii : TextNonAscii;
        return i - start + end;
    }

    // One 32-byte vector classifies a whole short run: where it ends, and whether anything before that end is a
    // control character (in text, TAB and LF are not), non-ASCII, '&' or the other special byte, or (in an attribute
    // value) a quote or '>'.
    private static int PlainRunLength(ReadOnlySpan<byte> s, int start, byte end, byte other, bool attribute)
    {
        if (!Vector256.IsHardwareAccelerated || s.Length - start < 32) return -1;
        var v = Vector256.Create(s.Slice(start, 32));
        var ends = Vector256.Equals(v, Vector256.Create(end)).ExtractMostSignificantBits();
        if (ends == 0) return -1;
        var control = Vector256.LessThan(v, Vector256.Create((byte)0x20));
        if (attribute)
            control |= Vector256.Equals(v, Vector256.Create((byte)'\'')) | Vector256.Equals(v, Vector256.Create((byte)'"')) | Vector256.Equals(v, Vector256.Create((byte)'>'));
        else
            control &= ~(Vector256.Equals(v, Vector256.Create((byte)'\t')) | Vector256.Equals(v, Vector256.Create((byte)'\n')));
        var specials = (control | Vector256.GreaterThanOrEqual(v, Vector256.Create((byte)0x80))
            | Vector256.Equals(v, Vector256.Create((byte)'&')) | Vector256.Equals(v, Vector256.Create(other))).ExtractMostSignificantBits();
        var length = BitOperations.TrailingZeroCount(ends); // at most 31
        return (specials & ((1u << length) - 1)) == 0 ? length : -1;
    }

    // XML Namespaces §3: QName ::= (Prefix ':')? LocalPart, both NCNames.
    private void SplitName(ReadOnlySpan<byte> name, int colon, out string prefix, out string local)
    {
        var ascii = colon < NonAsciiFlag - 1;
        if (!ascii) colon = colon == NonAsciiFlag - 1 ? -1 : colon - NonAsciiFlag;
        if (colon < 0)
        {
            prefix = "";
            local = Intern(name, ascii);
            return;
        }
        var rest = name[(colon + 1)..];
        if (colon == 0 || rest.IsEmpty || rest.IndexOf((byte)':') >= 0 || !XmlChars.IsNameStartByte(rest[0]))
            XmlThrow.NotWellFormed("Malformed qualified name");
        prefix = Intern(name[..colon], ascii);
        local = Intern(rest, ascii);
    }

    // ScanName adds this to the colon index (NonAsciiFlag - 1 when there is no colon) for names with non-ASCII bytes.
    private const int NonAsciiFlag = 1 << 30;

    private string Intern(ReadOnlySpan<byte> name, bool ascii)
    {
        var s = _names.GetOrAdd(name);
        if (s is null) XmlThrow.NotWellFormed("Invalid UTF-8 in a name");
        if (!ascii) ValidateName(s);
        return s;
    }

    private static void ValidateName(string name)
    {
        var first = true;
        foreach (var rune in name.EnumerateRunes())
        {
            if (first ? !XmlChars.IsNameStartChar(rune.Value) : !XmlChars.IsNameChar(rune.Value))
                XmlThrow.NotWellFormed("Invalid character in a name");
            first = false;
        }
    }

    // XML 1.0 §3.3.3: references are replaced, literal white space becomes a space.
    private string DecodeAttribute(ReadOnlySpan<byte> raw, bool isDeclaration)
    {
        if (raw.IsEmpty) return "";
        var special = raw.IndexOfAny(XmlChars.AttributeSpecialsOrNonAscii);
        if (special < 0 && !isDeclaration) return DecodePlainAscii(raw);
        if (special >= 0 && raw[special] >= 0x80)
        {
            var more = raw[special..].IndexOfAny(XmlChars.AttributeSpecials);
            special = more < 0 ? -1 : special + more;
        }
        if (special < 0)
        {
            if (isDeclaration)
            {
                var ns = _names.GetOrAdd(raw);
                if (ns is null) XmlThrow.NotWellFormed("Invalid UTF-8");
                return ns;
            }
            if (raw.Length <= 12)
            {
                var known = XmlNameTable.TryGetKnown(raw);
                if (known is not null) return known;
            }
            if (Ascii.IsValid(raw)) return Encoding.Latin1.GetString(raw);
            EnsureChars(raw.Length);
            var n = Transcode(raw, 0);
            return new string(_chars, 0, n);
        }

        // The scratch is needed from here on only: a plain namespace is interned from its bytes (one per session).
        EnsureChars(raw.Length);

        var length = 0;
        var chunk = 0;
        var i = special;
        while (true)
        {
            var b = raw[i];
            switch (b)
            {
                case (byte)'&':
                    length += Transcode(raw[chunk..i], length);
                    i = AppendReference(raw, i, ref length);
                    chunk = i;
                    break;
                case (byte)'\t' or (byte)'\n' or (byte)'\r':
                    length += Transcode(raw[chunk..i], length);
                    _chars[length++] = ' ';
                    i++;
                    if (b == '\r' && i < raw.Length && raw[i] == '\n') i++;
                    chunk = i;
                    break;
                case (byte)'<':
                    XmlThrow.NotWellFormed("'<' in an attribute value");
                    break;
                case 0xEF:
                    CheckNonCharacter(raw, i);
                    i++;
                    break;
                default:
                    XmlThrow.NotWellFormed("Invalid character in an attribute value");
                    break;
            }
            var k = i < raw.Length ? raw[i..].IndexOfAny(XmlChars.AttributeSpecials) : -1;
            if (k < 0)
            {
                length += Transcode(raw[chunk..], length);
                return isDeclaration ? _names.GetOrAdd(Encoding.UTF8.GetBytes(_chars, 0, length)) ?? "" : new string(_chars, 0, length);
            }
            i += k;
        }
    }

    // Plain ASCII needs no decoding: a well-known value, or one widening copy.
    internal static string DecodePlainAscii(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty) return "";
        if (raw.Length <= 12)
        {
            var known = XmlNameTable.TryGetKnown(raw);
            if (known is not null) return known;
        }
        return Encoding.Latin1.GetString(raw);
    }

    private void AppendText(ReadOnlySpan<byte> raw)
    {
        EnsureChars(_textLength + raw.Length);
        var chunk = 0;
        var i = 0;
        while (true)
        {
            var k = raw[i..].IndexOfAny(XmlChars.TextSpecials);
            if (k < 0)
            {
                _textLength += Transcode(raw[chunk..], _textLength);
                return;
            }
            i += k;
            var b = raw[i];
            switch (b)
            {
                case (byte)'&':
                    _textLength += Transcode(raw[chunk..i], _textLength);
                    i = AppendReference(raw, i, ref _textLength);
                    chunk = i;
                    break;
                case (byte)'\r':
                    // XML 1.0 §2.11: CR LF and lone CR become LF.
                    _textLength += Transcode(raw[chunk..i], _textLength);
                    _chars[_textLength++] = '\n';
                    i++;
                    if (i < raw.Length && raw[i] == '\n') i++;
                    chunk = i;
                    break;
                case (byte)'>':
                    if (i >= 2 && raw[i - 1] == ']' && raw[i - 2] == ']') XmlThrow.NotWellFormed("']]>' in character data");
                    i++;
                    break;
                case 0xEF:
                    CheckNonCharacter(raw, i);
                    i++;
                    break;
                default:
                    XmlThrow.NotWellFormed("Invalid character in text");
                    break;
            }
            if (i >= raw.Length)
            {
                _textLength += Transcode(raw[chunk..], _textLength);
                return;
            }
        }
    }

    private void AppendCData(ReadOnlySpan<byte> raw)
    {
        EnsureChars(_textLength + raw.Length);
        var chunk = 0;
        var i = 0;
        while (true)
        {
            var k = raw[i..].IndexOfAny(XmlChars.CDataSpecials);
            if (k < 0)
            {
                _textLength += Transcode(raw[chunk..], _textLength);
                return;
            }
            i += k;
            var b = raw[i];
            if (b == '\r')
            {
                _textLength += Transcode(raw[chunk..i], _textLength);
                _chars[_textLength++] = '\n';
                i++;
                if (i < raw.Length && raw[i] == '\n') i++;
                chunk = i;
            }
            else if (b == 0xEF)
            {
                CheckNonCharacter(raw, i);
                i++;
            }
            else
            {
                XmlThrow.NotWellFormed("Invalid character in a CDATA section");
            }
            if (i >= raw.Length)
            {
                _textLength += Transcode(raw[chunk..], _textLength);
                return;
            }
        }
    }

    // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters.
    private static void CheckNonCharacter(ReadOnlySpan<byte> raw, int i)
    {
        if (i + 2 < raw.Length && raw[i + 1] == 0xBF && raw[i + 2] >= 0xBE) XmlThrow.NotWellFormed("U+FFFE and U+FFFF are not XML characters");
    }

    // XML 1.0 §4.1 and §4.6: character references and the five predefined entities only (RFC 6120 §11.1).
    private int AppendReference(ReadOnlySpan<byte> raw, int i, ref int length)
    {
        var p = i + 1;
        if (p >= raw.Length) XmlThrow.NotWellFormed("Unterminated reference");
        if (raw[p] == '#')
        {
            p++;
            var hex = p < raw.Length && raw[p] == 'x';
            if (hex) p++;
            var start = p;
            var value = 0;
            while (p < raw.Length && raw[p] != ';')
            {
                var d = raw[p];
                int digit;
                if (d >= '0' && d <= '9') digit = d - '0';
                else if (hex && (uint)((d | 0x20) - 'a') <= 'f' - 'a') digit = (d | 0x20) - 'a' + 10;
                else
                {
                    XmlThrow.NotWellFormed("Bad character reference");
                    return 0;
                }
                value = value * (hex ? 16 : 10) + digit;
                if (value > 0x10FFFF) XmlThrow.NotWellFormed("Bad character reference");
                p++;
            }
            if (p >= raw.Length || p == start || !XmlChars.IsXmlChar(value)) XmlThrow.NotWellFormed("Bad character reference");
            if (value < 0x10000)
            {
                _chars[length++] = (char)value;
            }
            else
            {
                var rune = new Rune(value);
                length += rune.EncodeToUtf16(_chars.AsSpan(length));
            }
            return p + 1;
        }

        var name = raw[p..];
        var n = name.IndexOfAnyExcept(XmlChars.NameBytes);
        if (n <= 0 || !XmlChars.IsNameStartByte(name[0])) XmlThrow.NotWellFormed("Bad entity reference");
        if (name[n] != ';') XmlThrow.NotWellFormed("Unterminated entity reference");
        char c;
        switch (n)
        {
            case 2 when name[0] == 'l' && name[1] == 't': c = '<'; break;
            case 2 when name[0] == 'g' && name[1] == 't': c = '>'; break;
            case 3 when name[..3].SequenceEqual("amp"u8): c = '&'; break;
            case 4 when name[..4].SequenceEqual("quot"u8): c = '"'; break;
            case 4 when name[..4].SequenceEqual("apos"u8): c = '\''; break;
            default:
                XmlThrow.RestrictedXml("Entity references other than the predefined ones are not allowed (RFC 6120 §11.1)");
                return 0;
        }
        _chars[length++] = c;
        return p + n + 1;
    }

    // Strict UTF-8 to UTF-16 into _chars at offset; returns the number of chars written.
    private int Transcode(ReadOnlySpan<byte> raw, int offset)
    {
        if (raw.IsEmpty) return 0;
        var status = Utf8.ToUtf16(raw, _chars.AsSpan(offset), out _, out var written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done) XmlThrow.NotWellFormed("Invalid UTF-8");
        return written;
    }

    private void FlushText(int nodeStart)
    {
        if (_textLength == 0) return;
        PushText(new string(_chars, 0, _textLength), nodeStart);
        _textLength = 0;
    }

    // Decoding scratch, grown on demand: UTF-8 never yields more UTF-16 code units than bytes, so the bytes about to
    // be decoded bound what is written. Kept between frames (no pool round trip per stanza) unless it grew large.
    private void EnsureChars(int length)
    {
        if (_chars.Length >= length) return;
        var larger = ArrayPool<char>.Shared.Rent(Math.Max(length, Math.Max(256, _chars.Length * 2)));
        _chars.AsSpan(0, _textLength).CopyTo(larger);
        if (_chars.Length != 0) ArrayPool<char>.Shared.Return(_chars);
        _chars = larger;
    }

    private void TrimChars()
    {
        _textLength = 0;
        if (_chars.Length <= 1024) return;
        ArrayPool<char>.Shared.Return(_chars);
        _chars = [];
    }

    [DoesNotReturn]
    private static void Truncated() => XmlThrow.NotWellFormed("Unexpected end of element");
}
