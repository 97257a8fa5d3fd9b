using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>Where a stanza came from, and where replies to it go.</summary>
public interface ISession
{
    /// <summary>The origin's address: a client's full JID, or a server or component domain.</summary>
    Jid Jid { get; }

    /// <summary>Queues a stanza for the origin; false when it cannot take it (gone or stuck).</summary>
    bool TryDeliver(Element stanza);
}

/// <summary>A bound client session.</summary>
public interface IClientSession : ISession
{
    /// <summary>The session's stream id (for logs and admin).</summary>
    string StreamId { get; }

    /// <summary>When the resource was bound.</summary>
    DateTimeOffset BoundAt { get; }

    /// <summary>Ends the session with a stream error.</summary>
    ValueTask CloseAsync(StreamError error, CancellationToken ct);
}
