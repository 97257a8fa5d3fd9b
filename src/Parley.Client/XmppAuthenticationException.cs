namespace Parley.Client;

/// <summary>The server refused authentication (RFC 6120 §6.5), or the server could not prove itself (SCRAM).</summary>
public sealed class XmppAuthenticationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public XmppAuthenticationException(string condition, string? text = null)
        : base($"Authentication failed: {condition}{(text is null ? "" : " (" + text + ")")}") => Condition = condition;

    /// <summary>The SASL failure condition, e.g. not-authorized.</summary>
    public string Condition { get; }
}

/// <summary>The stream failed during negotiation (a stream error, a refused bind, a policy the options forbid).</summary>
public sealed class XmppNegotiationException(string message) : Exception(message);
