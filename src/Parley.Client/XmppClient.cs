using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Threading.Channels;
using Parley.Client.Model;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Client;

/// <summary>
/// One client connection to an XMPP server (RFC 6120): TCP, STARTTLS or direct TLS (XEP-0368), SASL (SCRAM with
/// channel binding, PLAIN), resource binding; then thread-safe sending, IQ requests with timeouts, and incoming
/// stanzas through <see cref="ReceiveAsync"/>.
/// </summary>
public sealed class XmppClient : IAsyncDisposable
{
    private static readonly SslApplicationProtocol XmppClientAlpn = new("xmpp-client"u8.ToArray());
    private readonly XmppClientOptions _options;
    private readonly XmlFramer _framer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Element>> _pending = new(StringComparer.Ordinal);
    private readonly Channel<Element> _incoming;
    private readonly ConcurrentDictionary<QName, IqHandler> _iqHandlers = new();
    private readonly ConcurrentDictionary<string, byte> _features = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly StreamManagementState _sm = new();
    private volatile bool _online;
    private bool _endedCleanly;
    private Element? _lastPresence;
    private TcpClient? _tcp;
    private Stream? _stream;
    private SslStream? _ssl;
    private PipeReader? _input;
    private PipeWriter? _output;
    private Task? _readLoop;
    private int _nextId;
    private int _disposed;

    /// <summary>Creates a client; nothing happens until <see cref="ConnectAsync"/>.</summary>
    public XmppClient(XmppClientOptions options)
    {
        _options = options;
        _framer = new XmlFramer(new XmlFramerOptions { MaxElementBytes = options.MaxStanzaBytes });
        _incoming = Channel.CreateBounded<Element>(new BoundedChannelOptions(Math.Max(1, options.ReceiveQueueCapacity))
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.DropOldest,
        });
        Roster = new Roster(this);
        Disco = new Disco(this);
        Muc = new Muc(this);
        Pep = new Pep(this);
        Mam = new Mam(this);
        if (!options.Raw)
        {
            foreach (var f in (string[])[Ns.DiscoInfo, Ns.Ping, Ns.Receipts, Ns.ChatStates, Ns.Caps])
                _features.TryAdd(f, 0);
            HandleIq(new QName(Ns.Ping, "ping"), (_, type, _) => type == IqType.Get
                ? Task.FromResult<Element?>(null) : throw new StanzaException(StanzaError.ServiceUnavailable));
            HandleIq(new QName(Ns.DiscoInfo, "query"), (iq, type, _) => type == IqType.Get
                ? Task.FromResult<Element?>(OwnDiscoInfo(iq.FirstChild()!.GetAttribute("node")))
                : throw new StanzaException(StanzaError.ServiceUnavailable));
            HandleIq(new QName(Ns.Roster, "query"), (iq, type, _) => type == IqType.Set
                ? Task.FromResult(Roster.HandlePush(iq)) : throw new StanzaException(StanzaError.ServiceUnavailable));
        }
    }

    private delegate Task<Element?> IqHandler(Element iq, IqType type, CancellationToken ct);

    private string? _capsVer;

    private void HandleIq(QName payload, IqHandler handler) => _iqHandlers[payload] = handler;

    // XEP-0030 §3.1 and XEP-0115 §6.2: our identity and features, also under node#ver.
    private Element OwnDiscoInfo(string? node)
    {
        if (node is not null && node != _options.CapsNode + "#" + CapsVer) throw new StanzaException(StanzaError.ItemNotFound());
        var query = new Element("query", Ns.DiscoInfo);
        if (node is not null) query.SetAttribute("node", node);
        query.Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", _options.Component ? "component" : "client")
            .SetAttribute("type", _options.Component ? "generic" : "pc").SetAttribute("name", _options.ClientName));
        var features = new List<string>(_features.Keys);
        features.Sort(StringComparer.Ordinal);
        foreach (var f in features) query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", f));
        return query;
    }

    /// <summary>XEP-0115 §5.1: the verification string of this client's identity and features.</summary>
    public string CapsVer => _capsVer ??= CapsVerification.Ver(OwnDiscoInfo(null), "sha-1")!;

    /// <summary>The XEP-0115 element to put in presence.</summary>
    public Element CapsElement() => new Element("c", Ns.Caps).SetAttribute("hash", "sha-1").SetAttribute("node", _options.CapsNode).SetAttribute("ver", CapsVer);

    /// <summary>The roster (RFC 6121 §2) and subscriptions (§3).</summary>
    public Roster Roster { get; }

    /// <summary>Service discovery (XEP-0030) with a XEP-0115 caps cache.</summary>
    public Disco Disco { get; }

    /// <summary>Multi-user chat (XEP-0045).</summary>
    public Muc Muc { get; }

    /// <summary>Personal eventing (XEP-0163) on the account's PEP service.</summary>
    public Pep Pep { get; }

    /// <summary>The message archive (XEP-0313).</summary>
    public Mam Mam { get; }

    /// <summary>Raised for every incoming message (carbons unwrapped; archive results go to <see cref="Mam"/>).
    /// Handlers run on the reading loop: keep them short, or hand work off.</summary>
    public event EventHandler<ChatMessage>? MessageReceived;

    /// <summary>Raised for every incoming presence stanza, subscription requests included.</summary>
    public event EventHandler<PresenceInfo>? PresenceReceived;

    /// <summary>Raised for every incoming stanza, before any other handling (raw mode included).</summary>
    public event EventHandler<Element>? StanzaReceived;

    /// <summary>Advertises a feature in this client's disco#info and caps (XEP-0030, XEP-0115).</summary>
    public void Feature(string var)
    {
        if (_features.TryAdd(var, 0)) _capsVer = null;
    }

    /// <summary>The features this client advertises.</summary>
    public IReadOnlyCollection<string> AdvertisedFeatures => (IReadOnlyCollection<string>)_features.Keys;

    /// <summary>
    /// Answers IQ requests whose payload is <typeparamref name="T"/>: the handler returns the result's payload (or
    /// null for an empty result) or throws <see cref="StanzaException"/> for an error reply. Requests nobody handles
    /// are answered service-unavailable (RFC 6120 §8.4).
    /// </summary>
    public void OnIq<T>(IqType type, Func<IqRequest<T>, CancellationToken, Task<Element?>> handler) where T : IPayload<T>
    {
        _iqHandlers.AddOrUpdate(T.Name,
            _ => Handler(null),
            (_, existing) => Handler(existing));

        IqHandler Handler(IqHandler? other) => (iq, t, ct) =>
        {
            if (t != type) return other is null ? throw new StanzaException(StanzaError.ServiceUnavailable) : other(iq, t, ct);
            var payload = T.Parse(iq.FirstChild()!);
            return handler(new IqRequest<T>(JidText.Parse(iq.GetAttribute("from")), iq.GetAttribute("id") ?? "", t, payload, iq), ct);
        };
    }

    /// <summary>The full JID the server bound.</summary>
    public Jid BoundJid { get; private set; }

    /// <summary>The SASL mechanism used.</summary>
    public string? Mechanism { get; private set; }

    /// <summary>The channel-binding type used with a -PLUS mechanism.</summary>
    public string? ChannelBindingType { get; private set; }

    /// <summary>Whether the connection is encrypted.</summary>
    public bool IsSecure => _ssl is not null;

    /// <summary>The negotiated TLS version.</summary>
    public SslProtocols? TlsProtocol => _ssl?.SslProtocol;

    /// <summary>The stream features offered after binding.</summary>
    public Element? Features { get; private set; }

    /// <summary>The stream error the server sent, if any.</summary>
    public StreamError? RemoteStreamError { get; private set; }

    /// <summary>Completes when the stream has ended.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Connects, secures, authenticates and binds a resource.</summary>
    public async Task ConnectAsync(CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.ConnectTimeout);
        var token = timeout.Token;
        if (_options.Component)
        {
            await ConnectComponentAsync(token).ConfigureAwait(false);
            // The same life as a client connection (without stream management it ends with the stream): Closed completes.
            _readLoop = Task.Run(RunAsync, CancellationToken.None);
            return;
        }
        FastToken ??= _options.FastToken;
        Element features;
        try
        {
            features = await NegotiateAsync(token).ConfigureAwait(false);
        }
        catch (XmppAuthenticationException) when (UsedFastTokenAttempt && FastToken is null)
        {
            // XEP-0484 §4.1: a token that no longer works is dropped, and the password is used instead.
            DropTransport();
            features = await NegotiateAsync(token).ConfigureAwait(false);
        }
        Features = features;
        _online = true;
        SetState(ConnectionState.Connected);
        _readLoop = Task.Run(RunAsync, CancellationToken.None);
        if (!_options.Raw && _options.KeepaliveInterval > TimeSpan.Zero) _ = Task.Run(KeepaliveAsync, CancellationToken.None);
    }

    private bool UsedFastTokenAttempt { get; set; }

    // TLS, authentication (SASL2 with Bind2 when offered, else SASL and a stream restart), binding and stream
    // management: a new session.
    private async Task<Element> NegotiateAsync(CancellationToken token)
    {
        var features = await OpenSecuredStreamAsync(token).ConfigureAwait(false);
        if (_options.UseSasl2 && !_options.Raw && OffersSasl2(features))
        {
            UsedFastTokenAttempt = FastToken is not null;
            var outcome = await Sasl2Async(features, null, 0, token).ConfigureAwait(false);
            if (!outcome.Bound) await BindAsync(outcome.Features, token).ConfigureAwait(false);
            if (outcome.Enabled is { } enabled) _sm.Enable(enabled.GetAttribute("resume") is "true" or "1" ? enabled.GetAttribute("id") : null);
            else await EnableStreamManagementAsync(outcome.Features, token).ConfigureAwait(false);
            return outcome.Features;
        }
        await AuthenticateAsync(features, token).ConfigureAwait(false);
        features = await OpenStreamAsync(token).ConfigureAwait(false);
        await BindAsync(features, token).ConfigureAwait(false);
        await EnableStreamManagementAsync(features, token).ConfigureAwait(false);
        return features;
    }

    /// <summary>Where the connection stands.</summary>
    public ConnectionState State { get; private set; }

    /// <summary>Raised when <see cref="State"/> changes (on a thread of the library: keep handlers short).</summary>
    public event EventHandler<ConnectionState>? StateChanged;

    /// <summary>
    /// Raised after the connection came back as a new session because the old one could not be resumed: the
    /// unacknowledged stanzas were sent again, presence and rooms restored, and the roster reloaded if it was loaded.
    /// </summary>
    public event EventHandler? SessionRestarted;

    /// <summary>How many times the session was resumed after a lost connection (XEP-0198 §5).</summary>
    public int Resumptions { get; private set; }

    /// <summary>Whether XEP-0198 stream management is on (and with it the send queue that survives reconnection).</summary>
    public bool IsStreamManagementEnabled => _sm.Enabled;

    /// <summary>Stanzas sent that the server has not acknowledged yet.</summary>
    public int UnacknowledgedCount => _sm.UnackedCount;

    private void SetState(ConnectionState state)
    {
        if (State == state) return;
        State = state;
        StateChanged?.Invoke(this, state);
    }

    // XEP-0198 §3: after binding, ask for stream management with resumption.
    private async Task EnableStreamManagementAsync(Element features, CancellationToken ct)
    {
        if (_options.Raw || !_options.StreamManagement || features.Child("sm", Ns.StreamManagement) is null) return;
        await WriteDirectAsync(new Element("enable", Ns.StreamManagement).SetAttribute("resume", "true"), ct).ConfigureAwait(false);
        var answer = await NextElementAsync(ct).ConfigureAwait(false);
        if (answer.Name == new QName(Ns.StreamManagement, "enabled"))
            _sm.Enable(answer.GetAttribute("resume") is "true" or "1" ? answer.GetAttribute("id") : null);
    }

    // The connection's life: read until it ends; if it was lost (not closed) and the session can be resumed,
    // reconnect and go on.
    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                await ReadLoopAsync(_stop.Token).ConfigureAwait(false);
                _online = false;
                if (_stop.IsCancellationRequested || _endedCleanly || !_sm.Enabled || !Reconnectable(RemoteStreamError)) break;
                SetState(ConnectionState.Reconnecting);
                if (!await ReconnectAsync(_stop.Token).ConfigureAwait(false)) break;
            }
        }
        finally
        {
            _online = false;
            _incoming.Writer.TryComplete();
            foreach (var (_, tcs) in _pending) tcs.TrySetException(new XmppNegotiationException("The stream closed"));
            SetState(ConnectionState.Closed);
            _closed.TrySetResult();
        }
    }

    // XEP-0199 §4.2 as a keepalive: after every quiet interval the client pings its server; a ping unanswered within
    // IqTimeout means the connection is dead even if TCP has not noticed, so it is cut, and stream management
    // reconnects (or the client closes).
    private async Task KeepaliveAsync()
    {
        using var timer = new PeriodicTimer(_options.KeepaliveInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (!_online || System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceived)) < _options.KeepaliveInterval) continue;
                try
                {
                    await PingAsync(null, _stop.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    KeepaliveFailures++;
                    SimulateConnectionLoss();
                }
                catch (XmppErrorException)
                {
                    // An error answer is still an answer: the connection lives.
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or XmppNegotiationException)
        {
            // Closed.
        }
    }

    private long _lastReceived = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>How many keepalive pings went unanswered (each cut the connection).</summary>
    public int KeepaliveFailures { get; private set; }

    // A lost connection, or the server going away for a while, is worth a reconnection; being replaced or refused is not.
    private static bool Reconnectable(StreamError? error) =>
        error is null || error.ConditionName is "system-shutdown" or "connection-timeout" or "reset" or "internal-server-error" or "remote-connection-failed";

    // XEP-0198 §5: reconnect with backoff, resume (resending what the server did not acknowledge) or, when the
    // server no longer knows the session, start a new one and send the queue again.
    private async Task<bool> ReconnectAsync(CancellationToken stop)
    {
        var delay = _options.ReconnectDelay;
        for (var attempt = 0; attempt < _options.MaxReconnectAttempts; attempt++)
        {
            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            delay = TimeSpan.FromTicks(Math.Min(Math.Max(delay.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks), TimeSpan.FromSeconds(30).Ticks));
            DropTransport();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(_options.ConnectTimeout);
            var token = timeout.Token;
            try
            {
                RemoteStreamError = null;
                var features = await OpenSecuredStreamAsync(token).ConfigureAwait(false);
                if (_options.UseSasl2 && !_options.Raw && OffersSasl2(features))
                {
                    var outcome = await Sasl2Async(features, _sm.ResumeId, _sm.Handled, token).ConfigureAwait(false);
                    if (outcome.ResumedH is { } resumedH)
                    {
                        _sm.Acknowledge(resumedH);
                        await ResendAsync(_sm.ForResend(), token).ConfigureAwait(false);
                        Features = outcome.Features;
                        Resumptions++;
                        SetState(ConnectionState.Connected);
                        return true;
                    }
                    if (!outcome.Bound) await BindAsync(outcome.Features, token).ConfigureAwait(false);
                    Features = outcome.Features;
                    var queued = _sm.Restart();
                    if (outcome.Enabled is { } enabled) _sm.Enable(enabled.GetAttribute("resume") is "true" or "1" ? enabled.GetAttribute("id") : null);
                    else await EnableStreamManagementAsync(outcome.Features, token).ConfigureAwait(false);
                    _online = true;
                    SetState(ConnectionState.Connected);
                    _ = RestoreSessionAsync(queued);
                    return true;
                }
                await AuthenticateAsync(features, token).ConfigureAwait(false);
                features = await OpenStreamAsync(token).ConfigureAwait(false);
                if (_sm.ResumeId is { } previous && features.Child("sm", Ns.StreamManagement) is not null)
                {
                    await WriteDirectAsync(new Element("resume", Ns.StreamManagement).SetAttribute("previd", previous)
                        .SetAttribute("h", _sm.Handled.ToString(System.Globalization.CultureInfo.InvariantCulture)), token).ConfigureAwait(false);
                    var answer = await NextElementAsync(token).ConfigureAwait(false);
                    if (answer.Name == new QName(Ns.StreamManagement, "resumed")
                        && uint.TryParse(answer.GetAttribute("h"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h))
                    {
                        _sm.Acknowledge(h);
                        await ResendAsync(_sm.ForResend(), token).ConfigureAwait(false);
                        Features = features;
                        Resumptions++;
                        SetState(ConnectionState.Connected);
                        return true;
                    }
                }
                await BindAsync(features, token).ConfigureAwait(false);
                Features = features;
                var pending = _sm.Restart();
                await EnableStreamManagementAsync(features, token).ConfigureAwait(false);
                _online = true;
                SetState(ConnectionState.Connected);
                _ = RestoreSessionAsync(pending);
                return true;
            }
            catch (XmppAuthenticationException)
            {
                return false;   // the credentials no longer work: retrying cannot help
            }
            catch (Exception e) when (e is IOException or SocketException or XmppNegotiationException or AuthenticationException
                or XmlStreamException or ObjectDisposedException or InvalidOperationException
                || (e is OperationCanceledException && !stop.IsCancellationRequested))
            {
                // Try again after the delay.
            }
        }
        return false;
    }

    // Writes the resumed queue on the new connection, under the write lock so that nothing overtakes it.
    private async Task ResendAsync(List<Element> stanzas, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var stanza in stanzas) ElementWriter.Write(_output!, stanza, Ns.Client);
            if (stanzas.Count > 0) ElementWriter.Write(_output!, new Element("r", Ns.StreamManagement), Ns.Client);
            await _output!.FlushAsync(ct).ConfigureAwait(false);
            _online = true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // A new session: the queue goes out again, then presence (if the queue did not carry it), rooms and roster.
    private async Task RestoreSessionAsync(List<Element> pending)
    {
        try
        {
            var presenceQueued = false;
            foreach (var stanza in pending)
            {
                presenceQueued |= stanza.LocalName == "presence" && stanza.GetAttribute("to") is null;
                await WriteAsync(stanza, _stop.Token).ConfigureAwait(false);
            }
            if (!presenceQueued && _lastPresence is { } presence) await WriteAsync(presence.Clone(), _stop.Token).ConfigureAwait(false);
            await Muc.RejoinAsync(_stop.Token).ConfigureAwait(false);
            if (Roster.Loaded) await Roster.LoadAsync(_stop.Token).ConfigureAwait(false);
            SessionRestarted?.Invoke(this, EventArgs.Empty);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException
            or XmppErrorException or XmppNegotiationException or TimeoutException)
        {
            // The new connection failed too; the next reconnection starts over.
        }
    }

    private void DropTransport()
    {
        _ssl?.Dispose();
        _tcp?.Dispose();
        _tcp = null;
        _ssl = null;
    }

    /// <summary>For tests: cuts the TCP connection abruptly, as a network failure would.</summary>
    internal void SimulateConnectionLoss()
    {
        if (_tcp?.Client is { } socket)
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
    }

    /// <summary>
    /// XEP-0077 §3.1: creates the account <see cref="XmppClientOptions.Jid"/> with its password on a server that
    /// allows in-band registration (over TLS unless the options allow otherwise), then closes the connection. A
    /// refusal throws <see cref="XmppErrorException"/> (conflict: the user exists; not-acceptable: a field is bad).
    /// </summary>
    public static async Task RegisterAccountAsync(XmppClientOptions options, CancellationToken ct = default)
    {
        var client = new XmppClient(options with { Raw = true });
        await using (client.ConfigureAwait(false))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.ConnectTimeout);
            var features = await client.OpenSecuredStreamAsync(timeout.Token).ConfigureAwait(false);
            if (features.Child("register", Ns.RegisterFeature) is null)
                throw new XmppNegotiationException("The server does not offer in-band registration");
            var register = new Element("query", Ns.Register)
                .Add(new Element("username", Ns.Register).AddText(options.Jid.Local ?? throw new ArgumentException("The JID has no localpart", nameof(options))))
                .Add(new Element("password", Ns.Register).AddText(options.Password));
            var id = client.NextId();
            await client.WriteAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", id).Add(register), timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var reply = await client.NextElementAsync(timeout.Token).ConfigureAwait(false);
                if (reply.LocalName != "iq" || reply.GetAttribute("id") != id) continue;
                if (reply.GetAttribute("type") == "result") return;
                throw new XmppErrorException(reply.Child("error", Ns.Client) is { } error ? StanzaError.Parse(error) : StanzaError.UndefinedCondition());
            }
        }
    }

    // XEP-0114 §3: a stream in jabber:component:accept to the component's domain, then the handshake: the hex SHA-1
    // of the stream id the server sent followed by the shared secret.
    private async Task ConnectComponentAsync(CancellationToken token)
    {
        var domain = _options.Jid.Domain;
        await ConnectTcpAsync(domain, token).ConfigureAwait(false);
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            ElementWriter.WriteStreamHeader(_output!, new StreamHeader(domain, null, null, null, null, Ns.ComponentAccept, Ns.Streams));
            await _output!.FlushAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
        var open = await NextFrameAsync(token).ConfigureAwait(false);
        if (open.Kind != XmlFrameKind.StreamOpen || open.Header?.Id is not { Length: > 0 } id)
            throw new XmppNegotiationException("The server did not open a component stream with an id");
#pragma warning disable CA5350 // XEP-0114 defines the handshake with SHA-1.
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(id + _options.Password)));
#pragma warning restore CA5350
        await WriteAsync(new Element("handshake", Ns.Client).AddText(digest), token).ConfigureAwait(false);
        var answer = await NextElementAsync(token).ConfigureAwait(false);
        if (answer.LocalName != "handshake") throw new XmppAuthenticationException("not-authorized", "The server refused the component handshake");
        Mechanism = "handshake";
        BoundJid = Jid.Create(null, domain);
    }

    /// <summary>Where the connection went (after <see cref="ConnectAsync"/>).</summary>
    public ConnectTarget? ConnectedTarget { get; private set; }

    // RFC 6120 §3.2: Host when given; otherwise the domain's SRV targets (XEP-0368 direct TLS ones included) in
    // order, and failing those the domain itself. A target that refuses the connection gives way to the next.
    private async Task ConnectTcpAsync(string domain, CancellationToken token)
    {
        List<ConnectTarget> targets;
        if (_options.Host is { } host) targets = [new ConnectTarget(host, _options.Port, _options.DirectTls)];
        else
        {
            targets = [];
            if (_options.UseSrv)
                foreach (var t in await SrvResolver.ResolveAsync(domain, SrvResolver.ClientServices, _options.DnsServers ?? SrvResolver.SystemServers(), token).ConfigureAwait(false))
                    targets.Add(new ConnectTarget(t.Host, t.Port, t.DirectTls));
            if (targets.Count == 0) targets.Add(new ConnectTarget(domain, _options.Port, _options.DirectTls));
        }
        SocketException? failure = null;
        foreach (var target in targets)
        {
            var tcp = new TcpClient { NoDelay = true };
            try
            {
                await tcp.ConnectAsync(target.Host, target.Port, token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                tcp.Dispose();
                failure = e;
                continue;
            }
            _tcp = tcp;
            _stream = tcp.GetStream();
            ConnectedTarget = target;
            if (target.DirectTls) await StartTlsAsync([XmppClientAlpn], token).ConfigureAwait(false);
            else SetPipes(_stream);
            return;
        }
        throw failure ?? new SocketException((int)SocketError.HostNotFound);
    }

    // TCP, then STARTTLS or direct TLS; returns the features of the secured stream.
    private async Task<Element> OpenSecuredStreamAsync(CancellationToken token)
    {
        var domain = _options.Jid.Domain;
        await ConnectTcpAsync(domain, token).ConfigureAwait(false);

        var features = await OpenStreamAsync(token).ConfigureAwait(false);
        if (!IsSecure)
        {
            if (features.Child("starttls", Ns.Tls) is not null)
            {
                await WriteAsync(new Element("starttls", Ns.Tls), token).ConfigureAwait(false);
                var answer = await NextElementAsync(token).ConfigureAwait(false);
                if (answer.LocalName != "proceed") throw new XmppNegotiationException("The server refused STARTTLS");
                await StartTlsAsync(null, token).ConfigureAwait(false);
                features = await OpenStreamAsync(token).ConfigureAwait(false);
            }
            else if (_options.RequireTls)
            {
                throw new XmppNegotiationException("The server does not offer TLS, and the options require it");
            }
        }
        return features;
    }

    private async Task StartTlsAsync(List<SslApplicationProtocol>? alpn, CancellationToken ct)
    {
        var ssl = new SslStream(_stream!, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = _options.Jid.Domain,
            EnabledSslProtocols = _options.TlsProtocols,
            RemoteCertificateValidationCallback = _options.CertificateValidation ?? (_options.TrustedCertificates.Count == 0 ? null : AcceptTrusted),
            ApplicationProtocols = alpn,
        }, ct).ConfigureAwait(false);
        _ssl = ssl;
        _stream = ssl;
        SetPipes(ssl);
    }

    // The system's verdict, or a presented certificate that is exactly one the options trust.
    private bool AcceptTrusted(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate,
        System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None) return true;
        if (certificate is null) return false;
        var presented = certificate.GetRawCertData();
        foreach (var trusted in _options.TrustedCertificates)
            if (trusted.RawData.AsSpan().SequenceEqual(presented)) return true;
        return false;
    }

    private void SetPipes(Stream stream)
    {
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        _framer.Reset();
    }

    private async Task<Element> OpenStreamAsync(CancellationToken ct)
    {
        var header = new StreamHeader(_options.Jid.Domain, IsSecure ? _options.Jid.Bare.ToString() : null, null, "1.0", "en", Ns.Client, Ns.Streams);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ElementWriter.WriteStreamHeader(_output!, header);
            await _output!.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
        _framer.Reset();
        var frame = await NextFrameAsync(ct).ConfigureAwait(false);
        if (frame.Kind != XmlFrameKind.StreamOpen) throw new XmppNegotiationException("The server did not open a stream");
        var features = await NextElementAsync(ct).ConfigureAwait(false);
        if (features.Name != new QName(Ns.Streams, "features")) throw new XmppNegotiationException("Expected stream features, got " + features.LocalName);
        return features;
    }

    private async Task AuthenticateAsync(Element features, CancellationToken ct)
    {
        var offered = new List<string>();
        if (features.Child("mechanisms", Ns.Sasl) is { } mechanisms)
            foreach (var m in mechanisms.Children)
                if (m.LocalName == "mechanism") offered.Add(m.Text.Trim());
        var exchange = SaslExchange.Choose(_options, offered, BindingTypes(features), Binding(), IsSecure)
            ?? throw new XmppNegotiationException("No acceptable SASL mechanism; the server offers " + string.Join(", ", offered));
        Mechanism = exchange.Mechanism;
        ChannelBindingType = exchange.BindingType;
        var answer = await SaslStepAsync(new Element("auth", Ns.Sasl).SetAttribute("mechanism", exchange.Mechanism)
            .AddText(Convert.ToBase64String(exchange.Initial)), ct).ConfigureAwait(false);
        while (answer.LocalName == "challenge")
        {
            if (exchange.Respond(Convert.FromBase64String(answer.Text.Trim()), out var error) is not { } response)
            {
                await WriteDirectAsync(new Element("abort", Ns.Sasl), ct).ConfigureAwait(false);
                throw new XmppAuthenticationException("server-rejected", error);
            }
            answer = await SaslStepAsync(new Element("response", Ns.Sasl).AddText(Convert.ToBase64String(response)), ct).ConfigureAwait(false);
        }
        if (answer.LocalName != "success") throw Failure(answer);
        var text = answer.Text.Trim();
        if (!exchange.VerifyFinal(text.Length == 0 || text == "=" ? [] : Convert.FromBase64String(text)))
            throw new XmppAuthenticationException("server-not-verified", "The server could not prove it knows the credentials");
    }

    private ClientChannelBinding? Binding() => _ssl is null ? null : new ClientChannelBinding(_ssl);

    // XEP-0440: the channel-binding types the server supports, when it says.
    private static List<string>? BindingTypes(Element features)
    {
        if (features.Child("sasl-channel-binding", Ns.SaslChannelBinding) is not { } list) return null;
        var types = new List<string>();
        foreach (var c in list.Children)
            if (c.GetAttribute("type") is { } t) types.Add(t);
        return types;
    }

    private sealed record Sasl2Outcome(Element Features, bool Bound, uint? ResumedH, Element? Enabled);

    /// <summary>Whether the last authentication used XEP-0388 SASL2.</summary>
    public bool UsedSasl2 { get; private set; }

    /// <summary>Whether the last authentication used a XEP-0484 FAST token instead of the password.</summary>
    public bool UsedFastToken { get; private set; }

    /// <summary>The current XEP-0484 FAST token (from the options, then as the server issues new ones).</summary>
    public FastToken? FastToken { get; private set; }

    /// <summary>Raised when the server issues a FAST token (persist it with <see cref="XmppClientOptions.UserAgentId"/>),
    /// or with null when the token stopped working.</summary>
    public event EventHandler<FastToken?>? FastTokenChanged;

    private string UserAgentId => _userAgentId ??= _options.UserAgentId ?? Guid.NewGuid().ToString();

    private string? _userAgentId;

    private static bool OffersSasl2(Element features) => features.Child("authentication", Ns.Sasl2) is not null;

    // XEP-0388 §2.4 with XEP-0386 Bind2, XEP-0198 resumption or enabling, and XEP-0484 FAST inline: one round trip
    // (plus the mechanism's challenges) from TLS to a bound, managed session, with no stream restart.
    private async Task<Sasl2Outcome> Sasl2Async(Element features, string? resumeId, uint handled, CancellationToken ct)
    {
        var authentication = features.Child("authentication", Ns.Sasl2)!;
        var offered = new List<string>();
        foreach (var m in authentication.Children)
            if (m.LocalName == "mechanism") offered.Add(m.Text.Trim());
        var inline = authentication.Child("inline", Ns.Sasl2);
        var fastOffered = new List<string>();
        if (inline?.Child("fast", Ns.Fast) is { } fast)
            foreach (var m in fast.Children)
                if (m.LocalName == "mechanism") fastOffered.Add(m.Text.Trim());
        var binding = Binding();
        var exchange = FastToken is { } token ? SaslExchange.ChooseToken(token, _options.Jid.Local!, fastOffered, binding) : null;
        exchange ??= SaslExchange.Choose(_options, offered, BindingTypes(features), binding, IsSecure)
            ?? throw new XmppNegotiationException("No acceptable SASL mechanism; the server offers " + string.Join(", ", offered));

        var authenticate = new Element("authenticate", Ns.Sasl2).SetAttribute("mechanism", exchange.Mechanism)
            .Add(new Element("initial-response", Ns.Sasl2).AddText(Convert.ToBase64String(exchange.Initial)))
            .Add(new Element("user-agent", Ns.Sasl2).SetAttribute("id", UserAgentId).Add(new Element("software", Ns.Sasl2).AddText(_options.ClientName)));
        if (resumeId is not null && inline?.Child("sm", Ns.StreamManagement) is not null)
            authenticate.Add(new Element("resume", Ns.StreamManagement).SetAttribute("previd", resumeId)
                .SetAttribute("h", handled.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (inline?.Child("bind", Ns.Bind2) is { } bind2)
        {
            // XEP-0386 §3.2.1: the tag becomes the start of the resource.
            var bind = new Element("bind", Ns.Bind2).Add(new Element("tag", Ns.Bind2).AddText(_options.Jid.Resource ?? _options.ClientName));
            var smInline = false;
            if (bind2.Child("inline", Ns.Bind2) is { } features2)
                foreach (var f in features2.Children)
                    smInline |= f.GetAttribute("var") == Ns.StreamManagement;
            if (smInline && !_options.Raw && _options.StreamManagement) bind.Add(new Element("enable", Ns.StreamManagement).SetAttribute("resume", "true"));
            authenticate.Add(bind);
        }
        string? requested = null;
        if (exchange.IsToken) authenticate.Add(new Element("fast", Ns.Fast));
        else if (_options.RequestFastToken && SaslExchange.TokenMechanismFor(fastOffered, binding) is { } tokenMechanism)
        {
            requested = tokenMechanism;
            authenticate.Add(new Element("request-token", Ns.Fast).SetAttribute("mechanism", tokenMechanism));
        }

        var answer = await SaslStepAsync(authenticate, ct).ConfigureAwait(false);
        while (answer.LocalName == "challenge" && answer.Namespace == Ns.Sasl2)
        {
            if (exchange.Respond(Convert.FromBase64String(answer.Text.Trim()), out var error) is not { } response)
            {
                await WriteDirectAsync(new Element("abort", Ns.Sasl2), ct).ConfigureAwait(false);
                throw new XmppAuthenticationException("server-rejected", error);
            }
            answer = await SaslStepAsync(new Element("response", Ns.Sasl2).AddText(Convert.ToBase64String(response)), ct).ConfigureAwait(false);
        }
        if (answer.LocalName == "continue")
        {
            await WriteDirectAsync(new Element("abort", Ns.Sasl2), ct).ConfigureAwait(false);
            throw new XmppNegotiationException("The server asks for SASL2 tasks, which this client does not perform");
        }
        if (answer.LocalName != "success" || answer.Namespace != Ns.Sasl2)
        {
            if (exchange.IsToken) SetFastToken(null);
            throw Failure(answer);
        }
        var final = answer.ChildText("additional-data", Ns.Sasl2)?.Trim();
        if (!exchange.VerifyFinal(string.IsNullOrEmpty(final) || final == "=" ? [] : Convert.FromBase64String(final)))
            throw new XmppAuthenticationException("server-not-verified", "The server could not prove it knows the credentials");
        Mechanism = exchange.Mechanism;
        ChannelBindingType = exchange.BindingType;
        UsedSasl2 = true;
        UsedFastToken = exchange.IsToken;
        // XEP-0484 §3.3 and §3.5: a new token, asked for or rotated.
        if (answer.Child("token", Ns.Fast) is { } issued && issued.GetAttribute("token") is { Length: > 0 } secret)
        {
            DateTimeOffset.TryParse(issued.GetAttribute("expiry"), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var expiry);
            SetFastToken(new FastToken(secret, requested ?? FastToken?.Mechanism ?? exchange.Mechanism, expiry));
        }
        uint? resumedH = null;
        if (answer.Child("resumed", Ns.StreamManagement) is { } resumed
            && uint.TryParse(resumed.GetAttribute("h"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h))
            resumedH = h;
        var bound = answer.Child("bound", Ns.Bind2);
        if (bound is not null && Jid.TryParse(answer.ChildText("authorization-identifier", Ns.Sasl2), out var full) && full.Resource is not null)
            BoundJid = full;
        // §2.6.1: the features of the authenticated stream follow at once, with no restart.
        var after = await NextElementAsync(ct).ConfigureAwait(false);
        if (after.Name != new QName(Ns.Streams, "features")) throw new XmppNegotiationException("Expected stream features after SASL2 success");
        return new Sasl2Outcome(after, bound is not null && resumedH is null, resumedH, bound?.Child("enabled", Ns.StreamManagement));
    }

    private void SetFastToken(FastToken? token)
    {
        FastToken = token;
        FastTokenChanged?.Invoke(this, token);
    }

    private async Task<Element> SaslStepAsync(Element request, CancellationToken ct)
    {
        await WriteAsync(request, ct).ConfigureAwait(false);
        return await NextElementAsync(ct).ConfigureAwait(false);
    }

    private static XmppAuthenticationException Failure(Element failure)
    {
        string condition = "undefined-condition";
        string? text = null;
        foreach (var child in failure.Children)
        {
            if (child.LocalName == "text") text = child.Text;
            else condition = child.LocalName;
        }
        return new XmppAuthenticationException(condition, text);
    }

    private async Task BindAsync(Element features, CancellationToken ct)
    {
        if (features.Child("bind", Ns.Bind) is null) throw new XmppNegotiationException("The server offers no resource binding");
        var bind = new Element("bind", Ns.Bind);
        if (_options.Jid.Resource is { } resource) bind.Add(new Element("resource", Ns.Bind).AddText(resource));
        var id = NextId();
        await WriteDirectAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", id).Add(bind), ct).ConfigureAwait(false);
        var reply = await NextElementAsync(ct).ConfigureAwait(false);
        if (reply.GetAttribute("type") != "result" || reply.GetAttribute("id") != id)
        {
            var condition = reply.Child("error", Ns.Client)?.FirstChild()?.LocalName ?? "unexpected reply";
            throw new XmppNegotiationException("Resource binding failed: " + condition);
        }
        var jid = reply.Child("bind", Ns.Bind)?.ChildText("jid", Ns.Bind);
        if (jid is null || !Jid.TryParse(jid, out var bound)) throw new XmppNegotiationException("The server bound no valid JID");
        BoundJid = bound;
        // RFC 6121 Appendix E: only a session feature without <optional/> still needs the request.
        if (features.Child("session", Ns.Session) is { } session && session.Child("optional", Ns.Session) is null)
        {
            var sid = NextId();
            await WriteDirectAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", sid).Add(new Element("session", Ns.Session)), ct).ConfigureAwait(false);
            await NextElementAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task<XmlFrame> NextFrameAsync(CancellationToken ct)
    {
        while (true)
        {
            var read = await _input!.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            var found = _framer.TryRead(ref buffer, out var frame);
            _input.AdvanceTo(buffer.Start, found ? buffer.Start : buffer.End);
            if (found)
            {
                if (frame.Kind == XmlFrameKind.Element && frame.Element!.Name == new QName(Ns.Streams, "error"))
                {
                    RemoteStreamError = StreamError.Parse(frame.Element);
                    throw new XmppNegotiationException("Stream error: " + RemoteStreamError.ConditionName + (RemoteStreamError.Text is null ? "" : " (" + RemoteStreamError.Text + ")"));
                }
                if (frame.Kind == XmlFrameKind.StreamClose) throw new XmppNegotiationException("The server closed the stream");
                return frame;
            }
            if (read.IsCompleted) throw new XmppNegotiationException("The server closed the connection");
        }
    }

    private async Task<Element> NextElementAsync(CancellationToken ct)
    {
        var frame = await NextFrameAsync(ct).ConfigureAwait(false);
        return frame.Kind == XmlFrameKind.Element ? frame.Element! : throw new XmppNegotiationException("Unexpected stream restart");
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var read = await _input!.ReadAsync(ct).ConfigureAwait(false);
                Volatile.Write(ref _lastReceived, System.Diagnostics.Stopwatch.GetTimestamp());
                var buffer = read.Buffer;
                try
                {
                    while (_framer.TryRead(ref buffer, out var frame))
                    {
                        if (frame.Kind == XmlFrameKind.StreamClose)
                        {
                            _endedCleanly = true;
                            return;
                        }
                        if (frame.Kind != XmlFrameKind.Element) continue;
                        var element = frame.Element!;
                        if (element.Name == new QName(Ns.Streams, "error"))
                        {
                            RemoteStreamError = StreamError.Parse(element);
                            return;
                        }
                        if (element.Namespace == Ns.StreamManagement && _sm.Enabled)
                        {
                            OnStreamManagement(element);
                            continue;
                        }
                        if (_sm.Enabled) _sm.CountHandled();
                        Dispatch(element);
                    }
                }
                finally
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }
                if (read.IsCompleted) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or XmlStreamException or InvalidOperationException)
        {
            // The connection ended.
        }
    }

    // XEP-0198 §4: answer the server's requests, and drop what it acknowledges from the queue.
    private void OnStreamManagement(Element element)
    {
        switch (element.LocalName)
        {
            case "r":
                _ = WriteDirectQuietlyAsync(new Element("a", Ns.StreamManagement)
                    .SetAttribute("h", _sm.Handled.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case "a" when uint.TryParse(element.GetAttribute("h"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h):
                _sm.Acknowledge(h);
                break;
        }
    }

    private async Task WriteDirectQuietlyAsync(Element nonza)
    {
        try
        {
            await WriteDirectAsync(nonza, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is going; the next one starts over.
        }
    }

    // Writes a nonza (or anything not counted by stream management) now.
    private async Task WriteDirectAsync(Element element, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ElementWriter.Write(_output!, element, Ns.Client);
            await _output!.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Dispatch(Element element)
    {
        if (element.LocalName == "iq" && element.Namespace == Ns.Client
            && element.GetAttribute("type") is "result" or "error"
            && element.GetAttribute("id") is { } id
            && _pending.TryGetValue(id, out var tcs)
            && IsReplyFrom(element.GetAttribute("from"), (string)tcs.Task.AsyncState!))
        {
            _pending.TryRemove(id, out _);
            tcs.TrySetResult(element);
            return;
        }
        StanzaReceived?.Invoke(this, element);
        if (!_options.Raw && element.Namespace == Ns.Client)
        {
            switch (element.LocalName)
            {
                case "iq": OnIncomingIq(element); break;
                case "message": OnIncomingMessage(element); break;
                case "presence": OnIncomingPresence(element); break;
            }
        }
        if (_options.ReceiveQueueCapacity > 0) _incoming.Writer.TryWrite(element);
    }

    private void OnIncomingIq(Element iq)
    {
        IqType type;
        switch (iq.GetAttribute("type"))
        {
            case "get": type = IqType.Get; break;
            case "set": type = IqType.Set; break;
            default: return;
        }
        _ = Task.Run(() => AnswerIqAsync(iq, type, _stop.Token));
    }

    // RFC 6120 §8.2.3: every get and set gets exactly one result or error.
    private async Task AnswerIqAsync(Element iq, IqType type, CancellationToken ct)
    {
        var reply = new Element("iq", Ns.Client).SetAttribute("id", iq.GetAttribute("id") ?? "");
        if (iq.GetAttribute("from") is { } from) reply.SetAttribute("to", from);
        // A component answers from the address the request went to (any JID of its domain).
        if (_options.Component && iq.GetAttribute("to") is { } to) reply.SetAttribute("from", to);
        try
        {
            var payload = iq.FirstChild();
            if (payload is null || iq.ChildCount != 1) throw new StanzaException(StanzaError.BadRequest("An IQ request carries one payload"));
            if (!_iqHandlers.TryGetValue(payload.Name, out var handler)) throw new StanzaException(StanzaError.ServiceUnavailable);
            var result = await handler(iq, type, ct).ConfigureAwait(false);
            reply.SetAttribute("type", "result");
            if (result is not null) reply.Add(result);
        }
        catch (StanzaException e)
        {
            reply.SetAttribute("type", "error").Add(e.Error.ToElement());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reply.SetAttribute("type", "error").Add(StanzaError.InternalServerError().ToElement());
        }
        try
        {
            await WriteAsync(reply, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The stream ended before the answer could go out.
        }
    }

    private void OnIncomingMessage(Element message)
    {
        var inner = message;
        var carbon = CarbonDirection.None;
        var fromAccount = IsFromOwnAccount(message.GetAttribute("from"));
        // XEP-0280 §11: only the account itself may send carbons.
        if (fromAccount && (message.Child("received", Ns.Carbons) ?? message.Child("sent", Ns.Carbons)) is { } wrapper
            && wrapper.Child("forwarded", Ns.Forward)?.Child("message", Ns.Client) is { } forwarded)
        {
            inner = forwarded;
            carbon = wrapper.LocalName == "received" ? CarbonDirection.Received : CarbonDirection.Sent;
        }
        if (message.Child("result", Ns.Mam) is { } result && Mam.Deliver(message.GetAttribute("from"), result)) return;
        if (message.Child("event", Ns.PubSubEvent) is { } pubsubEvent) Pep.Deliver(message, pubsubEvent);
        var chat = ChatMessage.Parse(inner, carbon);
        if (_options.AutoReceipts && carbon == CarbonDirection.None && chat.RequestsReceipt && chat.Id is not null
            && chat.Type is not ("groupchat" or "error") && chat.From is { } sender)
        {
            // XEP-0184 §5.1: the receipt echoes the id of the message.
            var receipt = new Element("message", Ns.Client).SetAttribute("to", sender.ToString()).SetAttribute("id", NextId())
                .Add(new Element("received", Ns.Receipts).SetAttribute("id", chat.Id));
            _ = SendQuietlyAsync(receipt);
        }
        Muc.Observe(chat);
        MessageReceived?.Invoke(this, chat);
    }

    private void OnIncomingPresence(Element presence)
    {
        var info = PresenceInfo.Parse(presence);
        Roster.Observe(info);
        Disco.Observe(info);
        Muc.Observe(info);
        PresenceReceived?.Invoke(this, info);
    }

    internal bool IsFromOwnAccount(string? from) =>
        from is null || (Jid.TryParse(from, out var jid) && jid.Bare == BoundJid.Bare);

    private async Task SendQuietlyAsync(Element stanza)
    {
        try
        {
            await WriteAsync(stanza, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The stream ended.
        }
    }

    // RFC 6120 §8.2.3 / §10.3.3: a reply comes from whom the request went to; a request without 'to' is answered
    // by the server from the account's bare JID, the domain, or no 'from' at all.
    private bool IsReplyFrom(string? from, string to)
    {
        if (to.Length == 0)
            return from is null || from == BoundJid.Bare.ToString() || from == BoundJid.Domain || from == BoundJid.ToString();
        return from == to || (from is not null && Jid.TryParse(from, out var f) && Jid.TryParse(to, out var t) && f == t);
    }

    /// <summary>Sends a stanza.</summary>
    public Task SendAsync(Element stanza, CancellationToken ct = default) => WriteAsync(stanza, ct);

    /// <summary>
    /// Sends an IQ request to <paramref name="to"/> (null: the account's own server) and returns the result's payload
    /// (null when the result is empty); an error reply throws <see cref="XmppErrorException"/>.
    /// </summary>
    public async Task<Element?> IqAsync(IqType type, Jid? to, Element payload, CancellationToken ct = default)
    {
        var iq = new Element("iq", Ns.Client).SetAttribute("type", type == IqType.Get ? "get" : "set").Add(payload);
        if (to is { } target) iq.SetAttribute("to", target.ToString());
        var reply = await RequestAsync(iq, ct).ConfigureAwait(false);
        if (reply.GetAttribute("type") == "error")
            throw new XmppErrorException(reply.Child("error", Ns.Client) is { } error ? StanzaError.Parse(error) : StanzaError.UndefinedCondition());
        return reply.FirstChild();
    }

    /// <summary>Sends a message; returns its id. XEP-0184: <paramref name="requestReceipt"/> asks for a receipt.</summary>
    public async Task<string> SendMessageAsync(Jid to, string body, string type = "chat", bool requestReceipt = false, CancellationToken ct = default)
    {
        var id = NextId();
        var message = new Element("message", Ns.Client).SetAttribute("to", to.ToString()).SetAttribute("type", type).SetAttribute("id", id)
            .Add(new Element("body", Ns.Client).AddText(body));
        if (type == "chat") message.Add(new Element("active", Ns.ChatStates));
        if (requestReceipt) message.Add(new Element("request", Ns.Receipts));
        await WriteAsync(message, ct).ConfigureAwait(false);
        return id;
    }

    /// <summary>XEP-0085: sends a standalone chat state notification.</summary>
    public Task SendChatStateAsync(Jid to, ChatState state, CancellationToken ct = default)
    {
        if (state == ChatState.None) throw new ArgumentOutOfRangeException(nameof(state));
        var name = state.ToString().ToLowerInvariant();
        // XEP-0334: a chat state is not worth storing.
        return WriteAsync(new Element("message", Ns.Client).SetAttribute("to", to.ToString()).SetAttribute("type", "chat")
            .Add(new Element(name, Ns.ChatStates)).Add(new Element("no-store", Ns.Hints)), ct);
    }

    /// <summary>Sends presence to the server (broadcast to subscribers), with this client's XEP-0115 caps.</summary>
    public Task SendPresenceAsync(string? show = null, string? status = null, int priority = 0, CancellationToken ct = default)
    {
        var presence = new Element("presence", Ns.Client);
        if (show is not null) presence.Add(new Element("show", Ns.Client).AddText(show));
        if (status is not null) presence.Add(new Element("status", Ns.Client).AddText(status));
        if (priority != 0) presence.Add(new Element("priority", Ns.Client).AddText(priority.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (!_options.Raw) presence.Add(CapsElement());
        return WriteAsync(presence, ct);
    }

    /// <summary>Sends unavailable presence (the session stays connected).</summary>
    public Task SendUnavailableAsync(string? status = null, CancellationToken ct = default)
    {
        var presence = new Element("presence", Ns.Client).SetAttribute("type", "unavailable");
        if (status is not null) presence.Add(new Element("status", Ns.Client).AddText(status));
        return WriteAsync(presence, ct);
    }

    /// <summary>XEP-0199: pings an entity (default: the server) and returns the round trip time.</summary>
    public async Task<TimeSpan> PingAsync(Jid? to = null, CancellationToken ct = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await IqAsync(IqType.Get, to ?? Jid.Create(null, BoundJid.Domain), new Element("ping", Ns.Ping), ct).ConfigureAwait(false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>XEP-0280: asks the server to copy this account's messages to this resource.</summary>
    public Task EnableCarbonsAsync(CancellationToken ct = default) => IqAsync(IqType.Set, null, new Element("enable", Ns.Carbons), ct);

    /// <summary>XEP-0054: the vCard of <paramref name="jid"/> (null: the account's own); null when there is none.</summary>
    public async Task<Element?> GetVCardAsync(Jid? jid = null, CancellationToken ct = default)
    {
        try
        {
            var vcard = await IqAsync(IqType.Get, jid?.Bare, new Element("vCard", Ns.VCard), ct).ConfigureAwait(false);
            return vcard is null || vcard.IsEmpty ? null : vcard;
        }
        catch (XmppErrorException e) when (e.Condition is "item-not-found")
        {
            return null;
        }
    }

    /// <summary>XEP-0054: publishes the account's vCard (a <c>vCard</c> element in <c>vcard-temp</c>).</summary>
    public Task SetVCardAsync(Element vcard, CancellationToken ct = default) => IqAsync(IqType.Set, null, vcard, ct);

    /// <summary>XEP-0191: the JIDs the account blocks.</summary>
    public async Task<IReadOnlyList<Jid>> GetBlocklistAsync(CancellationToken ct = default)
    {
        var list = new List<Jid>();
        var result = await IqAsync(IqType.Get, null, new Element("blocklist", Ns.Blocking), ct).ConfigureAwait(false);
        if (result is not null)
            foreach (var item in result.Children)
                if (Jid.TryParse(item.GetAttribute("jid"), out var jid)) list.Add(jid);
        return list;
    }

    /// <summary>XEP-0191: blocks JIDs.</summary>
    public Task BlockAsync(IEnumerable<Jid> jids, CancellationToken ct = default) => BlockingAsync("block", jids, ct);

    /// <summary>XEP-0191: unblocks JIDs (none given: everyone).</summary>
    public Task UnblockAsync(IEnumerable<Jid> jids, CancellationToken ct = default) => BlockingAsync("unblock", jids, ct);

    private Task BlockingAsync(string verb, IEnumerable<Jid> jids, CancellationToken ct)
    {
        var payload = new Element(verb, Ns.Blocking);
        foreach (var jid in jids) payload.Add(new Element("item", Ns.Blocking).SetAttribute("jid", jid.ToString()));
        return IqAsync(IqType.Set, null, payload, ct);
    }

    /// <summary>XEP-0077 §3.3: changes the account's password.</summary>
    public Task ChangePasswordAsync(string password, CancellationToken ct = default) =>
        IqAsync(IqType.Set, Jid.Create(null, BoundJid.Domain), new Element("query", Ns.Register)
            .Add(new Element("username", Ns.Register).AddText(BoundJid.Local ?? ""))
            .Add(new Element("password", Ns.Register).AddText(password)), ct);

    /// <summary>XEP-0077 §3.2: deletes the account (the server then closes the stream).</summary>
    public Task DeleteAccountAsync(CancellationToken ct = default) =>
        IqAsync(IqType.Set, Jid.Create(null, BoundJid.Domain), new Element("query", Ns.Register).Add(new Element("remove", Ns.Register)), ct);

    /// <summary>
    /// XEP-0363: asks the server's upload service for a slot, PUTs the content there, and returns the URL to share.
    /// </summary>
    public async Task<Uri> UploadAsync(string fileName, Stream content, long size, string contentType, HttpClient? http = null, CancellationToken ct = default)
    {
        var service = await Disco.FindServiceAsync(Ns.HttpUpload, ct).ConfigureAwait(false)
            ?? throw new XmppErrorException(StanzaError.FeatureNotImplemented("The server offers no HTTP upload service"));
        var slot = await IqAsync(IqType.Get, service, new Element("request", Ns.HttpUpload).SetAttribute("filename", fileName)
            .SetAttribute("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)).SetAttribute("content-type", contentType), ct).ConfigureAwait(false);
        var put = slot?.Child("put", Ns.HttpUpload);
        var get = slot?.Child("get", Ns.HttpUpload)?.GetAttribute("url");
        if (put?.GetAttribute("url") is not { } putUrl || get is null) throw new XmppErrorException(StanzaError.UndefinedCondition("The slot has no URLs"));
        using var request = new HttpRequestMessage(HttpMethod.Put, putUrl) { Content = new StreamContent(content) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        request.Content.Headers.ContentLength = size;
        // XEP-0363 §6: the slot's headers go along, but only those three.
        foreach (var header in put.Children)
        {
            if (header.LocalName != "header" || header.GetAttribute("name") is not { } name) continue;
            if (name is "Authorization" or "Cookie" or "Expires") request.Headers.TryAddWithoutValidation(name, header.Text);
        }
        var owned = http is null;
        http ??= new HttpClient();
        try
        {
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
        }
        finally
        {
            if (owned) http.Dispose();
        }
        return new Uri(get);
    }

    /// <summary>Sends raw XML (already serialized); for tests and tools.</summary>
    public async Task SendRawAsync(string xml, CancellationToken ct = default)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(xml);
            await _output!.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends an IQ get or set and waits for its result or error.</summary>
    public async Task<Element> RequestAsync(Element iq, CancellationToken ct = default)
    {
        var id = iq.GetAttribute("id") ?? NextId();
        iq.SetAttribute("id", id);
        var tcs = new TaskCompletionSource<Element>(iq.GetAttribute("to") ?? "", TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(id, tcs)) throw new InvalidOperationException("An IQ with id " + id + " is already pending");
        try
        {
            await WriteAsync(iq, ct).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(_options.IqTimeout, ct).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>The next incoming stanza that is not a reply to <see cref="RequestAsync"/>.</summary>
    public ValueTask<Element> ReceiveAsync(CancellationToken ct = default) => _incoming.Reader.ReadAsync(ct);

    /// <summary>Every incoming stanza until the stream ends.</summary>
    public async IAsyncEnumerable<Element> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in _incoming.Reader.ReadAllAsync(ct).ConfigureAwait(false)) yield return e;
    }

    private async Task WriteAsync(Element element, CancellationToken ct)
    {
        // XEP-0114 §3.1: a component addresses every stanza it sends; by default from its own domain.
        if (_options.Component && element.GetAttribute("from") is null && Stanza.IsStanza(element) && BoundJid != default)
            element.SetAttribute("from", BoundJid.ToString());
        if (element.LocalName == "presence" && element.GetAttribute("to") is null && Stanza.IsStanza(element)) _lastPresence = element;
        if (!_sm.Enabled || !Stanza.IsStanza(element))
        {
            await WriteDirectAsync(element, ct).ConfigureAwait(false);
            return;
        }
        // XEP-0198: the stanza is queued first; it is written now if the connection is up, or goes out when the
        // session resumes (then ForResend has taken it, and the generation tells this writer not to write it again).
        var generation = _sm.Sent(element);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_online || !_sm.IsCurrent(generation)) return;
            ElementWriter.Write(_output!, element, Ns.Client);
            ElementWriter.Write(_output!, new Element("r", Ns.StreamManagement), Ns.Client);
            await _output!.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is failing: the stanza stays queued and goes out when the session resumes.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    internal string NextId() => "c" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Closes the stream (RFC 6120 §4.4): our close tag, a bounded wait for the server's, then the socket.</summary>
    public async Task CloseAsync(CancellationToken ct = default)
    {
        if (_output is not null && !_closed.Task.IsCompleted)
        {
            try
            {
                await _writeLock.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    ElementWriter.WriteStreamClose(_output);
                    await _output.FlushAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
                if (_readLoop is not null) await _closed.Task.WaitAsync(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or TimeoutException or InvalidOperationException)
            {
                // Closing anyway.
            }
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _tcp?.Dispose();
        _closed.TrySetResult();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await CloseAsync().ConfigureAwait(false);
        if (_readLoop is not null)
        {
            try
            {
                await _readLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_ssl is not null) await _ssl.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _writeLock.Dispose();
    }
}
