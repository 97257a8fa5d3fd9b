using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Federation;

/// <summary>
/// The origin of stanzas that arrived from another server: replies and errors for them go back over federation,
/// from whichever local domain they are addressed from.
/// </summary>
internal sealed class RemoteServer(S2sPool pool, Jid domain, ISession server) : ISession
{
    /// <inheritdoc />
    public Jid Jid => domain;

    /// <inheritdoc />
    public bool TryDeliver(Element stanza)
    {
        if (!Stanza.TryCreate(stanza, out var s, out _) || s.To is null) return false;
        return pool.TryEnqueue(s, server);
    }
}
