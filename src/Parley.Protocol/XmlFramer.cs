using System.Buffers;

namespace Parley.Protocol;

/// <summary>
/// Incremental, non-blocking parser of an XMPP XML stream over UTF-8 bytes (RFC 6120 §4, §11).
/// It yields the stream header, then one complete top-level element at a time, then the stream close.
/// </summary>
/// <remarks>
/// An element is parsed (<see cref="XmlElementParser"/>: validating everything and building the tree) in one pass
/// over the first segment, which holds most stanzas whole. One it finds incomplete there is suspended, not thrown
/// away, and goes on once over a copy of that and the next segment when more input is there. Only an element still
/// incomplete then takes two passes: the first finds where it ends, looking only at markup delimiters (vectorized
/// searches for '&lt;', '&gt;' and quotes), keeping its state between calls so it never rescans bytes it has seen,
/// and rejecting comments, processing instructions, DTDs, oversized and overdeep elements as soon as they appear;
/// then the parse goes on over the complete element (copied into a pooled buffer when it spans segments). The stream
/// header, XML declaration and stream close always take the two passes.
/// </remarks>
public sealed class XmlFramer
{
    private static readonly XmlFramerOptions DefaultOptions = new();
    private readonly XmlFramerOptions _options;
    private readonly XmlElementParser _parser;

    private StreamState _state;
    private bool _declarationSeen;
    private bool _closePending;
    private bool _opened;
    private byte[] _rootName = [];

    // First-pass state of the pending frame; it survives between calls.
    private FrameKind _kind;
    private ScanState _scan;
    private long _scanned;
    private int _depth;
    private byte _quote;
    private byte _last1;
    private byte _last2;
    private bool _retryParse; // the element's parse is suspended and has not yet been tried on more input

    private enum StreamState : byte { Start, BeforeHeader, Open, Closed }

    private enum FrameKind : byte { None, Declaration, Header, Element, Close }

    private enum ScanState : byte { Text, Markup, StartTag, StartTagSlash, AttributeValue, EndTag, CData, Declaration }

    /// <summary>Creates a framer with the given limits.</summary>
    public XmlFramer(XmlFramerOptions? options = null)
    {
        _options = options ?? DefaultOptions;
        _parser = new XmlElementParser(_options.MaxAttributes, _options.MaxDepth);
    }

    /// <summary>Forgets all stream state: the next input must be a new stream header (RFC 6120 §4.3.3 restart).</summary>
    public void Reset()
    {
        _state = StreamState.Start;
        _declarationSeen = false;
        _closePending = false;
        _opened = false;
        _rootName = [];
        _kind = FrameKind.None;
        _scanned = 0;
        _depth = 0;
        _retryParse = false;
        _parser.Abandon();
        _parser.ResetScope();
    }

    /// <summary>
    /// Tries to read the next frame from <paramref name="buffer"/>. On success slices the consumed bytes off the front
    /// of <paramref name="buffer"/>. On false, <paramref name="buffer"/> is left at the first unconsumed byte and all of
    /// it has been examined. Throws <see cref="XmlStreamException"/> on any violation.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out XmlFrame frame)
    {
        frame = default;
        while (true)
        {
            if (_kind == FrameKind.None)
            {
                if (_closePending)
                {
                    // <stream:stream .../> : an empty stream is opened and closed at once.
                    _closePending = false;
                    _state = StreamState.Closed;
                    frame = new XmlFrame(XmlFrameKind.StreamClose, null, null);
                    return true;
                }
                if (!BeginFrame(ref buffer, out var first)) return false;

                // Fast path: most stanzas lie whole in the first segment, so parse them in one pass; only an element
                // that is still incomplete there goes through the resumable first pass below.
                if (_kind == FrameKind.Element)
                {
                    if (first.Length >= 2 && XmlChars.IsNameStartByte(first[1]))
                    {
                        var limit = _options.MaxElementBytes;
                        var element = _parser.TryParseElement(first.Length > limit ? first[..limit] : first, out var parsed);
                        if (element is not null)
                        {
                            _kind = FrameKind.None;
                            frame = _options.Fragments ? ToFrame(element) : new XmlFrame(XmlFrameKind.Element, element, null);
                            buffer = buffer.Slice(parsed);
                            return true;
                        }
                        if (first.Length > limit) ThrowTooLarge();
                        // The first pass need not scan again what the parser accepted.
                        _scanned = _parser.ResumeAt;
                        _depth = _parser.ResumeDepth;
                        // More input, now or in the next read, most often completes it: the parse goes on there once.
                        _retryParse = true;
                        if (buffer.Length > first.Length && TryResumeParse(ref buffer, out frame)) return true;
                    }
                }
            }
            else if (_retryParse && _parser.IsSuspended && buffer.Length > buffer.FirstSpan.Length && TryResumeParse(ref buffer, out frame))
            {
                return true;
            }

            var length = Scan(buffer);
            if (length < 0) return false;
            var kind = _kind;
            _kind = FrameKind.None;
            _retryParse = false;
            var bytes = buffer.Slice(0, length);
            byte[]? rented = null;
            ReadOnlySpan<byte> span;
            if (bytes.IsSingleSegment)
            {
                span = bytes.FirstSpan;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent((int)length);
                bytes.CopyTo(rented);
                span = rented.AsSpan(0, (int)length);
            }
            try
            {
                switch (kind)
                {
                    case FrameKind.Declaration:
                        XmlElementParser.ParseDeclaration(span);
                        _declarationSeen = true;
                        buffer = buffer.Slice(length);
                        continue;
                    case FrameKind.Header:
                        var header = _parser.ParseStreamHeader(span, out _closePending, out _rootName);
                        _state = StreamState.Open;
                        frame = new XmlFrame(XmlFrameKind.StreamOpen, null, header);
                        break;
                    case FrameKind.Close:
                        XmlElementParser.ParseStreamClose(span, _rootName);
                        _state = StreamState.Closed;
                        frame = new XmlFrame(XmlFrameKind.StreamClose, null, null);
                        break;
                    default:
                        // The parse that found the element incomplete in the first segment goes on where it stopped.
                        frame = ToFrame(_parser.IsSuspended ? _parser.ResumeElement(span) : _parser.ParseElement(span));
                        break;
                }
            }
            finally
            {
                if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            }
            buffer = buffer.Slice(length);
            return true;
        }
    }

    // An element found incomplete in the first segment mostly ends in the next one (of this read or the next): the
    // suspended parse goes on over a copy of both, with no first pass. When it is still incomplete, the first pass takes over from where it stopped, so a peer that trickles bytes costs linear time,
    // and the parse goes on again once the first pass has found the element's end.
    private bool TryResumeParse(ref ReadOnlySequence<byte> buffer, out XmlFrame frame)
    {
        frame = default;
        _retryParse = false;
        var limit = _options.MaxElementBytes;
        var first = buffer.FirstSpan;
        byte[]? rented = null;
        try
        {
            // The rest of the element is most likely in the next segment: it is looked for in the next 512 bytes,
            // then in the whole next segment (at least 4 KiB), each time copied after the first.
            var rest = buffer.Slice(first.Length);
            var room = (int)Math.Min(rest.Length, limit - first.Length);
            var all = Math.Min(room, Math.Max(rest.FirstSpan.Length, 4096));
            var more = Math.Min(all, 512);
            if (more <= 0) return false;
            rented = ArrayPool<byte>.Shared.Rent(first.Length + all);
            first.CopyTo(rented);
            rest.Slice(0, more).CopyTo(rented.AsSpan(first.Length));
            var element = _parser.TryResumeElement(rented.AsSpan(0, first.Length + more), out var parsed);
            if (element is null && all > more)
            {
                rest.Slice(more, all - more).CopyTo(rented.AsSpan(first.Length + more));
                element = _parser.TryResumeElement(rented.AsSpan(0, first.Length + all), out parsed);
            }
            if (element is null)
            {
                if (_parser.ResumeAt > _scanned)
                {
                    // The parse got further than the first pass: it goes on from the construct the parse could not finish.
                    _scanned = _parser.ResumeAt;
                    _depth = _parser.ResumeDepth;
                    _scan = ScanState.Text;
                }
                return false;
            }
            _kind = FrameKind.None;
            frame = ToFrame(element);
            buffer = buffer.Slice(parsed);
            return true;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Looks at the start of the next frame at the top level; false when more input is needed. firstSpan is the
    // buffer's first segment from there (read once: on a multi-segment sequence each read walks to it).
    private bool BeginFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySpan<byte> firstSpan)
    {
        firstSpan = default;
        if (_state == StreamState.Start && !CheckEncoding(ref buffer)) return false;
        firstSpan = buffer.FirstSpan;
        if (firstSpan.IsEmpty || XmlChars.IsWhitespace(firstSpan[0]))
        {
            SkipWhitespace(ref buffer);
            firstSpan = buffer.FirstSpan;
        }
        if (buffer.IsEmpty) return false;
        if (_state == StreamState.Closed) XmlThrow.NotWellFormed("Data after the end of the stream");
        if (firstSpan[0] != '<')
        {
            // RFC 6120 §11.7: only white space may separate top-level elements.
            XmlThrow.NotWellFormed(_state == StreamState.BeforeHeader ? "Data before the stream header" : "Text at the top level of the stream");
        }
        if (firstSpan.Length >= 2 && firstSpan[1] != '?')
        {
            Begin(_state == StreamState.BeforeHeader ? FrameKind.Header : FrameKind.Element, ScanState.Text, 0);
            return true;
        }
        if (buffer.Length < 2) return false;
        Span<byte> head = stackalloc byte[6];
        var n = (int)Math.Min(6, buffer.Length);
        buffer.Slice(0, n).CopyTo(head);
        if (head[1] == '?')
        {
            // XML 1.0 §2.8: the declaration opens the document; in RFC 7395 each frame is a document.
            var allowed = _options.Fragments ? _state == StreamState.Open : _state == StreamState.BeforeHeader && !_declarationSeen;
            if (!head[..Math.Min(n, 5)].SequenceEqual("<?xml"u8[..Math.Min(n, 5)]) || (n == 6 && !XmlChars.IsWhitespace(head[5])) || !allowed)
                XmlThrow.RestrictedXml("Processing instructions are not allowed (RFC 6120 §11.1)");
            if (n < 6) return false;
            Begin(FrameKind.Declaration, ScanState.Declaration, 6);
            _last1 = _last2 = 0;
            return true;
        }
        Begin(_state == StreamState.BeforeHeader ? FrameKind.Header : FrameKind.Element, ScanState.Text, 0);
        return true;
    }

    private void Begin(FrameKind kind, ScanState scan, long scanned)
    {
        _kind = kind;
        _scan = scan;
        _scanned = scanned;
        _depth = 0;
    }

    // RFC 6120 §11.6: UTF-8 only. A UTF-8 byte order mark is skipped; UTF-16 and UTF-32 are refused.
    private bool CheckEncoding(ref ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsEmpty) return false;
        Span<byte> head = stackalloc byte[3];
        var n = (int)Math.Min(3, buffer.Length);
        buffer.Slice(0, n).CopyTo(head);
        if (head[0] is 0x00 or 0xFE or 0xFF || (n >= 2 && head[1] == 0x00))
            XmlThrow.UnsupportedEncoding("Only UTF-8 is supported (RFC 6120 §11.6)");
        if (head[0] == 0xEF)
        {
            if (n < 3 && (n < 2 || head[1] == 0xBB)) return false;
            if (head[1] == 0xBB && head[2] == 0xBF) buffer = buffer.Slice(3);
        }
        else if (n < 2)
        {
            return false;
        }
        _state = _options.Fragments ? StreamState.Open : StreamState.BeforeHeader;
        return true;
    }

    private static void SkipWhitespace(ref ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.AdvancePastAny(" \t\r\n"u8);
        buffer = buffer.Slice(reader.Position);
    }

    private XmlFrame ToFrame(Element element)
    {
        if (!_options.Fragments) return new XmlFrame(XmlFrameKind.Element, element, null);

        // RFC 7395 §3.3.2: <open/> and <close/> are qualified by the framing namespace.
        if (element.Namespace == Ns.Framing)
        {
            if (element.LocalName == "open")
            {
                _opened = true;
                var header = new StreamHeader(
                    element.GetAttribute("to"), element.GetAttribute("from"), element.GetAttribute("id"),
                    element.GetAttribute("version"), element.GetAttribute("lang", Ns.Xml), Ns.Client, Ns.Framing);
                return new XmlFrame(XmlFrameKind.StreamOpen, null, header);
            }
            if (element.LocalName == "close")
            {
                _state = StreamState.Closed;
                return new XmlFrame(XmlFrameKind.StreamClose, null, null);
            }
        }
        if (!_opened) XmlThrow.InvalidNamespace("The first frame must be <open/> in " + Ns.Framing + " (RFC 7395 §3.3.2)");
        // RFC 7395 §3.3.3: every frame carries its own namespace declarations.
        if (element.Namespace.Length == 0) XmlThrow.InvalidNamespace("A top-level element has no namespace");
        return new XmlFrame(XmlFrameKind.Element, element, null);
    }

    // First pass: returns the length of the pending frame once it is complete, or -1 after examining all input.
    private long Scan(in ReadOnlySequence<byte> buffer)
    {
        long limit = _kind == FrameKind.Element ? _options.MaxElementBytes : _options.MaxHeaderBytes;
        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(_scanned);
        while (true)
        {
            if (reader.Consumed > limit) ThrowTooLarge();
            var span = reader.UnreadSpan;
            if (span.IsEmpty)
            {
                _scanned = reader.Consumed;
                return -1;
            }
            switch (_scan)
            {
                case ScanState.Text:
                {
                    var i = span.IndexOf((byte)'<');
                    if (i < 0)
                    {
                        reader.Advance(span.Length);
                        continue;
                    }
                    reader.Advance(i + 1);
                    _scan = ScanState.Markup;
                    continue;
                }
                case ScanState.Markup:
                    if (ScanMarkup(ref reader)) continue;
                    _scanned = reader.Consumed;
                    return -1;
                case ScanState.StartTag:
                {
                    var i = span.IndexOfAny(XmlChars.TagSpecials);
                    if (i < 0)
                    {
                        reader.Advance(span.Length);
                        continue;
                    }
                    var b = span[i];
                    reader.Advance(i + 1);
                    if (b == '>')
                    {
                        if (EndOfStartTag(empty: false)) return Complete(reader.Consumed, limit);
                    }
                    else if (b == '/')
                    {
                        _scan = ScanState.StartTagSlash;
                    }
                    else
                    {
                        _quote = b;
                        _scan = ScanState.AttributeValue;
                    }
                    continue;
                }
                case ScanState.StartTagSlash:
                    if (span[0] != '>') XmlThrow.NotWellFormed("Expected '>' after '/'");
                    reader.Advance(1);
                    if (EndOfStartTag(empty: true)) return Complete(reader.Consumed, limit);
                    continue;
                case ScanState.AttributeValue:
                {
                    var i = span.IndexOf(_quote);
                    if (i < 0)
                    {
                        reader.Advance(span.Length);
                        continue;
                    }
                    reader.Advance(i + 1);
                    _scan = ScanState.StartTag;
                    continue;
                }
                case ScanState.EndTag:
                {
                    var i = span.IndexOf((byte)'>');
                    if (i < 0)
                    {
                        reader.Advance(span.Length);
                        continue;
                    }
                    reader.Advance(i + 1);
                    if (_kind == FrameKind.Close || --_depth == 0) return Complete(reader.Consumed, limit);
                    _scan = ScanState.Text;
                    continue;
                }
                default: // CData and Declaration: look for "]]>" or "?>", which may straddle segments and calls.
                {
                    var i = span.IndexOf((byte)'>');
                    if (i < 0)
                    {
                        if (span.Length >= 2)
                        {
                            _last2 = span[^2];
                            _last1 = span[^1];
                        }
                        else
                        {
                            _last2 = _last1;
                            _last1 = span[0];
                        }
                        reader.Advance(span.Length);
                        continue;
                    }
                    var p1 = i >= 1 ? span[i - 1] : _last1;
                    var p2 = i >= 2 ? span[i - 2] : i == 1 ? _last1 : _last2;
                    reader.Advance(i + 1);
                    _last2 = p1;
                    _last1 = (byte)'>';
                    if (_scan == ScanState.Declaration)
                    {
                        if (p1 == '?') return Complete(reader.Consumed, limit);
                    }
                    else if (p1 == ']' && p2 == ']')
                    {
                        _scan = ScanState.Text;
                    }
                    continue;
                }
            }
        }
    }

    // After '<': decides what kind of markup starts here. False when the deciding bytes have not arrived.
    private bool ScanMarkup(ref SequenceReader<byte> reader)
    {
        if (!reader.TryPeek(out var b)) return false;
        if (XmlChars.IsNameStartByte(b))
        {
            if (++_depth > _options.MaxDepth && _kind == FrameKind.Element) XmlThrow.PolicyViolation("Element nesting too deep");
            _scan = ScanState.StartTag; // the name holds no tag delimiter, so it is skipped with the attributes
            return true;
        }
        if (b == '/')
        {
            if (_depth == 0)
            {
                if (_kind != FrameKind.Element || _options.Fragments) XmlThrow.NotWellFormed("Unexpected end tag");
                _kind = FrameKind.Close;
            }
            reader.Advance(1);
            _scan = ScanState.EndTag;
            return true;
        }
        if (b == '?') XmlThrow.RestrictedXml("Processing instructions are not allowed (RFC 6120 §11.1)");
        if (b != '!') XmlThrow.NotWellFormed("Malformed markup");

        Span<byte> look = stackalloc byte[8];
        var n = (int)Math.Min(8, reader.Remaining);
        reader.TryCopyTo(look[..n]);
        if (n < 2) return false;
        if (look[1] == '-')
        {
            if (n < 3) return false;
            if (look[2] == '-') XmlThrow.RestrictedXml("Comments are not allowed (RFC 6120 §11.1)");
            XmlThrow.NotWellFormed("Malformed markup");
        }
        if (look[1] == '[')
        {
            if (!look[..n].SequenceEqual("![CDATA["u8[..n])) XmlThrow.NotWellFormed("Malformed CDATA section");
            if (n < 8) return false;
            if (_depth == 0) XmlThrow.NotWellFormed("Text at the top level of the stream");
            reader.Advance(8);
            _scan = ScanState.CData;
            _last1 = _last2 = 0;
            return true;
        }
        if ((uint)((look[1] | 0x20) - 'a') <= 'z' - 'a')
            XmlThrow.RestrictedXml("Document type declarations are not allowed (RFC 6120 §11.1)");
        XmlThrow.NotWellFormed("Malformed markup");
        return false;
    }

    private bool EndOfStartTag(bool empty)
    {
        if (_kind == FrameKind.Header) return true;
        if (empty) _depth--;
        if (_depth == 0) return true;
        _scan = ScanState.Text;
        return false;
    }

    private long Complete(long length, long limit)
    {
        if (length > limit) ThrowTooLarge();
        _scanned = 0;
        return length;
    }

    private void ThrowTooLarge() =>
        XmlThrow.PolicyViolation(_kind == FrameKind.Element ? "Element larger than " + _options.MaxElementBytes + " bytes" : "Stream header too large");
}
