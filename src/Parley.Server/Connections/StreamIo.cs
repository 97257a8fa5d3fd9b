using System.Buffers;
using System.IO.Pipelines;
using System.Security.Authentication;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Parley.Protocol;

namespace Parley.Server.Connections;

/// <summary>
/// What every XML stream on a connection does the same way, whatever its kind (client, component): the single error
/// boundary, the writer loop that drains the bounded queue, the close sequence and the transport's teardown.
/// </summary>
internal static class StreamIo
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    /// <summary>A framer enforcing the configured stanza size and depth (RFC 6120 §13.12); fragments for RFC 7395.</summary>
    public static XmlFramer Framer(LimitOptions limits, bool fragments = false) => new(new XmlFramerOptions
    {
        MaxElementBytes = limits.MaxStanzaBytes,
        MaxDepth = limits.MaxDepth,
        Fragments = fragments,
    });

    /// <summary>
    /// The queue of what goes out to a peer, bounded by Limits:OutboundQueueStanzas: a peer that cannot keep up is
    /// disconnected, never buffered without bound.
    /// </summary>
    public static Channel<Element> Outbox(LimitOptions limits) => Channel.CreateBounded<Element>(new BoundedChannelOptions(limits.OutboundQueueStanzas)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Exceptions that mean the peer vanished or the stream was closed: nothing more can be said to it.</summary>
    public static bool IsDisconnect(Exception e) =>
        e is OperationCanceledException or IOException or ConnectionResetException or AuthenticationException
            or ObjectDisposedException or ConnectionAbortedException;

    // Exceptions of writing to a connection that is going away.
    private static bool IsWriteFailure(Exception e) =>
        e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException
            or InvalidOperationException or TimeoutException;

    /// <summary>
    /// The connection's error boundary: a stream error closes the stream with it, a vanished peer is only noted, anything
    /// else is internal-server-error; the teardown always runs. Never throws.
    /// </summary>
    public static async Task RunAsync(Func<Task> body, Func<StreamError, ValueTask> close, Action<string> dropped, Action<Exception> failed, Func<Task> teardown)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (XmlStreamException e)
        {
            await close(e.Error).ConfigureAwait(false);
        }
        catch (Exception e) when (IsDisconnect(e))
        {
            dropped(e.GetType().Name);
        }
        catch (Exception e)
        {
            failed(e);
            await close(StreamError.InternalServerError()).ConfigureAwait(false);
        }
        finally
        {
            await teardown().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drains the queue into the output under the write lock, flushing once per batch rather than once per element;
    /// <paramref name="afterBatch"/> may add to a batch before its flush. A failed write aborts the connection.
    /// </summary>
    public static async Task DrainAsync(ChannelReader<Element> reader, SemaphoreSlim writeLock, Func<PipeWriter> output,
        Action<IBufferWriter<byte>, Element> write, Action<IBufferWriter<byte>>? afterBatch, Action flushed, CancellationTokenSource aborted)
    {
        var ct = aborted.Token;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                await writeLock.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    var o = output();
                    var n = 0;
                    while (n < 256 && reader.TryRead(out var element))
                    {
                        write(o, element);
                        n++;
                    }
                    afterBatch?.Invoke(o);
                    await o.FlushAsync(ct).ConfigureAwait(false);
                    flushed();
                }
                finally
                {
                    writeLock.Release();
                }
            }
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            aborted.Cancel();
        }
    }

    /// <summary>
    /// RFC 6120 §4.4: lets the queue drain (bounded), then writes the last words (an optional error and the closing tag)
    /// and flushes them; a peer that is gone is not waited for. The connection is aborted afterwards.
    /// </summary>
    public static async ValueTask CloseAsync(ChannelWriter<Element>? outbox, Task? writerLoop, SemaphoreSlim writeLock, PipeWriter output,
        Action<IBufferWriter<byte>> lastWords, CancellationTokenSource aborted)
    {
        try
        {
            if (outbox is not null)
            {
                outbox.TryComplete();
                if (writerLoop is not null) await writerLoop.WaitAsync(CloseWait, CancellationToken.None).ConfigureAwait(false);
            }
            if (!await writeLock.WaitAsync(CloseWait, CancellationToken.None).ConfigureAwait(false)) return;
            try
            {
                lastWords(output);
                using var timeout = new CancellationTokenSource(CloseWait);
                await output.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            // The peer is gone; nothing more to say.
        }
        finally
        {
            aborted.Cancel();
        }
    }

    /// <summary>Completes the transport (and disposes the TLS layer over it, if any); it may already be torn down.</summary>
    public static async Task CompleteTransportAsync(ConnectionContext connection, IAsyncDisposable? tls)
    {
        try
        {
            if (tls is not null) await tls.DisposeAsync().ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            await connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Already torn down.
        }
    }
}
