using Parley.Protocol;

namespace Parley.Client;

/// <summary>An IQ request was answered with an error (RFC 6120 §8.3); <see cref="Error"/> holds its condition.</summary>
public sealed class XmppErrorException : Exception
{
    /// <summary>Creates the exception for a stanza error.</summary>
    public XmppErrorException(StanzaError error)
        : base("The request failed: " + error.ConditionName + (error.Text is null ? "" : " (" + error.Text + ")")) => Error = error;

    /// <summary>The error the entity replied with.</summary>
    public StanzaError Error { get; }

    /// <summary>The condition's element name, e.g. "item-not-found".</summary>
    public string Condition => Error.ConditionName;
}
