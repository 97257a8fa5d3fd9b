using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Connections;
using Parley.Server.Routing;

namespace Parley.Server.Federation;

/// <summary>
/// Federation (RFC 6120 §10.4): the router's way to other domains. One outgoing connection per (local domain, remote
/// domain) pair, opened on demand with a bounded queue; the incoming streams; the allow and deny lists; one timer that
/// closes idle streams; and, on shutdown, &lt;system-shutdown/&gt; for every server stream.
/// </summary>
public sealed class S2sPool : IRemoteRouter, IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<(string Local, string Remote), OutgoingConnection> _outgoing = new();
    private readonly ConcurrentDictionary<S2sStream, byte> _streams = new();
    private readonly ConcurrentDictionary<(string Local, string Remote), S2sStream> _returnRoutes = new();
    private readonly IServiceProvider _services;
    private readonly HashSet<string> _allow;
    private readonly HashSet<string> _deny;
    private readonly Lazy<bool> _ownCertificateProves;
    private Router? _router;
    private ServerOrigin? _serverOrigin;
    private ITimer? _timer;

    /// <summary>Creates the pool; the router is resolved lazily (it depends on the pool).</summary>
    public S2sPool(IOptions<ParleyOptions> options, Addresses addresses, IComponentRouter components, TlsCertificateProvider certificates,
        DialbackKeys keys, S2sTrust trust, TimeProvider time, ILogger<S2sPool> log, IServiceProvider services)
    {
        Options = options.Value;
        Addresses = addresses;
        Components = components;
        Certificates = certificates;
        Keys = keys;
        Trust = trust;
        Time = time;
        Log = log;
        _services = services;
        _allow = new HashSet<string>(Options.S2s.Allow, StringComparer.OrdinalIgnoreCase);
        _deny = new HashSet<string>(Options.S2s.Deny, StringComparer.OrdinalIgnoreCase);
        _ownCertificateProves = new Lazy<bool>(() => Trust.Proves(Certificates.Certificate, null, Addresses.Domain, out _));
    }

    internal ParleyOptions Options { get; }
    internal Addresses Addresses { get; }
    internal IComponentRouter Components { get; }
    internal TlsCertificateProvider Certificates { get; }
    internal DialbackKeys Keys { get; }
    internal S2sTrust Trust { get; }
    internal TimeProvider Time { get; }
    internal ILogger Log { get; }
    internal Router Router => _router ??= _services.GetRequiredService<Router>();
    internal string Domain => Addresses.Domain;

    /// <summary>How many server streams are open, incoming and outgoing.</summary>
    public int Count => _streams.Count;

    /// <summary>The remote domains with an authenticated outgoing connection.</summary>
    public IReadOnlyList<string> Connected
    {
        get
        {
            var list = new List<string>();
            foreach (var c in _outgoing.Values)
                if (c.Stream is { } s && !s.IsClosing && !c.HasEnded) list.Add(c.Remote);
            return list;
        }
    }

    /// <summary>How the outgoing stream from a local to a remote domain authenticated; null when there is none.</summary>
    public string? Mechanism(string local, string remote) =>
        _outgoing.TryGetValue((local, remote), out var c) && !c.HasEnded ? c.Mechanism : null;

    internal bool HasRoom => _streams.Count <= Options.S2s.MaxConnections;

    /// <summary>Whether a domain is served here (the domain itself, or a service or component subdomain).</summary>
    internal bool IsHosted(string domain) => domain == Addresses.Domain || Components.Handles(domain);

    /// <summary>S2s:Allow and S2s:Deny.</summary>
    internal bool Allows(string remote) => !_deny.Contains(remote) && (_allow.Count == 0 || _allow.Contains(remote));

    /// <summary>Whether our certificate proves a local domain, so SASL EXTERNAL is worth offering to peers.</summary>
    internal bool OwnCertificateProves(string local) =>
        local == Addresses.Domain ? _ownCertificateProves.Value : Trust.Proves(Certificates.Certificate, null, local, out _);

    /// <summary>
    /// Whether stanzas from <paramref name="local"/> to <paramref name="remote"/> go out on an incoming stream the peer
    /// made bidirectional (XEP-0288) rather than on an outgoing connection of our own.
    /// </summary>
    public bool UsesIncomingStream(string local, string remote) =>
        _returnRoutes.TryGetValue((local, remote), out var stream) && !stream.IsClosing;

    /// <inheritdoc />
    public async ValueTask SendAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        var (local, remote) = Pair(stanza);
        // XEP-0288: an incoming stream the peer made bidirectional carries our stanzas for its pair.
        if (Allows(remote) && _returnRoutes.TryGetValue((local, remote), out var stream) && !stream.IsClosing)
        {
            try
            {
                await stream.SendAsync(stanza.Element, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // It ended under us: an outgoing connection of our own instead.
                _returnRoutes.TryRemove(new KeyValuePair<(string, string), S2sStream>((local, remote), stream));
            }
        }
        TryEnqueue(stanza, origin);
    }

    // The domain pair a stanza travels between: its sender's domain when served here, else the main domain.
    private (string Local, string Remote) Pair(Stanza stanza)
    {
        var from = stanza.From?.Domain;
        return (from is not null && IsHosted(from) ? from : Addresses.Domain, stanza.To!.Value.Domain);
    }

    /// <summary>XEP-0288 §2.2: an incoming stream on which the peer authenticated, and asked to receive our stanzas.</summary>
    internal void AddReturnRoute(string local, string remote, S2sStream stream) => _returnRoutes[(local, remote)] = stream;

    /// <summary>A stream that ended carries nothing more.</summary>
    internal void RemoveReturnRoutes(S2sStream stream)
    {
        foreach (var route in _returnRoutes)
            if (route.Value == stream) _returnRoutes.TryRemove(route);
    }

    /// <summary>Queues a stanza for its remote domain, or bounces it; false when bounced.</summary>
    internal bool TryEnqueue(Stanza stanza, ISession origin)
    {
        var (local, remote) = Pair(stanza);
        if (!Allows(remote))
        {
            S2sLog.Refused(Log, remote, "not allowed by S2s:Allow / S2s:Deny");
            Router.Bounce(stanza, StanzaError.NotAllowed("This server does not federate with " + remote), origin);
            return false;
        }
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var connection = Connection(local, remote);
            if (connection is null)
            {
                Router.Bounce(stanza, StanzaError.ResourceConstraint("Too many server connections"), origin);
                return false;
            }
            if (connection.TryEnqueue(stanza, origin)) return true;
            if (!connection.HasEnded)
            {
                Router.Bounce(stanza, StanzaError.ResourceConstraint("Too many stanzas waiting for " + remote), origin);
                return false;
            }
            // It ended between lookup and enqueue: a new one.
            _outgoing.TryRemove(new KeyValuePair<(string, string), OutgoingConnection>((local, remote), connection));
        }
        Router.Bounce(stanza, StanzaError.RemoteServerNotFound(), origin);
        return false;
    }

    /// <summary>XEP-0220 §2.1.2: as receiving server, asks the authoritative server of <paramref name="remote"/>.</summary>
    internal async Task<bool> VerifyAsync(string local, string remote, string streamId, string key, CancellationToken ct)
    {
        if (Connection(local, remote) is not { } connection) return false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(Options.S2s.ConnectTimeoutSeconds));
        return await connection.VerifyAsync(streamId, key, timeout.Token).ConfigureAwait(false);
    }

    private OutgoingConnection? Connection(string local, string remote)
    {
        if (_outgoing.TryGetValue((local, remote), out var existing) && !existing.HasEnded) return existing;
        if (!HasRoom) return null;
        lock (_outgoing)
        {
            if (_outgoing.TryGetValue((local, remote), out existing) && !existing.HasEnded) return existing;
            var created = OutgoingConnection.Start(this, local, remote);
            _outgoing[(local, remote)] = created;
            return created;
        }
    }

    internal void Ended(OutgoingConnection connection) =>
        _outgoing.TryRemove(new KeyValuePair<(string, string), OutgoingConnection>((connection.Local, connection.Remote), connection));

    internal void Track(S2sStream stream) => _streams.TryAdd(stream, 0);

    internal void Untrack(S2sStream stream) => _streams.TryRemove(stream, out _);

    internal RemoteServer RemoteServer(string domain) =>
        new(this, Jid.Create(null, domain), _serverOrigin ??= _services.GetRequiredService<ServerOrigin>());

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(Options.S2s.IdleSeconds / 4.0, 0.5, 30));
        _timer = Time.CreateTimer(_ => _ = SweepAsync(), null, period, period);
        // Like the client streams: server streams hear <system-shutdown/> before Kestrel stops waiting for them.
        _services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(() => CloseAllAsync().Wait(TimeSpan.FromSeconds(5)));
        return Task.CompletedTask;
    }

    // One timer for every server stream: idle ones close (S2s:IdleSeconds).
    private async Task SweepAsync()
    {
        var now = Time.GetTimestamp();
        foreach (var stream in _streams.Keys)
            if (stream.IdleFor(now, Options.S2s.IdleSeconds))
                await stream.CloseAsync(StreamError.ConnectionTimeout("Idle")).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        await CloseAllAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
    }

    private Task CloseAllAsync()
    {
        var closing = new List<Task>();
        foreach (var connection in _outgoing.Values) closing.Add(connection.CloseAsync(StreamError.SystemShutdown()).AsTask());
        foreach (var stream in _streams.Keys) closing.Add(stream.CloseAsync(StreamError.SystemShutdown()).AsTask());
        return Task.WhenAll(closing);
    }

    /// <inheritdoc />
    public void Dispose() => _timer?.Dispose();
}
