using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Modules;

/// <summary>An IQ request as a handler sees it: the stanza, its decoded payload, and stamped addresses.</summary>
public sealed record IqRequest<T>(Stanza Stanza, T Payload, Jid From, Jid To, ISession? Origin);

/// <summary>What an IQ handler answers: a result (with or without payload) or an error.</summary>
public readonly struct IqReply
{
    private IqReply(Element? payload, StanzaError? error)
    {
        Payload = payload;
        Error = error;
    }

    /// <summary>The result payload, if any.</summary>
    public Element? Payload { get; }

    /// <summary>The error, if this reply is an error.</summary>
    public StanzaError? Error { get; }

    /// <summary>An empty result.</summary>
    public static IqReply Empty => default;

    /// <summary>A result carrying an element.</summary>
    public static IqReply Ok(Element payload) => new(payload, null);

    /// <summary>A result carrying a typed payload.</summary>
    public static IqReply Ok<T>(T payload) where T : IPayload<T> => new(payload.ToElement(), null);

    /// <summary>An error reply.</summary>
    public static IqReply Fail(StanzaError error) => new(null, error);

    /// <summary>Handlers may return a stanza error directly.</summary>
    public static implicit operator IqReply(StanzaError error) => new(null, error);
}
