using System.Net;
using System.Net.Sockets;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>Loopback addresses and ports for servers that peers must find at a fixed port (such as 5269 for s2s).</summary>
public static class Loopback
{
    /// <summary>A random 127.x.y.z address whose <paramref name="port"/> is free now.</summary>
    public static IPAddress AddressWithFreePort(int port)
    {
        for (var i = 0; i < 50; i++)
        {
            var address = new IPAddress([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(2, 255)]);
            try
            {
                using var probe = new TcpListener(address, port);
                probe.Start();
                return address;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException($"No loopback address with a free port {port}");
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on (connections are refused).</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
