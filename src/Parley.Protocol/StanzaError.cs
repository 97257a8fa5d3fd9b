namespace Parley.Protocol;

/// <summary>A stanza error (RFC 6120 §8.3): type, defined condition and optional text.</summary>
public sealed record StanzaError(StanzaErrorType Type, StanzaErrorCondition Condition, string? Text = null)
{
    /// <summary>Who generated the error (RFC 6120 §8.3.2 'by'), when known.</summary>
    public string? By { get; init; }

    /// <summary>An application-specific condition element, if any.</summary>
    public Element? ApplicationCondition { get; init; }

    /// <summary>§8.3.3.1, type modify.</summary>
    public static StanzaError BadRequest(string? text = null) => new(StanzaErrorType.Modify, StanzaErrorCondition.BadRequest, text);
    /// <summary>§8.3.3.2, type cancel.</summary>
    public static StanzaError Conflict(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.Conflict, text);
    /// <summary>§8.3.3.3, type cancel.</summary>
    public static StanzaError FeatureNotImplemented(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.FeatureNotImplemented, text);
    /// <summary>§8.3.3.4, type auth.</summary>
    public static StanzaError Forbidden(string? text = null) => new(StanzaErrorType.Auth, StanzaErrorCondition.Forbidden, text);
    /// <summary>§8.3.3.6, type cancel (type wait for transient storage failures).</summary>
    public static StanzaError InternalServerError(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.InternalServerError, text);
    /// <summary>§8.3.3.7, type cancel.</summary>
    public static StanzaError ItemNotFound(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.ItemNotFound, text);
    /// <summary>§8.3.3.8, type modify.</summary>
    public static StanzaError JidMalformed(string? text = null) => new(StanzaErrorType.Modify, StanzaErrorCondition.JidMalformed, text);
    /// <summary>§8.3.3.9, type modify.</summary>
    public static StanzaError NotAcceptable(string? text = null) => new(StanzaErrorType.Modify, StanzaErrorCondition.NotAcceptable, text);
    /// <summary>§8.3.3.10, type cancel.</summary>
    public static StanzaError NotAllowed(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.NotAllowed, text);
    /// <summary>§8.3.3.11, type auth.</summary>
    public static StanzaError NotAuthorized(string? text = null) => new(StanzaErrorType.Auth, StanzaErrorCondition.NotAuthorized, text);
    /// <summary>§8.3.3.12, type modify.</summary>
    public static StanzaError PolicyViolation(string? text = null) => new(StanzaErrorType.Modify, StanzaErrorCondition.PolicyViolation, text);
    /// <summary>§8.3.3.13, type wait.</summary>
    public static StanzaError RecipientUnavailable(string? text = null) => new(StanzaErrorType.Wait, StanzaErrorCondition.RecipientUnavailable, text);
    /// <summary>§8.3.3.16, type cancel.</summary>
    public static StanzaError RemoteServerNotFound(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.RemoteServerNotFound, text);
    /// <summary>§8.3.3.17, type wait.</summary>
    public static StanzaError RemoteServerTimeout(string? text = null) => new(StanzaErrorType.Wait, StanzaErrorCondition.RemoteServerTimeout, text);
    /// <summary>§8.3.3.18, type wait.</summary>
    public static StanzaError ResourceConstraint(string? text = null) => new(StanzaErrorType.Wait, StanzaErrorCondition.ResourceConstraint, text);
    /// <summary>§8.3.3.19, type cancel.</summary>
    public static StanzaError ServiceUnavailable { get; } = new(StanzaErrorType.Cancel, StanzaErrorCondition.ServiceUnavailable);
    /// <summary>§8.3.3.22, type wait.</summary>
    public static StanzaError UnexpectedRequest(string? text = null) => new(StanzaErrorType.Wait, StanzaErrorCondition.UnexpectedRequest, text);
    /// <summary>§8.3.3.21, type cancel.</summary>
    public static StanzaError UndefinedCondition(string? text = null) => new(StanzaErrorType.Cancel, StanzaErrorCondition.UndefinedCondition, text);

    /// <summary>The condition's element name, e.g. <c>service-unavailable</c>.</summary>
    public string ConditionName => ConditionNames.ToName(Condition);

    /// <summary>The &lt;error/&gt; child of an error stanza (in jabber:client).</summary>
    public Element ToElement()
    {
        var error = new Element("error", Ns.Client).SetAttribute("type", ConditionNames.ToName(Type));
        if (By is not null) error.SetAttribute("by", By);
        error.Add(new Element(ConditionName, Ns.Stanzas));
        if (Text is not null)
            error.Add(new Element("text", Ns.Stanzas).SetAttribute("lang", Ns.Xml, "en").AddText(Text));
        if (ApplicationCondition is not null) error.Add(ApplicationCondition);
        return error;
    }

    /// <summary>Reads the &lt;error/&gt; child of an error stanza; unknown parts become undefined-condition / cancel.</summary>
    public static StanzaError Parse(Element error)
    {
        if (!ConditionNames.TryParseType(error.GetAttribute("type"), out var type)) type = StanzaErrorType.Cancel;
        var condition = StanzaErrorCondition.UndefinedCondition;
        string? text = null;
        Element? app = null;
        foreach (var child in error.Children)
        {
            if (child.Namespace != Ns.Stanzas) { app ??= child; continue; }
            if (child.LocalName == "text") text = child.Text;
            else if (ConditionNames.TryParseStanza(child.LocalName, out var c)) condition = c;
        }
        return new StanzaError(type, condition, text) { By = error.GetAttribute("by"), ApplicationCondition = app };
    }
}
