using System.Diagnostics.CodeAnalysis;

namespace Parley.Protocol;

/// <summary>Small throw helpers for the framer's hot paths (keeps the callers inlinable).</summary>
internal static class XmlThrow
{
    // RFC 6120 §11.3: data that is not (namespace-)well-formed.
    [DoesNotReturn]
    public static void NotWellFormed(string text) => throw new XmlStreamException(StreamError.NotWellFormed(text));

    // RFC 6120 §11.1: comments, processing instructions, DTDs, entity references other than the predefined ones.
    [DoesNotReturn]
    public static void RestrictedXml(string text) => throw new XmlStreamException(StreamError.RestrictedXml(text));

    [DoesNotReturn]
    public static void PolicyViolation(string text) => throw new XmlStreamException(StreamError.PolicyViolation(text));

    [DoesNotReturn]
    public static void InvalidNamespace(string text) => throw new XmlStreamException(StreamError.InvalidNamespace(text));

    [DoesNotReturn]
    public static void BadNamespacePrefix(string text) => throw new XmlStreamException(StreamError.BadNamespacePrefix(text));

    // RFC 6120 §11.6: only UTF-8.
    [DoesNotReturn]
    public static void UnsupportedEncoding(string text) => throw new XmlStreamException(StreamError.UnsupportedEncoding(text));
}
