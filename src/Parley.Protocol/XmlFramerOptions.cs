namespace Parley.Protocol;

/// <summary>Limits and mode of an <see cref="XmlFramer"/>. Every limit is configurable with a safe default.</summary>
public sealed record XmlFramerOptions
{
    /// <summary>Largest top-level element in bytes, from its '&lt;' to its end (RFC 6120 §13.12: at least 10000). Default 256 KiB.</summary>
    public int MaxElementBytes { get; init; } = 256 * 1024;

    /// <summary>Deepest nesting of a top-level element (the element itself is depth 1). Default 64.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Most attributes (namespace declarations included) on one element. Default 64.</summary>
    public int MaxAttributes { get; init; } = 64;

    /// <summary>Largest opening stream tag in bytes. Default 4 KiB.</summary>
    public int MaxHeaderBytes { get; init; } = 4096;

    /// <summary>
    /// RFC 7395 framing: there is no stream root; every top-level element is complete on its own and carries
    /// its own namespace declarations; &lt;open/&gt; and &lt;close/&gt; (urn:ietf:params:xml:ns:xmpp-framing)
    /// are reported as StreamOpen and StreamClose.
    /// </summary>
    public bool Fragments { get; init; }
}
