using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Server.Connections;

/// <summary>
/// RFC 7395 XMPP over WebSocket at <c>/xmpp-websocket</c> on the HTTPS listener. The connection runs the same
/// <see cref="XmppStream"/> as TCP, in framing mode: each WebSocket text message in is one XML element (fed to the
/// stream's framer), and each element the stream writes goes out as one message.
/// </summary>
public static class WebSocketEndpoint
{
    /// <summary>The path of the endpoint.</summary>
    public const string Path = "/xmpp-websocket";

    /// <summary>Maps the endpoint.</summary>
    public static void Map(WebApplication app, WebSocketOptions options)
    {
        app.UseWebSockets(new Microsoft.AspNetCore.Builder.WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(options.PingSeconds) });
        app.Map(Path, (HttpContext http) => HandleAsync(http, options));
    }

    private static async Task HandleAsync(HttpContext http, WebSocketOptions options)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("XMPP over WebSocket (RFC 7395): open a WebSocket with the 'xmpp' subprotocol\n").ConfigureAwait(false);
            return;
        }
        // §3.1: the client asks for the 'xmpp' subprotocol; without it there is no agreement on what follows.
        if (!http.WebSockets.WebSocketRequestedProtocols.Contains("xmpp"))
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("The 'xmpp' WebSocket subprotocol is required (RFC 7395 §3.1)\n").ConfigureAwait(false);
            return;
        }
        // Browsers say where the page came from; a configured list keeps other sites' pages out.
        if (!Origins.Allowed(options.AllowedOrigins, http.Request.Headers.Origin.ToString()))
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync("xmpp").ConfigureAwait(false);
        var input = new Pipe();
        var output = new Pipe();
        var connection = new PipeConnection(http, input.Reader, output.Writer, http.Abort);
        var stream = new XmppStream(connection, http.RequestServices.GetRequiredService<C2sServices>(), directTls: false, framing: true);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var receiving = ReceiveAsync(socket, input.Writer, stop.Token);
        var sending = SendAsync(socket, output.Reader, stop.Token);
        await stream.RunAsync().ConfigureAwait(false);
        await sending.ConfigureAwait(false);
        // The close handshake: our close frame went out with the end of the output; the client answers with its own.
        try
        {
            await receiving.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await receiving.ConfigureAwait(false);
        }
    }

    // Messages in → the stream's input pipe. Flushed as they arrive, so the framer's size limit applies to a message
    // that never ends, not just to whole ones.
    private static async Task ReceiveAsync(WebSocket socket, PipeWriter input, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var memory = input.GetMemory(4096);
                var result = await socket.ReceiveAsync(memory, ct).ConfigureAwait(false);
                // §3.3: XMPP travels in text messages only; anything else ends the connection.
                if (result.MessageType != WebSocketMessageType.Text) break;
                input.Advance(result.Count);
                var flushed = await input.FlushAsync(ct).ConfigureAwait(false);
                if (flushed.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // The peer or the stream went away.
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    // The stream's output → one text message per element (the stream ends each with a NUL in framing mode).
    private static async Task SendAsync(WebSocket socket, PipeReader output, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var read = await output.ReadAsync(ct).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (buffer.PositionOf((byte)0) is { } end)
                {
                    var message = buffer.Slice(0, end);
                    if (message.IsSingleSegment)
                    {
                        await socket.SendAsync(message.First, WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
                    }
                    else
                    {
                        foreach (var segment in message)
                            await socket.SendAsync(segment, WebSocketMessageType.Text, false, ct).ConfigureAwait(false);
                        await socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
                    }
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }
                output.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted) break;
            }
            if (socket.State == WebSocketState.Open)
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // The peer went away.
        }
        finally
        {
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }
}
