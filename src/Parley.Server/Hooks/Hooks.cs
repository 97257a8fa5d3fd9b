using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Hooks;

/// <summary>Marks a hook record. Every hook is declared in this file.</summary>
public interface IHook;

/// <summary>A client session bound a resource and can receive stanzas.</summary>
public sealed record SessionBound(IClientSession Session) : IHook;

/// <summary>A bound client session ended (cleanly or not).</summary>
public sealed record SessionClosed(IClientSession Session, StreamError? Error) : IHook;

/// <summary>The server is shutting down; the streams are still open (they get &lt;system-shutdown/&gt; next).</summary>
public sealed record ServerStopping : IHook;

/// <summary>An account was created.</summary>
public sealed record AccountCreated(Jid Account) : IHook;

/// <summary>An account's password was changed; credentials derived from the old one are revoked.</summary>
public sealed record PasswordChanged(Jid Account) : IHook;

/// <summary>An account was deleted; modules delete what they keep for it.</summary>
public sealed record AccountDeleted(Jid Account) : IHook;

/// <summary>
/// A stanza is about to be routed. A handler may <see cref="Drop"/> it (blocking, privacy) after answering
/// as the rules for that stanza require.
/// </summary>
public sealed record Routing(Stanza Stanza, ISession Origin) : IHook
{
    /// <summary>Whether a handler dropped the stanza.</summary>
    public bool Dropped { get; private set; }

    /// <summary>Stops the stanza from being routed.</summary>
    public void Drop() => Dropped = true;
}

/// <summary>
/// A message for a local account was handed to these of its sessions (RFC 6121 §8.5): message carbons
/// (XEP-0280) copy it to the account's other sessions.
/// </summary>
public sealed record MessageDelivered(Stanza Stanza, Jid Account, IReadOnlyList<IClientSession> Recipients) : IHook;

/// <summary>XEP-0049: an account stored a private XML element (XEP-0402 §5.3 bookmark unification listens).</summary>
public sealed record PrivateXmlStored(Jid Account, Element Item) : IHook;

/// <summary>
/// XEP-0049: an account reads a private XML element; a handler may answer it instead of the stored copy
/// (XEP-0402 §5.3: bookmarks kept in PEP are shown as storage:bookmarks).
/// </summary>
public sealed record PrivateXmlRead(Jid Account, Element Wanted, Element? Stored) : IHook
{
    /// <summary>The element to answer with, when a handler provides it.</summary>
    public Element? Result { get; set; }
}

/// <summary>XEP-0386 Bind2: the client asked to have a feature (by namespace, e.g. carbons) enabled as it bound.</summary>
public sealed record InlineEnable(IClientSession Session, string Feature) : IHook;

/// <summary>A session sent its initial available presence (RFC 6121 §4.2): offline messages are delivered now.</summary>
public sealed record InitialPresence(IClientSession Session) : IHook;

/// <summary>
/// A message for a local account found no available resource (RFC 6121 §8.5.2.2). A handler that stores it sets
/// <see cref="Stored"/>; one that refuses it (a full quota) sets <see cref="Refusal"/>. Otherwise it is bounced.
/// </summary>
public sealed record OfflineMessage(Stanza Stanza, Jid Account) : IHook
{
    /// <summary>Whether a handler stored the message.</summary>
    public bool Stored { get; set; }

    /// <summary>The error to answer with when the message was refused.</summary>
    public StanzaError? Refusal { get; set; }
}

/// <summary>
/// A session's broadcast presence changed (RFC 6121 §4.2, §4.4, §4.5): its contacts hear of it; on initial
/// presence they are probed; on unavailable, directed-presence recipients hear too.
/// </summary>
public sealed record PresenceBroadcast(IClientSession Session, Element Presence, bool Initial) : IHook;
