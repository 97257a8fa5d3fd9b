namespace Parley.Protocol;

/// <summary>Carries a <see cref="StanzaError"/> out of deep code (payload parsing, storage) to the IQ error policy.</summary>
public sealed class StanzaException : Exception
{
    /// <summary>Creates the exception for a stanza error.</summary>
    public StanzaException(StanzaError error) : base(error.ConditionName + (error.Text is null ? "" : ": " + error.Text)) => Error = error;

    /// <summary>The error to reply with.</summary>
    public StanzaError Error { get; }
}
