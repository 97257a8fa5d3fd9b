using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Parley.Protocol;

namespace Parley.Server.Connections;

/// <summary>
/// One timer for all streams: closes idle and slow-to-negotiate ones, sends whitespace keepalives, and on
/// shutdown gives every stream &lt;system-shutdown/&gt; (RFC 6120 §4.9.3.20).
/// </summary>
public sealed class StreamHeartbeat : BackgroundService
{
    private readonly StreamRegistry streams;
    private readonly ResumableSessions resumable;
    private readonly Hooks.HookBus hooks;
    private readonly IOptions<ParleyOptions> options;
    private readonly TimeProvider time;

    /// <summary>Creates the heartbeat and arranges for every stream to hear of a shutdown before Kestrel stops.</summary>
    public StreamHeartbeat(StreamRegistry streams, ResumableSessions resumable, Hooks.HookBus hooks, IOptions<ParleyOptions> options, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        this.hooks = hooks;
        this.streams = streams;
        this.resumable = resumable;
        this.options = options;
        this.time = time;
        // ApplicationStopping fires before the server stops accepting and aborts connections.
        lifetime.ApplicationStopping.Register(() => CloseAllAsync().Wait(TimeSpan.FromSeconds(5)));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var l = options.Value.Limits;
        var period = TimeSpan.FromSeconds(Math.Clamp(Math.Min(l.KeepaliveSeconds, l.NegotiationTimeoutSeconds) / 4.0, 0.25, 5));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = time.GetTimestamp();
                foreach (var stream in streams.Snapshot())
                    await stream.TickAsync(now).ConfigureAwait(false);
                await resumable.ExpireAsync(now).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await CloseAllAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
    }

    private int _stopping;

    private async Task CloseAllAsync()
    {
        // Services say goodbye while the streams can still carry it (chat rooms: status 332).
        if (Interlocked.Exchange(ref _stopping, 1) == 0)
            await hooks.RunAsync(new Hooks.ServerStopping(), CancellationToken.None).ConfigureAwait(false);
        var closing = new List<Task>();
        foreach (var stream in streams.Snapshot())
            closing.Add(stream.CloseAsync(StreamError.SystemShutdown("The server is shutting down"), CancellationToken.None).AsTask());
        await Task.WhenAll(closing).ConfigureAwait(false);
        // XEP-0198: sessions waiting to be resumed end too, and what they hold goes to offline storage.
        await resumable.EndDetachedAsync().ConfigureAwait(false);
    }
}
