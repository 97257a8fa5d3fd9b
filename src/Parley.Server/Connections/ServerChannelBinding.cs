using System.Net.Security;
using Parley.Protocol.Sasl;

namespace Parley.Server.Connections;

/// <summary>
/// Channel bindings of one server-side TLS connection: tls-server-end-point always (RFC 5929 §4), and tls-unique
/// (RFC 5929 §3; on TLS 1.3 as a COMPAT, see <see cref="Parley.Protocol.TlsUnique"/>). tls-exporter is not
/// offered: .NET exposes no TLS exporter on SslStream.
/// </summary>
internal sealed class ServerChannelBinding : IChannelBindingSource
{
    private readonly byte[] _serverEndPoint;
    private readonly byte[]? _unique;

    public ServerChannelBinding(byte[] serverEndPoint, SslStream ssl)
    {
        _serverEndPoint = serverEndPoint;
        _unique = Parley.Protocol.TlsUnique.TryRead(ssl);
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
