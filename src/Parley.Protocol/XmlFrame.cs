namespace Parley.Protocol;

/// <summary>What the framer produced.</summary>
public enum XmlFrameKind
{
    /// <summary>An opening stream tag (or an RFC 7395 &lt;open/&gt; in fragment mode).</summary>
    StreamOpen,
    /// <summary>One complete top-level element: a stanza or a nonza.</summary>
    Element,
    /// <summary>The closing stream tag (or an RFC 7395 &lt;close/&gt; in fragment mode).</summary>
    StreamClose,
}

/// <summary>One unit of a parsed XML stream.</summary>
public readonly record struct XmlFrame(XmlFrameKind Kind, Element? Element, StreamHeader? Header);
