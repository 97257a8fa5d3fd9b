using System.Buffers;
using System.Text;
using Parley.Protocol;

namespace Parley.Server.Storage;

/// <summary>How stored elements are written and read back: standalone XML parsed by the stream framer.</summary>
internal static class ElementCodec
{
    private static readonly XmlFramerOptions Options = new() { Fragments = true, MaxElementBytes = 16 * 1024 * 1024 };

    public static string Encode(Element element) => ElementWriter.ToXmlString(element);

    // RFC 7395 framing: an <open/> first, then the element with its own namespace declarations.
    private const string Open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' version='1.0'/>";

    public static Element Decode(string xml)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(Open + xml));
        var framer = new XmlFramer(Options);
        return framer.TryRead(ref buffer, out _) && framer.TryRead(ref buffer, out var frame) && frame.Kind == XmlFrameKind.Element
            ? frame.Element!
            : throw new InvalidDataException("A stored element could not be read back");
    }
}
