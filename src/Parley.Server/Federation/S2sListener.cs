using Microsoft.AspNetCore.Connections;

namespace Parley.Server.Federation;

/// <summary>Incoming server-to-server connections (RFC 6120 §4, port 5269 by default), starting in plaintext.</summary>
public sealed class S2sListener(S2sPool pool) : ConnectionHandler
{
    /// <inheritdoc />
    public override Task OnConnectedAsync(ConnectionContext connection) => new IncomingS2s(pool, connection, directTls: false).RunAsync();
}

/// <summary>Incoming server-to-server connections with TLS from the first byte (XEP-0368, S2s:DirectTlsPort).</summary>
public sealed class DirectTlsS2sListener(S2sPool pool) : ConnectionHandler
{
    /// <inheritdoc />
    public override Task OnConnectedAsync(ConnectionContext connection) => new IncomingS2s(pool, connection, directTls: true).RunAsync();
}
