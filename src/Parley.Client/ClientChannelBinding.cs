using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Client;

/// <summary>Channel bindings of the client's TLS connection.</summary>
internal sealed class ClientChannelBinding : IChannelBindingSource
{
    private readonly byte[]? _endPoint;
    private readonly byte[]? _unique;

    public ClientChannelBinding(SslStream ssl)
    {
        if (ssl.RemoteCertificate is { } remote)
        {
            using var certificate = new X509Certificate2(remote);
            _endPoint = ChannelBinding.ComputeTlsServerEndPoint(certificate);
        }
        _unique = TlsUnique.TryRead(ssl);
        var types = new List<string>(2);
        if (_unique is not null) types.Add(ChannelBinding.TlsUnique);
        if (_endPoint is not null) types.Add(ChannelBinding.TlsServerEndPoint);
        Types = types;
    }

    public IReadOnlyList<string> Types { get; }

    public byte[]? GetBindingData(string type) => type switch
    {
        ChannelBinding.TlsServerEndPoint => _endPoint,
        ChannelBinding.TlsUnique => _unique,
        _ => null,
    };
}
