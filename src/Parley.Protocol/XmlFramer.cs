using System.Buffers;

namespace Parley.Protocol;

/// <summary>
/// Incremental, non-blocking parser of an XMPP XML stream over UTF-8 bytes (RFC 6120 §4, §11).
/// It yields the stream header, then one complete top-level element at a time, then the stream close.
/// </summary>
public sealed class XmlFramer
{
    /// <summary>Creates a framer with the given limits.</summary>
    public XmlFramer(XmlFramerOptions? options = null) => throw new NotImplementedException();

    /// <summary>Forgets all stream state: the next input must be a new stream header (RFC 6120 §4.3.3 restart).</summary>
    public void Reset() => throw new NotImplementedException();

    /// <summary>
    /// Tries to read the next frame from <paramref name="buffer"/>. On success slices the consumed bytes off the front
    /// of <paramref name="buffer"/>. On false, <paramref name="buffer"/> is left at the first unconsumed byte and all of
    /// it has been examined. Throws <see cref="XmlStreamException"/> on any violation.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out XmlFrame frame) => throw new NotImplementedException();
}
