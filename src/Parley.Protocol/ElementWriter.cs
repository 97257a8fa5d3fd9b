using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Parley.Protocol;

/// <summary>Serializes elements and stream tags as UTF-8 straight into a buffer writer, with correct escaping.</summary>
/// <remarks>
/// Attribute values are quoted with apostrophes. Text escapes &amp; &lt; &gt; and CR; attribute values also escape
/// both quotes, TAB, LF and CR as character references so that XML attribute normalization gives them back unchanged.
/// Characters that XML 1.0 cannot carry at all (C0 controls other than TAB, LF, CR; U+FFFE; U+FFFF; lone surrogates)
/// are written as U+FFFD rather than producing a stream the peer must reject.
/// </remarks>
public static class ElementWriter
{
    private static readonly SearchValues<char> TextSpecials = SearchValues.Create(Specials("&<>\r"));
    private static readonly SearchValues<char> AttributeSpecials = SearchValues.Create(Specials("&<>'\"\t\n\r"));

    /// <summary>
    /// Writes a top-level element of a stream whose default namespace is <paramref name="streamNamespace"/>.
    /// Elements in <see cref="Ns.Client"/> at top level are written in the stream's namespace (no xmlns);
    /// elements in <see cref="Ns.Streams"/> use the 'stream:' prefix declared on the stream header.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, Element element, string streamNamespace)
    {
        // RFC 7395 §3.3.3: over WebSocket every element stands alone.
        if (streamNamespace == Ns.Framing)
        {
            WriteStandalone(output, element);
            return;
        }
        // RFC 6120 §4.8.3: a stanza is re-scoped to whatever content namespace the stream declares, so the
        // stream's default namespace stands for jabber:client here. XEP-0220 §2.1: on a server stream, whose header
        // declares xmlns:db, dialback elements are written db:result and db:verify.
        WriteElement(output, element, Ns.Client, streamPrefixDeclared: true,
            dialbackPrefix: streamNamespace == Ns.Server && element.Namespace == Ns.Dialback);
    }

    /// <summary>Writes an element as standalone XML: it declares its own namespace (used for RFC 7395 framing and tests).</summary>
    public static void WriteStandalone(IBufferWriter<byte> output, Element element) =>
        WriteElement(output, element, "", streamPrefixDeclared: false);

    /// <summary>Writes the XML declaration and opening stream tag (RFC 6120 §4.7), or an RFC 7395 &lt;open/&gt;
    /// when <see cref="StreamHeader.StreamNamespace"/> is <see cref="Ns.Framing"/>.</summary>
    public static void WriteStreamHeader(IBufferWriter<byte> writer, StreamHeader header)
    {
        var output = new Output(writer);
        var framing = header.StreamNamespace == Ns.Framing;
        if (framing)
        {
            output.Write("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'"u8);
        }
        else
        {
            output.Write("<?xml version='1.0'?><stream:stream xmlns='"u8);
            WriteEscaped(ref output, header.ContentNamespace, AttributeSpecials);
            output.Write("' xmlns:stream='http://etherx.jabber.org/streams'"u8);
            foreach (var (prefix, uri) in header.Prefixes)
            {
                if (prefix is "" or "stream" or "xml" or "xmlns") continue;
                output.Write(" xmlns:"u8);
                WriteUtf8(ref output, prefix);
                output.Write("="u8);
                WriteAttributeValue(ref output, uri);
            }
        }
        WriteHeaderAttribute(ref output, " id="u8, header.Id);
        WriteHeaderAttribute(ref output, " from="u8, header.From);
        WriteHeaderAttribute(ref output, " to="u8, header.To);
        WriteHeaderAttribute(ref output, " version="u8, header.Version);
        WriteHeaderAttribute(ref output, " xml:lang="u8, header.Lang);
        output.Write(framing ? "/>"u8 : ">"u8);
        output.Flush();
    }

    /// <summary>Writes the closing stream tag.</summary>
    public static void WriteStreamClose(IBufferWriter<byte> output) => output.Write("</stream:stream>"u8);

    /// <summary>Writes the RFC 7395 §3.6 closing frame, &lt;close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/&gt;.</summary>
    public static void WriteFramingClose(IBufferWriter<byte> output) => output.Write("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"u8);

    /// <summary>The element as standalone XML text.</summary>
    public static string ToXmlString(Element element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteStandalone(buffer, element);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteElement(IBufferWriter<byte> writer, Element element, string parentDefault, bool streamPrefixDeclared, bool dialbackPrefix = false)
    {
        var output = new Output(writer);
        WriteElement(ref output, new Source(element), parentDefault, streamPrefixDeclared, dialbackPrefix);
        output.Flush();
    }

    // The writer's window on the buffer writer: one GetSpan for many small writes and one Advance for all of them,
    // where each was two interface calls (a stanza is about a hundred small writes).
    private ref struct Output(IBufferWriter<byte> writer)
    {
        private const int MinWindow = 512;
        private Span<byte> _span;
        private int _used;

        public Span<byte> GetSpan(int sizeHint)
        {
            if (_span.Length - _used < sizeHint) Renew(sizeHint);
            return _span[_used..];
        }

        public void Advance(int count) => _used += count;

        public void Write(scoped ReadOnlySpan<byte> bytes)
        {
            if (_span.Length - _used < bytes.Length)
            {
                WritePieces(bytes);
                return;
            }
            bytes.CopyTo(_span[_used..]);
            _used += bytes.Length;
        }

        // Long text goes out in what the buffer writer offers at a time, as BuffersExtensions.Write does, not in a
        // window of its size.
        private void WritePieces(scoped ReadOnlySpan<byte> bytes)
        {
            while (true)
            {
                var n = Math.Min(_span.Length - _used, bytes.Length);
                bytes[..n].CopyTo(_span[_used..]);
                _used += n;
                bytes = bytes[n..];
                if (bytes.IsEmpty) return;
                Renew(Math.Min(bytes.Length, MinWindow));
            }
        }

        public void Flush()
        {
            if (_used > 0) writer.Advance(_used);
            _used = 0;
            _span = default;
        }

        private void Renew(int sizeHint)
        {
            Flush();
            _span = writer.GetSpan(Math.Max(sizeHint, MinWindow));
        }
    }

    // What is written: an element, or an element below a parsed stanza's root that was never made, written from the
    // parser's record of it (RawValues) with no object made.
    private readonly ref struct Source
    {
        private readonly Element? _element;
        private readonly RawValues? _raw;
        private readonly Records _ints;
        private readonly int _attributes;
        private readonly int _content;

        public Source(Element element)
        {
            _element = element;
            Name = element.Name;
            AttributeCount = element.WriterAttributeCount;
            NodeCount = element.NodeCount;
            if (element.WriterContent(out var raw, out var content))
            {
                _raw = raw;
                _ints = raw.Ints;
                _content = content;
            }
        }

        private Source(RawValues raw, Records ints, int record)
        {
            _raw = raw;
            _ints = ints;
            Name = raw.Record(ints, record, out _attributes, out var count, out _content);
            AttributeCount = _attributes == 0 ? 0 : RawValues.AttributeCount(ints, _attributes);
            NodeCount = count;
        }

        public QName? Name { get; }

        public int AttributeCount { get; }

        public int NodeCount { get; }

        public void Attribute(int index, out string name, out string ns, out string? value, out ReadOnlySpan<byte> raw)
        {
            if (_element is not null) _element.WriterAttribute(index, out name, out ns, out value, out raw);
            else _raw!.Attribute(_ints, _attributes, index, out name, out ns, out value, out raw);
        }

        // Node index: an element (made, or a record: then child is set), a string, or plain text's bytes.
        public object? Node(int index, out Source child, out ReadOnlySpan<byte> raw)
        {
            child = default;
            if (_raw is null) return _element!.WriterNode(index, out raw);
            var a = RawValues.Node(_ints, _content, index, out var b);
            raw = default;
            if (a == RawValues.ElementNode)
            {
                child = new Source(_raw, _ints, b);
                return null;
            }
            if (a == RawValues.StringNode) return _raw.String(b);
            raw = _raw.Bytes(a, b);
            return null;
        }
    }

    private static void WriteElement(ref Output output, Source element, string parentDefault, bool streamPrefixDeclared, bool dialbackPrefix = false)
    {
        var ns = element.Name!.Namespace;
        var localName = element.Name.LocalName;
        // A name from a framer's cache keeps its UTF-8 forms, made on its first write; a name made in code has none.
        var forms = element.Name.Utf8;
        if (ReferenceEquals(forms, QName.Utf8Forms.Pending)) forms = element.Name.Utf8 = new(Encoding.UTF8.GetBytes(localName), Declaration(ns));
        var isStream = ns == Ns.Streams;
        string defaultNs;
        output.Write("<"u8);
        if (dialbackPrefix)
        {
            // COMPAT: ejabberd 23.01 ignores <result xmlns='jabber:server:dialback'/>, the same element unprefixed.
            output.Write("db:"u8);
            WriteUtf8(ref output, localName);
            defaultNs = parentDefault;
        }
        else if (isStream)
        {
            // RFC 6120 §4.8.5: stream-level elements carry the 'stream' prefix.
            output.Write("stream:"u8);
            WriteUtf8(ref output, localName);
            if (!streamPrefixDeclared)
            {
                output.Write(" xmlns:stream='http://etherx.jabber.org/streams'"u8);
                streamPrefixDeclared = true;
            }
            defaultNs = parentDefault;
        }
        else
        {
            if (forms is not null) output.Write(forms.LocalName);
            else WriteUtf8(ref output, localName);
            if (ns != parentDefault)
            {
                if (forms is not null) output.Write(forms.Declaration);
                else WriteDeclaration(ref output, ns);
            }
            defaultNs = ns;
        }

        // A parsed element is written from what the parser kept: no attribute array made, no value or text decoded
        // only to be encoded again (WriterAttribute, WriterNode).
        var count = element.AttributeCount;
        for (var i = 0; i < count; i++)
        {
            element.Attribute(i, out var name, out var attributeNs, out var value, out var raw);
            if (attributeNs.Length == 0)
            {
                output.Write(" "u8);
            }
            else if (attributeNs == Ns.Xml)
            {
                output.Write(" xml:"u8);
            }
            else if (attributeNs == Ns.Xmlns)
            {
                continue; // declarations are the writer's business
            }
            else
            {
                // Elements never get prefixes; a namespaced attribute gets one generated on its element.
                var first = i;
                for (var j = 0; j < i; j++)
                {
                    element.Attribute(j, out _, out var otherNs, out _, out _);
                    if (otherNs != attributeNs) continue;
                    first = j;
                    break;
                }
                if (first == i)
                {
                    output.Write(" xmlns:ns"u8);
                    WriteNumber(ref output, i);
                    output.Write("="u8);
                    WriteAttributeValue(ref output, attributeNs);
                }
                output.Write(" ns"u8);
                WriteNumber(ref output, first);
                output.Write(":"u8);
            }
            WriteUtf8(ref output, name);
            output.Write("="u8);
            if (value is not null) WriteAttributeValue(ref output, value);
            else WriteRawAttributeValue(ref output, raw);
        }

        var nodes = element.NodeCount;
        if (nodes == 0)
        {
            output.Write("/>"u8);
            return;
        }
        output.Write(">"u8);
        for (var i = 0; i < nodes; i++)
        {
            var node = element.Node(i, out var record, out var raw);
            if (node is Element child) WriteElement(ref output, new Source(child), defaultNs, streamPrefixDeclared);
            else if (node is string text) WriteEscaped(ref output, text, TextSpecials);
            else if (record.Name is not null) WriteElement(ref output, record, defaultNs, streamPrefixDeclared);
            else output.Write(raw); // plain text as parsed: nothing in it to escape
        }
        output.Write(isStream ? "</stream:"u8 : dialbackPrefix ? "</db:"u8 : "</"u8);
        if (forms is not null) output.Write(forms.LocalName);
        else WriteUtf8(ref output, localName);
        output.Write(">"u8);
    }

    private static void WriteDeclaration(ref Output output, string ns)
    {
        output.Write(" xmlns="u8);
        WriteAttributeValue(ref output, ns);
    }

    private static byte[] Declaration(string ns)
    {
        var buffer = new ArrayBufferWriter<byte>(ns.Length + 16);
        var output = new Output(buffer);
        WriteDeclaration(ref output, ns);
        output.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteHeaderAttribute(ref Output output, ReadOnlySpan<byte> nameEquals, string? value)
    {
        if (value is null) return;
        output.Write(nameEquals);
        WriteAttributeValue(ref output, value);
    }

    private static void WriteAttributeValue(ref Output output, string value)
    {
        output.Write("'"u8);
        WriteEscaped(ref output, value, AttributeSpecials);
        output.Write("'"u8);
    }

    // A plain ASCII value as parsed (no reference, white space or control character, no '<', '&', quote or '>':
    // XmlChars.NotPlainAttributeBytes): its bytes, with nothing to escape.
    private static void WriteRawAttributeValue(ref Output output, ReadOnlySpan<byte> raw)
    {
        var span = output.GetSpan(raw.Length + 2);
        span[0] = (byte)'\'';
        raw.CopyTo(span[1..]);
        span[raw.Length + 1] = (byte)'\'';
        output.Advance(raw.Length + 2);
    }

    private static void WriteNumber(ref Output output, int value)
    {
        var span = output.GetSpan(11);
        value.TryFormat(span, out var written);
        output.Advance(written);
    }

    private static void WriteEscaped(ref Output output, ReadOnlySpan<char> s, SearchValues<char> specials)
    {
        while (true)
        {
            var i = s.IndexOfAny(specials);
            if (i < 0)
            {
                WriteUtf8(ref output, s);
                return;
            }
            WriteUtf8(ref output, s[..i]);
            output.Write(s[i] switch
            {
                '&' => "&amp;"u8,
                '<' => "&lt;"u8,
                '>' => "&gt;"u8,
                '\'' => "&apos;"u8,
                '"' => "&quot;"u8,
                '\t' => "&#x9;"u8,
                '\n' => "&#xA;"u8,
                '\r' => "&#xD;"u8,
                _ => "\uFFFD"u8, // not an XML 1.0 character
            });
            s = s[(i + 1)..];
        }
    }

    private static void WriteUtf8(ref Output output, ReadOnlySpan<char> s)
    {
        // Names and most values are short ASCII: narrowed in place, without the transcoder's call.
        if (s.Length <= 16)
        {
            var span = output.GetSpan(s.Length);
            var i = 0;
            while (i < s.Length && s[i] < 0x80)
            {
                span[i] = (byte)s[i];
                i++;
            }
            output.Advance(i);
            s = s[i..];
        }
        while (!s.IsEmpty)
        {
            // A destination of at least 4 bytes always takes one more scalar; lone surrogates become U+FFFD.
            var destination = output.GetSpan(Math.Clamp(s.Length * 3, 4, 4096));
            Utf8.FromUtf16(s, destination, out var read, out var written, replaceInvalidSequences: true);
            output.Advance(written);
            s = s[read..];
        }
    }

    private static string Specials(string extra)
    {
        var sb = new StringBuilder(extra);
        for (var c = '\0'; c < ' '; c++)
        {
            if (c is not ('\t' or '\n' or '\r')) sb.Append(c);
        }
        return sb.Append('\uFFFE').Append('\uFFFF').ToString();
    }
}
