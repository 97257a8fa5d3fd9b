using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>
/// The origin of stanzas the server sends on its own (auto-replies, presence on an account's behalf): errors
/// that come back for them are dropped, since nobody waits for them (RFC 6120 §8.3.1: never answer an error).
/// </summary>
public sealed class ServerOrigin(Addresses addresses) : ISession
{
    /// <inheritdoc />
    public Jid Jid => addresses.DomainJid;

    /// <inheritdoc />
    public bool TryDeliver(Element stanza) => true;
}
