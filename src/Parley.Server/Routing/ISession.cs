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

    /// <summary>The session's own presence (RFC 6121 §4): available or not, and its priority.</summary>
    SessionPresence Presence { get; }

    /// <summary>Ends the session with a stream error.</summary>
    ValueTask CloseAsync(StreamError error, CancellationToken ct);
}

/// <summary>
/// A session's broadcast presence (RFC 6121 §4.2, §4.4): a session is available from its initial presence until
/// it sends unavailable presence or goes away. Written only by its own stream's stanzas.
/// </summary>
public sealed class SessionPresence
{
    /// <summary>Whether the session has sent available presence.</summary>
    public bool IsAvailable { get; internal set; }

    /// <summary>RFC 6121 §4.7.2.3: -128..127, default 0.</summary>
    public int Priority { get; internal set; }

    /// <summary>The last broadcast presence, for probes.</summary>
    public Element? Last { get; internal set; }

    /// <summary>RFC 6121 §4.6: who received directed available presence, to hear of unavailability.</summary>
    public HashSet<Jid> Directed { get; } = [];
}
