using Microsoft.AspNetCore.Connections;

namespace Parley.Server.Connections;

/// <summary>Client connections that start in plaintext and upgrade with STARTTLS (RFC 6120 §5).</summary>
public sealed class C2sListener(C2sServices services) : ConnectionHandler
{
    /// <inheritdoc />
    public override Task OnConnectedAsync(ConnectionContext connection) =>
        new XmppStream(connection, services, directTls: false).RunAsync();
}

/// <summary>Client connections with TLS from the first byte (XEP-0368).</summary>
public sealed class DirectTlsC2sListener(C2sServices services) : ConnectionHandler
{
    /// <inheritdoc />
    public override Task OnConnectedAsync(ConnectionContext connection) =>
        new XmppStream(connection, services, directTls: true).RunAsync();
}
