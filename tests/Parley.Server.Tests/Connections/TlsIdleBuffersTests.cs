using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Parley.Server.Connections;

namespace Parley.Server.Tests.Connections;

/// <summary>
/// SSL_MODE_RELEASE_BUFFERS set on a live connection: it must take (OpenSSL reports the mode back) and the
/// connection must go on carrying records both ways after its buffers were freed while idle.
/// </summary>
public sealed class TlsIdleBuffersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Release_buffers_mode_is_set_on_linux_and_the_connection_keeps_working()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(TlsIdleBuffers.Available);
            return;
        }
        var (cert, key) = (Path.Combine(_dir, "t.crt"), Path.Combine(_dir, "t.key"));
        TlsCertificateProvider.Generate("tls.test", cert, key).Dispose();
        using var leaf = TlsCertificateProvider.LoadPem(cert, key).Leaf;

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        var connect = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        await connect;
        await using var serverTls = new SslStream(accepted.GetStream());
        // The client pins the certificate it was given rather than trusting any.
        await using var clientTls = new SslStream(client.GetStream(), false, (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == leaf.GetCertHashString());
        await Task.WhenAll(
            serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = leaf }),
            clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "tls.test" }));

        Assert.True(TlsIdleBuffers.Available);
        Assert.True(TlsIdleBuffers.Apply(serverTls));

        // Several rounds, each after the buffers have drained, in both directions and across record sizes.
        var buffer = new byte[40_000];
        foreach (var size in new[] { 1, 300, 16_384, 40_000 })
        {
            var payload = new byte[size];
            Random.Shared.NextBytes(payload);
            await clientTls.WriteAsync(payload);
            await serverTls.ReadExactlyAsync(buffer.AsMemory(0, size));
            Assert.True(payload.AsSpan().SequenceEqual(buffer.AsSpan(0, size)));
            await serverTls.WriteAsync(payload);
            await clientTls.ReadExactlyAsync(buffer.AsMemory(0, size));
            Assert.True(payload.AsSpan().SequenceEqual(buffer.AsSpan(0, size)));
        }
    }

    [Fact]
    public async Task A_stream_that_never_shook_hands_is_left_alone()
    {
        await using var inner = new MemoryStream();
        await using var ssl = new SslStream(inner);
        Assert.False(TlsIdleBuffers.Apply(ssl));
    }
}
