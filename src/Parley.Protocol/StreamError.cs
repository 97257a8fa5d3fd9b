namespace Parley.Protocol;

/// <summary>A stream error (RFC 6120 §4.9): always fatal to the stream.</summary>
public sealed record StreamError(StreamErrorCondition Condition, string? Text = null)
{
    /// <summary>RFC 6120 §4.9.3.1</summary>
    public static StreamError BadFormat(string? text = null) => new(StreamErrorCondition.BadFormat, text);
    /// <summary>RFC 6120 §4.9.3.3</summary>
    public static StreamError Conflict(string? text = null) => new(StreamErrorCondition.Conflict, text);
    /// <summary>RFC 6120 §4.9.3.4</summary>
    public static StreamError ConnectionTimeout(string? text = null) => new(StreamErrorCondition.ConnectionTimeout, text);
    /// <summary>RFC 6120 §4.9.3.6</summary>
    public static StreamError HostUnknown(string? text = null) => new(StreamErrorCondition.HostUnknown, text);
    /// <summary>RFC 6120 §4.9.3.7</summary>
    public static StreamError ImproperAddressing(string? text = null) => new(StreamErrorCondition.ImproperAddressing, text);
    /// <summary>RFC 6120 §4.9.3.8</summary>
    public static StreamError InternalServerError(string? text = null) => new(StreamErrorCondition.InternalServerError, text);
    /// <summary>RFC 6120 §4.9.3.9</summary>
    public static StreamError InvalidFrom(string? text = null) => new(StreamErrorCondition.InvalidFrom, text);
    /// <summary>RFC 6120 §4.9.3.10</summary>
    public static StreamError InvalidNamespace(string? text = null) => new(StreamErrorCondition.InvalidNamespace, text);
    /// <summary>RFC 6120 §4.9.3.12</summary>
    public static StreamError NotAuthorized(string? text = null) => new(StreamErrorCondition.NotAuthorized, text);
    /// <summary>RFC 6120 §4.9.3.13</summary>
    public static StreamError NotWellFormed(string? text = null) => new(StreamErrorCondition.NotWellFormed, text);
    /// <summary>RFC 6120 §4.9.3.14</summary>
    public static StreamError PolicyViolation(string? text = null) => new(StreamErrorCondition.PolicyViolation, text);
    /// <summary>RFC 6120 §4.9.3.17</summary>
    public static StreamError ResourceConstraint(string? text = null) => new(StreamErrorCondition.ResourceConstraint, text);
    /// <summary>RFC 6120 §4.9.3.18</summary>
    public static StreamError RestrictedXml(string? text = null) => new(StreamErrorCondition.RestrictedXml, text);
    /// <summary>RFC 6120 §4.9.3.20</summary>
    public static StreamError SystemShutdown(string? text = null) => new(StreamErrorCondition.SystemShutdown, text);
    /// <summary>RFC 6120 §4.9.3.22</summary>
    public static StreamError UnsupportedEncoding(string? text = null) => new(StreamErrorCondition.UnsupportedEncoding, text);
    /// <summary>RFC 6120 §4.9.3.23</summary>
    public static StreamError UnsupportedFeature(string? text = null) => new(StreamErrorCondition.UnsupportedFeature, text);
    /// <summary>RFC 6120 §4.9.3.24</summary>
    public static StreamError UnsupportedStanzaType(string? text = null) => new(StreamErrorCondition.UnsupportedStanzaType, text);
    /// <summary>RFC 6120 §4.9.3.25</summary>
    public static StreamError UnsupportedVersion(string? text = null) => new(StreamErrorCondition.UnsupportedVersion, text);
    /// <summary>RFC 6120 §4.9.3.2</summary>
    public static StreamError BadNamespacePrefix(string? text = null) => new(StreamErrorCondition.BadNamespacePrefix, text);
    /// <summary>RFC 6120 §4.9.3.11</summary>
    public static StreamError InvalidXml(string? text = null) => new(StreamErrorCondition.InvalidXml, text);
    /// <summary>RFC 6120 §4.9.3.21</summary>
    public static StreamError UndefinedCondition(string? text = null) => new(StreamErrorCondition.UndefinedCondition, text);

    /// <summary>An application-specific condition (RFC 6120 §4.9.4), e.g. XEP-0198's &lt;handled-count-too-high/&gt;.</summary>
    public Element? ApplicationCondition { get; init; }

    /// <summary>The condition's element name, e.g. <c>not-well-formed</c>.</summary>
    public string ConditionName => ConditionNames.ToName(Condition);

    /// <summary>The &lt;stream:error/&gt; element.</summary>
    public Element ToElement()
    {
        var error = new Element("error", Ns.Streams);
        error.Add(new Element(ConditionName, Ns.StreamErrors));
        if (Text is not null)
            error.Add(new Element("text", Ns.StreamErrors).SetAttribute("lang", Ns.Xml, "en").AddText(Text));
        if (ApplicationCondition is not null) error.Add(ApplicationCondition.Clone());
        return error;
    }

    /// <summary>Reads a &lt;stream:error/&gt; element.</summary>
    public static StreamError Parse(Element error)
    {
        var condition = StreamErrorCondition.UndefinedCondition;
        string? text = null;
        foreach (var child in error.Children)
        {
            if (child.Namespace != Ns.StreamErrors) continue;
            if (child.LocalName == "text") text = child.Text;
            else if (ConditionNames.TryParseStream(child.LocalName, out var c)) condition = c;
        }
        return new StreamError(condition, text);
    }
}
