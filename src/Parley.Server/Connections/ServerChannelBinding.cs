using System.Net.Security;
using System.Security.Authentication;
using Parley.Protocol.Sasl;

namespace Parley.Server.Connections;

/// <summary>
/// Channel bindings of one server-side TLS connection: tls-server-end-point always (RFC 5929 §4), and tls-unique
/// on TLS 1.2 (RFC 5929 §3; undefined for TLS 1.3, RFC 9266 §1). tls-exporter is not offered: .NET exposes no
/// TLS exporter on SslStream.
/// </summary>
internal sealed class ServerChannelBinding : IChannelBindingSource
{
    private readonly byte[] _serverEndPoint;
    private readonly byte[]? _unique;

    public ServerChannelBinding(byte[] serverEndPoint, SslStream ssl)
    {
        _serverEndPoint = serverEndPoint;
        if (ssl.SslProtocol == SslProtocols.Tls12) _unique = Parley.Protocol.TlsUnique.TryRead(ssl);
        Types = _unique is null ? [ChannelBinding.TlsServerEndPoint] : [ChannelBinding.TlsServerEndPoint, ChannelBinding.TlsUnique];
    }

    public IReadOnlyList<string> Types { get; }

    public byte[]? GetBindingData(string type) => type switch
    {
        ChannelBinding.TlsServerEndPoint => _serverEndPoint,
        ChannelBinding.TlsUnique => _unique,
        _ => null,
    };
}
