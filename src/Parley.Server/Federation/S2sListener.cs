using Microsoft.AspNetCore.Connections;

namespace Parley.Server.Federation;

/// <summary>Incoming server-to-server connections (RFC 6120 §4, port 5269 by default), starting in plaintext.</summary>
public sealed class S2sListener(S2sPool pool) : ConnectionHandler
{
    /// <inheritdoc />
    public override Task OnConnectedAsync(ConnectionContext connection) => new IncomingS2s(pool, connection).RunAsync();
}
