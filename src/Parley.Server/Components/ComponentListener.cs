using Microsoft.AspNetCore.Connections;

namespace Parley.Server.Components;

/// <summary>External component connections (XEP-0114, jabber:component:accept).</summary>
public sealed class ComponentListener(ComponentServices services) : ConnectionHandler
{
    /// <inheritdoc />
    public override Task OnConnectedAsync(ConnectionContext connection) => new ComponentStream(connection, services).RunAsync();
}
