using System.Buffers;

namespace Parley.Protocol;

/// <summary>Serializes elements and stream tags as UTF-8 straight into a buffer writer, with correct escaping.</summary>
public static class ElementWriter
{
    /// <summary>
    /// Writes a top-level element of a stream whose default namespace is <paramref name="streamNamespace"/>.
    /// Elements in <see cref="Ns.Client"/> at top level are written in the stream's namespace (no xmlns);
    /// elements in <see cref="Ns.Streams"/> use the 'stream:' prefix declared on the stream header.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, Element element, string streamNamespace) => throw new NotImplementedException();

    /// <summary>Writes an element as standalone XML: it declares its own namespace (used for RFC 7395 framing and tests).</summary>
    public static void WriteStandalone(IBufferWriter<byte> output, Element element) => throw new NotImplementedException();

    /// <summary>Writes the XML declaration and opening stream tag (RFC 6120 §4.7).</summary>
    public static void WriteStreamHeader(IBufferWriter<byte> output, StreamHeader header) => throw new NotImplementedException();

    /// <summary>Writes the closing stream tag.</summary>
    public static void WriteStreamClose(IBufferWriter<byte> output) => output.Write("</stream:stream>"u8);

    /// <summary>The element as standalone XML text.</summary>
    public static string ToXmlString(Element element) => throw new NotImplementedException();
}
