namespace Parley.Protocol;

/// <summary>Raised by the framer (and stream code) for a violation that ends the stream with <see cref="Error"/>.</summary>
public sealed class XmlStreamException : Exception
{
    /// <summary>Creates the exception for a stream error.</summary>
    public XmlStreamException(StreamError error) : base(error.ConditionName + (error.Text is null ? "" : ": " + error.Text)) => Error = error;

    /// <summary>The stream error to send before closing.</summary>
    public StreamError Error { get; }
}
