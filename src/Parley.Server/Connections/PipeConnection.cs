using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Parley.Server.Connections;

/// <summary>
/// A connection made of two pipes, for streams whose bytes travel inside HTTP (WebSocket messages, BOSH bodies):
/// <see cref="XmppStream"/> reads and writes it as it would a socket.
/// </summary>
internal sealed class PipeConnection(HttpContext http, PipeReader input, PipeWriter output, Action abort) : ConnectionContext, IDuplexPipe
{
    private IDuplexPipe? _transport;

    public override string ConnectionId { get; set; } = http.Connection.Id;

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport
    {
        get => _transport ?? this;
        set => _transport = value;
    }

    public override EndPoint? RemoteEndPoint { get; set; } =
        http.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, http.Connection.RemotePort) : null;

    public PipeReader Input => input;

    public PipeWriter Output => output;

    public override void Abort(ConnectionAbortedException abortReason) => abort();
}
