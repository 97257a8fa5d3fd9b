using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Federation;

/// <summary>
/// The pool's entry for one (local domain, remote domain) pair (XEP-0220 §2.1): the bounded queue of stanzas waiting
/// for the remote domain, the dialback verifications asked of it, and the lifecycle of its one stream: resolve
/// (static route, then SRV per RFC 6120 §3.2.1 and XEP-0368, then the domain itself on 5269), connect, negotiate, and
/// carry stanzas until idle. When it fails, every stanza still queued is bounced to its sender, never dropped:
/// remote-server-timeout when it took too long, remote-server-not-found otherwise (RFC 6120 §8.3.3.16, §8.3.3.17).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The token source has no timer or wait handle; it is cancelled when the connection ends.")]
internal sealed class OutgoingConnection
{
    private readonly S2sPool _pool;
    private readonly Channel<(Stanza Stanza, ISession Origin)> _queue;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> _verifications = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<OutgoingS2s?> _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private int _state;               // 0 negotiating, 1 ready, 2 ended
    private OutgoingS2s? _stream;

    private OutgoingConnection(S2sPool pool, string local, string remote)
    {
        _pool = pool;
        Local = local;
        Remote = remote;
        _queue = Channel.CreateBounded<(Stanza, ISession)>(new BoundedChannelOptions(pool.Options.S2s.MaxQueue)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string Local { get; }

    public string Remote { get; }

    /// <summary>The stream, once connected.</summary>
    public OutgoingS2s? Stream => Volatile.Read(ref _stream);

    /// <summary>How the stream authenticated ("SASL EXTERNAL" or "dialback"), once it has.</summary>
    public string? Mechanism { get; private set; }

    /// <summary>Whether the connection has ended (failed or closed); the pool then starts a new one.</summary>
    public bool HasEnded => Volatile.Read(ref _state) == 2;

    /// <summary>Creates the connection and starts it in the background.</summary>
    public static OutgoingConnection Start(S2sPool pool, string local, string remote)
    {
        var connection = new OutgoingConnection(pool, local, remote);
        _ = Task.Run(connection.RunAsync);
        return connection;
    }

    /// <summary>Queues a stanza; false when the queue is full or the connection has ended.</summary>
    public bool TryEnqueue(Stanza stanza, ISession origin) => !HasEnded && _queue.Writer.TryWrite((stanza, origin));

    /// <summary>
    /// XEP-0220 §2.1.2: asks the remote (authoritative) server whether a key presented on one of our incoming
    /// streams (id <paramref name="streamId"/>) in its name is its own. False on any failure.
    /// </summary>
    public async Task<bool> VerifyAsync(string streamId, string key, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_verifications.TryAdd(streamId, tcs)) return false;
        try
        {
            var stream = await _open.Task.WaitAsync(ct).ConfigureAwait(false);
            if (stream is null) return false;
            await stream.SendAsync(new Element("verify", Ns.Dialback).SetAttribute("from", Local).SetAttribute("to", Remote)
                .SetAttribute("id", streamId).AddText(key), ct).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            _verifications.TryRemove(streamId, out _);
        }
    }

    /// <summary>The stream is secured and the peer's features are known: db:verify may go (XEP-0220 §2.1.2).</summary>
    internal void Opened(OutgoingS2s stream) => _open.TrySetResult(stream);

    /// <summary>The authoritative server's answer to a db:verify.</summary>
    internal void Verified(string streamId, bool valid)
    {
        if (_verifications.TryGetValue(streamId, out var tcs)) tcs.TrySetResult(valid);
    }

    /// <summary>Authenticated: the queue starts to drain.</summary>
    internal void Ready(OutgoingS2s stream, string mechanism)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return;
        Mechanism = mechanism;
        S2sLog.OutgoingReady(_pool.Log, Local, Remote, mechanism);
        _ = DrainAsync(stream);
    }

    /// <summary>Closes the stream (idle, shutdown).</summary>
    public async ValueTask CloseAsync(StreamError error)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (Stream is { } stream) await stream.CloseAsync(error).ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var o = _pool.Options.S2s;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(o.ConnectTimeoutSeconds));
        StanzaError failure = StanzaError.RemoteServerNotFound("The remote server could not be reached");
        var reason = "no address answered";
        try
        {
            foreach (var target in await ResolveAsync(deadline.Token).ConfigureAwait(false))
            {
                var tcp = new TcpClient { NoDelay = true };
                try
                {
                    S2sLog.Connecting(_pool.Log, Local, Remote, target.Host, target.Port, target.DirectTls);
                    await tcp.ConnectAsync(await AddressesAsync(target.Host, deadline.Token).ConfigureAwait(false), target.Port, deadline.Token)
                        .ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    tcp.Dispose();
                    reason = e.SocketErrorCode.ToString();
                    continue;
                }
                var stream = new OutgoingS2s(_pool, this, tcp, target.DirectTls);
                Volatile.Write(ref _stream, stream);
                _pool.Track(stream);
                try
                {
                    using var register = deadline.Token.Register(() =>
                    {
                        if (Volatile.Read(ref _state) == 0) _ = stream.CloseAsync(StreamError.ConnectionTimeout("Negotiation took too long")).AsTask();
                    });
                    await stream.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    _pool.Untrack(stream);
                }
                reason = stream.Failure ?? "the stream ended";
                // A stream that authenticated and later ended (idle, shutdown, peer closed) is done; one that never
                // got there tries no further address when the peer refused us outright.
                if (Volatile.Read(ref _state) == 1 || stream.Refused) break;
            }
            if (deadline.IsCancellationRequested && !_stop.IsCancellationRequested && Volatile.Read(ref _state) == 0)
            {
                failure = StanzaError.RemoteServerTimeout("The remote server did not answer in time");
                reason = "timed out";
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            if (!_stop.IsCancellationRequested)
            {
                failure = StanzaError.RemoteServerTimeout("The remote server did not answer in time");
                reason = "timed out";
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ArgumentException)
        {
            reason = e.Message;
        }
        finally
        {
            var wasReady = Interlocked.Exchange(ref _state, 2) == 1;
            _open.TrySetResult(null);
            foreach (var tcs in _verifications.Values) tcs.TrySetResult(false);
            _pool.Ended(this);
            var bounced = 0;
            while (_queue.Reader.TryRead(out var item))
            {
                Router.Bounce(item.Stanza, failure, item.Origin);
                bounced++;
            }
            if (!wasReady || bounced > 0)
                S2sLog.OutgoingFailed(_pool.Log, Local, Remote, failure.Condition.ToString(), reason, bounced);
            _queue.Writer.TryComplete();
        }
    }

    // A static route wins; then SRV (XEP-0368 direct TLS and STARTTLS records merged by priority and weight); then the
    // domain itself on 5269 (RFC 6120 §3.2.2).
    private async Task<List<SrvTarget>> ResolveAsync(CancellationToken ct)
    {
        var o = _pool.Options.S2s;
        if (o.Routes.TryGetValue(Remote, out var route) && S2sOptions.TryParseRoute(route, out var host, out var port))
            return [new SrvTarget(host, port, false)];
        var servers = ConfiguredDnsServers();
        var targets = await SrvResolver.ResolveAsync(Remote, SrvResolver.ServerServices, servers.Count > 0 ? servers : SrvResolver.SystemServers(), ct).ConfigureAwait(false);
        if (targets.Count == 0) targets.Add(new SrvTarget(Remote, 5269, false));
        return targets;
    }

    private List<IPEndPoint> ConfiguredDnsServers()
    {
        var servers = new List<IPEndPoint>();
        foreach (var server in _pool.Options.S2s.DnsServers)
        {
            var ep = IPEndPoint.Parse(server);
            if (ep.Port == 0) ep.Port = 53;
            servers.Add(ep);
        }
        return servers;
    }

    // A target's addresses: a literal as it is; with S2s:DnsServers, their A and AAAA records (the system's resolver,
    // hosts file included, only for names they do not know); otherwise the system's resolver.
    private async Task<IPAddress[]> AddressesAsync(string host, CancellationToken ct)
    {
        if (IPAddress.TryParse(host, out var literal)) return [literal];
        var servers = ConfiguredDnsServers();
        if (servers.Count > 0 && await SrvResolver.AddressesAsync(host, servers, ct).ConfigureAwait(false) is { Count: > 0 } found)
            return [.. found];
        return await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
    }

    // One writer: the queue drains onto the stream in batches, one flush per batch.
    private async Task DrainAsync(OutgoingS2s stream)
    {
        var batch = new List<Element>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < 64 && _queue.Reader.TryRead(out var item)) batch.Add(item.Stanza.Element);
                await stream.SendBatchAsync(batch, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or ChannelClosedException)
        {
            // The stream ended; RunAsync bounces what is left.
        }
    }
}
