namespace Parley.Protocol;

/// <summary>
/// A typed payload that knows its element name and how to read and write itself, so that dispatch needs no
/// attributes and no reflection.
/// </summary>
public interface IPayload<TSelf> where TSelf : IPayload<TSelf>
{
    /// <summary>The payload element's expanded name.</summary>
    static abstract QName Name { get; }

    /// <summary>Reads the payload; throws <see cref="StanzaException"/> (bad-request) when malformed.</summary>
    static abstract TSelf Parse(Element element);

    /// <summary>Writes the payload.</summary>
    Element ToElement();
}
