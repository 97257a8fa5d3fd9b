using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Parley.Server.Diagnostics;
using Parley.Server.Hooks;
using Parley.Server.Modules;
using Parley.Server.Routing;

namespace Parley.Server.Connections;

/// <summary>
/// One client-to-server XML stream (RFC 6120 §4) on one connection: it frames input, negotiates TLS, SASL and
/// binding through the modules, stamps and routes stanzas, and writes output through one bounded queue.
/// It is the connection's single error boundary.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The semaphore and token source hold no unmanaged resources (no wait handle, no timer); other threads may still touch them while the stream winds down.")]
public sealed class XmppStream : IStreamContext
{
    private static readonly SslApplicationProtocol XmppClientAlpn = new("xmpp-client"u8.ToArray());

    private readonly ConnectionContext _connection;
    private readonly C2sServices _s;
    private readonly bool _directTls;
    private readonly ConnectionKind _kind;
    private readonly XmlFramer _framer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _aborted = new();
    private PipeReader _input;
    private PipeWriter _output;
    private SslStream? _ssl;
    private Channel<Element>? _outbox;
    private Task? _writerLoop;
    private bool _headerSent;
    private bool _tlsPending;
    private bool _restartPending;

    // RFC 7395: a WebSocket connection (already inside HTTPS): <open/> and <close/> framing, every element standalone,
    // and a NUL after each so the WebSocket pump knows where one message ends.
    private readonly bool _framing;
    private int _closing;
    private StreamError? _closeError;
    private long _lastInput;
    private long _lastOutput;
    private Dictionary<object, object?>? _items;
    private ClientSession? _session;
    private bool _clientClosed;
    private int _ackRequested;

    internal XmppStream(ConnectionContext connection, C2sServices services, bool directTls, bool framing = false, ConnectionKind? kind = null)
    {
        _connection = connection;
        _s = services;
        _directTls = directTls;
        _framing = framing;
        _kind = kind ?? (framing ? ConnectionKind.WebSocket : directTls ? ConnectionKind.C2sTls : ConnectionKind.C2sTcp);
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _framer = StreamIo.Framer(services.Options.Limits, framing);
        StreamId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        RemoteAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        OpenedAt = services.Time.GetTimestamp();
        _lastInput = _lastOutput = OpenedAt;
    }

    /// <inheritdoc />
    public string StreamId { get; }

    /// <inheritdoc />
    public IPAddress? RemoteAddress { get; }

    /// <inheritdoc />
    public bool IsSecure => _ssl is not null || _framing;

    /// <inheritdoc />
    public SslProtocols? TlsProtocol => _ssl?.SslProtocol;

    /// <inheritdoc />
    public IChannelBindingSource? ChannelBinding { get; private set; }

    /// <inheritdoc />
    public Jid? Account { get; private set; }

    /// <inheritdoc />
    public Jid? BoundJid { get; private set; }

    /// <inheritdoc />
    public IDictionary<object, object?> Items => _items ??= [];

    /// <summary>The bound session (which may outlive this connection with XEP-0198), or null before binding.</summary>
    internal ClientSession? Session => _session;

    /// <summary>Whether plaintext negotiation is allowed for this connection (loopback only, and only when configured).</summary>
    public bool PlaintextAllowed => _s.Options.Tls.AllowPlaintextOnLoopback && RemoteAddress is not null && IPAddress.IsLoopback(RemoteAddress);

    internal long OpenedAt { get; }

    internal Stage Stage => Account is null
        ? (IsSecure ? Stage.PreAuth : Stage.PreTls)
        : (BoundJid is null ? Stage.Authenticated : Stage.Bound);

    /// <summary>Runs the stream until it ends. Never throws: this is the connection's error boundary.</summary>
    internal Task RunAsync()
    {
        var ct = _aborted.Token;
        _s.Streams.Add(this);
        _s.Metrics.ConnectionOpened(_kind);
        C2sLog.Opened(_s.Log, StreamId, RemoteAddress?.ToString(), _directTls);
        return StreamIo.RunAsync(
            async () =>
            {
                if (_directTls) await UpgradeToTlsAsync([XmppClientAlpn], ct).ConfigureAwait(false);
                await ReadLoopAsync(ct).ConfigureAwait(false);
            },
            error => CloseAsync(error, CancellationToken.None),
            reason => C2sLog.Dropped(_s.Log, StreamId, reason),
            e => C2sLog.Failed(_s.Log, StreamId, e),
            TeardownAsync);
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var read = await _input.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (!buffer.IsEmpty) Volatile.Write(ref _lastInput, _s.Time.GetTimestamp());
            var upgrade = false;
            try
            {
                while (Volatile.Read(ref _closing) == 0 && _framer.TryRead(ref buffer, out var frame))
                {
                    await HandleFrameAsync(frame, ct).ConfigureAwait(false);
                    if (_restartPending)
                    {
                        // RFC 6120 §6.4.6: after SASL success the client opens a new stream on the same bytes.
                        _restartPending = false;
                        _framer.Reset();
                        _headerSent = false;
                    }
                    if (_tlsPending)
                    {
                        upgrade = true;
                        break;
                    }
                }
            }
            finally
            {
                _input.AdvanceTo(buffer.Start, upgrade ? buffer.Start : buffer.End);
            }
            if (Volatile.Read(ref _closing) != 0) return;
            if (upgrade)
            {
                _tlsPending = false;
                await UpgradeToTlsAsync(null, ct).ConfigureAwait(false);
                continue;
            }
            if (read.IsCompleted)
            {
                if (!buffer.IsEmpty) throw new XmlStreamException(StreamError.NotWellFormed("The stream ended inside an element"));
                return;
            }
        }
    }

    private async ValueTask UpgradeToTlsAsync(List<SslApplicationProtocol>? alpn, CancellationToken ct)
    {
        // RFC 6120 §5.4.3.3: TLS starts on the bytes right after <proceed/>; the framer starts over.
        var transport = new DuplexPipeStream(_connection.Transport.Input, _connection.Transport.Output);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(Math.Min(30, _s.Options.Limits.NegotiationTimeoutSeconds)));
            await ssl.AuthenticateAsServerAsync(_s.Certificates.ServerOptions(alpn), timeout.Token).ConfigureAwait(false);
        }
        _ssl = ssl;
        if (_s.Options.Tls.ReleaseIdleBuffers) TlsIdleBuffers.Apply(ssl);
        ChannelBinding = new ServerChannelBinding(_s.Certificates.TlsServerEndPoint, ssl);
        _input = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true));
        _framer.Reset();
        _headerSent = false;
        C2sLog.TlsEstablished(_s.Log, StreamId, ssl.SslProtocol.ToString(), ssl.NegotiatedCipherSuite.ToString());
    }

    private async ValueTask HandleFrameAsync(XmlFrame frame, CancellationToken ct)
    {
        switch (frame.Kind)
        {
            case XmlFrameKind.StreamOpen:
                await OpenAsync(frame.Header!, ct).ConfigureAwait(false);
                break;
            case XmlFrameKind.StreamClose:
                // RFC 6120 §4.4: answer the peer's close with ours, then end (XEP-0198 §5: no resumption after it).
                _clientClosed = true;
                await CloseAsync(null, ct).ConfigureAwait(false);
                break;
            default:
                await HandleElementAsync(frame.Element!, ct).ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask OpenAsync(StreamHeader header, CancellationToken ct)
    {
        // RFC 6120 §4.7: the response header, then features (or the error that refuses the stream).
        if (header.ContentNamespace != Ns.Client)
            throw new XmlStreamException(StreamError.InvalidNamespace("This port serves jabber:client streams"));
        if (header.To is not null && (!Jid.TryParse(header.To, out var to) || !to.IsDomain || to.Domain != _s.Addresses.Domain))
            throw new XmlStreamException(StreamError.HostUnknown("This server does not serve " + header.To));
        // §4.7.5: no version means a pre-RFC-3920 peer, which this server does not speak.
        if (header.Version is null || !header.Version.StartsWith("1.", StringComparison.Ordinal))
            throw new XmlStreamException(StreamError.UnsupportedVersion("Version 1.0 is required"));

        string? clientJid = null;
        if (Account is { } account && header.From is not null && Jid.TryParse(header.From, out var from) && from.Bare == account)
            clientJid = from.ToString();
        await WriteHeaderAsync(clientJid, ct).ConfigureAwait(false);
        var features = _s.Modules.BuildFeatures(Stage, this);
        await SendAsync(features, ct).ConfigureAwait(false);
    }

    private ValueTask WriteHeaderAsync(string? to, CancellationToken ct)
    {
        _headerSent = true;
        var header = new StreamHeader(to, _s.Addresses.Domain, StreamId, "1.0", "en", Ns.Client, Ns.Streams);
        return WriteAsync((w, h) => WriteHeader(w, h), header, ct);
    }

    private void WriteElement(IBufferWriter<byte> output, Element element)
    {
        ElementWriter.Write(output, element, _framing ? Ns.Framing : Ns.Client);
        if (_framing) output.Write("\0"u8);
    }

    private void WriteHeader(IBufferWriter<byte> output, StreamHeader header)
    {
        ElementWriter.WriteStreamHeader(output, _framing ? header with { StreamNamespace = Ns.Framing } : header);
        if (_framing) output.Write("\0"u8);
    }

    private async ValueTask HandleElementAsync(Element element, CancellationToken ct)
    {
        var stage = Stage;
        if (stage == Stage.Bound && Stanza.IsStanza(element))
        {
            await HandleStanzaAsync(element, ct).ConfigureAwait(false);
            return;
        }
        if (_s.Modules.TryGetStreamElement(element.Name, stage, out var handler))
        {
            await handler(element, this, ct).ConfigureAwait(false);
            return;
        }
        if (stage is Stage.Authenticated or Stage.PreAuth && element.Namespace == Ns.Client && element.LocalName == "iq"
            && await HandleNegotiationIqAsync(element, stage, ct).ConfigureAwait(false))
            return;
        if (Stanza.IsStanza(element))
        {
            // RFC 6120 §6.4.1 / §7.1: no stanzas before authentication and binding.
            throw new XmlStreamException(StreamError.NotAuthorized("Authenticate and bind a resource first"));
        }
        // RFC 6120 §4.9.3.24: a top-level element we do not know.
        throw new XmlStreamException(StreamError.UnsupportedStanzaType(element.LocalName + " is not supported here"));
    }

    // Returns false when the IQ is not for negotiation before authentication (then it is refused as a stanza).
    private async ValueTask<bool> HandleNegotiationIqAsync(Element element, Stage stage, CancellationToken ct)
    {
        if (!Stanza.TryCreate(element, out var iq, out var error))
        {
            if (stage == Stage.PreAuth) return false;
            await SendAsync(ErrorReply(element, error!), ct).ConfigureAwait(false);
            return true;
        }
        var payload = iq.Element.FirstChild();
        if (payload is not null && iq.Element.ChildCount == 1 && _s.Modules.TryGetNegotiationIq(payload.Name, stage, out var handler))
        {
            await handler(iq, this, ct).ConfigureAwait(false);
            return true;
        }
        if (stage == Stage.PreAuth) return false;
        if (iq.IqType is IqType.Get or IqType.Set)
            await SendAsync(iq.CreateErrorReply(StanzaError.NotAuthorized("Bind a resource first")), ct).ConfigureAwait(false);
        return true;
    }

    private async ValueTask HandleStanzaAsync(Element element, CancellationToken ct)
    {
        _s.Metrics.StanzaIn(element);
        if (!Stanza.TryCreate(element, out var stanza, out var error))
        {
            if (_session!.Managed) _session.Handled++;
            if (element.GetAttribute("type") != "error") _session.TryDeliver(ErrorReply(element, error!));
            return;
        }
        var self = BoundJid!.Value;
        // RFC 6120 §8.1.2.1: the server stamps the full JID; a different claimed sender is invalid-from.
        if (stanza.From is { } from && from != self && from != self.Bare)
            throw new XmlStreamException(StreamError.InvalidFrom("A client may only send from its own address"));
        stanza.From = self;
        var session = _session!;
        // XEP-0198 §4: every stanza from the client counts as handled once it is taken in.
        if (session.Managed) session.Handled++;
        if (stanza.Kind == StanzaKind.Iq && !IsValidIq(stanza, out var iqError))
        {
            Router.Bounce(stanza, iqError!, session);
            return;
        }
        C2sLog.StanzaIn(_s.Log, StreamId, element.LocalName, stanza.Id);
        await _s.Router.RouteAsync(stanza, session, ct).ConfigureAwait(false);
    }

    // RFC 6120 §8.2.3: the IQ rules every entity enforces.
    internal static bool IsValidIq(Stanza iq, out StanzaError? error)
    {
        error = null;
        switch (iq.IqType)
        {
            case null:
                error = StanzaError.BadRequest("The IQ type must be get, set, result or error");
                return false;
            case IqType.Get or IqType.Set when iq.Element.ChildCount != 1:
                error = StanzaError.BadRequest("An IQ get or set has exactly one child");
                return false;
            case IqType.Get or IqType.Set when iq.Id is null:
                error = StanzaError.BadRequest("An IQ request needs an id");
                return false;
            default:
                return true;
        }
    }

    private Element ErrorReply(Element element, StanzaError error)
    {
        // The stanza could not even be parsed (e.g. jid-malformed): answer without echoing its addresses.
        var reply = new Element(element.Name).SetAttribute("type", "error");
        if (element.GetAttribute("id") is { } id) reply.SetAttribute("id", id);
        if (BoundJid is { } self) reply.SetAttribute("to", self.ToString());
        reply.Add(error.ToElement());
        return reply;
    }

    /// <inheritdoc />
    public async ValueTask SendAsync(Element element, CancellationToken ct)
    {
        if (_outbox is not null)
        {
            Enqueue(element);
            return;
        }
        await WriteAsync((w, e) => WriteElement(w, e), element, ct).ConfigureAwait(false);
    }

    /// <summary>Queues an element for this connection (stanzas come through the session, which counts them).</summary>
    internal bool Enqueue(Element stanza)
    {
        if (_outbox is null || Volatile.Read(ref _closing) != 0) return false;
        if (_outbox.Writer.TryWrite(stanza)) return true;
        // A client that cannot keep up is disconnected, never buffered without bound.
        _ = CloseAsync(StreamError.ResourceConstraint("Too much output is waiting for this client"), CancellationToken.None).AsTask();
        return false;
    }

    private async ValueTask WriteAsync<T>(Action<IBufferWriter<byte>, T> write, T state, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            write(_output, state);
            await _output.FlushAsync(ct).ConfigureAwait(false);
            Volatile.Write(ref _lastOutput, _s.Time.GetTimestamp());
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteAndCount(IBufferWriter<byte> output, Element element)
    {
        WriteElement(output, element);
        _s.Metrics.StanzaOut(element);
    }

    private Task WriterLoopAsync(ChannelReader<Element> reader) =>
        StreamIo.DrainAsync(reader, _writeLock, () => _output, WriteAndCount,
            output =>
            {
                // XEP-0198 §4: ask for an acknowledgement of what was sent, one request at a time.
                if (_session is { Managed: true, HasUnacked: true } && Interlocked.Exchange(ref _ackRequested, 1) == 0)
                    WriteElement(output, new Element("r", Ns.StreamManagement));
            },
            () => Volatile.Write(ref _lastOutput, _s.Time.GetTimestamp()),
            _aborted);

    /// <inheritdoc />
    void IStreamContext.StartTls() => _tlsPending = true;

    /// <inheritdoc />
    void IStreamContext.Authenticated(Jid account)
    {
        Account = account.Bare;
        _restartPending = true;
        Items.Clear();
    }

    /// <inheritdoc />
    async ValueTask<bool> IStreamContext.BindAsync(Jid fullJid, CancellationToken ct)
    {
        var session = new ClientSession(this, fullJid, _s);
        if (!_s.Sessions.TryAdd(session, _s.Options.Limits.MaxResourcesPerAccount, out var replaced))
            return false;
        BoundJid = fullJid;
        _session = session;
        StartOutput();
        if (replaced is not null)
        {
            // RFC 6120 §7.7.2.2: the new session wins; the old one gets <conflict/>.
            await replaced.CloseAsync(StreamError.Conflict("Replaced by a new connection for this resource"), ct).ConfigureAwait(false);
        }
        C2sLog.Bound(_s.Log, StreamId, fullJid.ToString());
        await _s.Hooks.RunAsync(new SessionBound(session), ct).ConfigureAwait(false);
        return true;
    }

    private void StartOutput()
    {
        _outbox = StreamIo.Outbox(_s.Options.Limits);
        _writerLoop = WriterLoopAsync(_outbox.Reader);
    }

    /// <summary>XEP-0198 §3: &lt;enable/&gt; on a bound stream.</summary>
    internal async ValueTask EnableManagementAsync(bool resume, int? requestedSeconds, CancellationToken ct)
    {
        var session = _session!;
        if (session.Managed)
        {
            await SendAsync(SmFailed("unexpected-request", null), ct).ConfigureAwait(false);
            return;
        }
        var (enabled, id, seconds) = CreateEnabled(session, resume, requestedSeconds);
        session.Enable(id, seconds, enabled);
    }

    // The <enabled/> answer, registering the session for resumption when asked and allowed.
    private (Element Enabled, string? Id, int Seconds) CreateEnabled(ClientSession session, bool resume, int? requestedSeconds)
    {
        var enabled = new Element("enabled", Ns.StreamManagement);
        string? id = null;
        var seconds = _s.Options.StreamManagement.ResumeTimeoutSeconds;
        if (resume && seconds > 0)
        {
            if (requestedSeconds is > 0 && requestedSeconds < seconds) seconds = requestedSeconds.Value;
            id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
            _s.Resumable.Add(id, session);
            enabled.SetAttribute("id", id).SetAttribute("resume", "true")
                .SetAttribute("max", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return (enabled, id, seconds);
    }

    /// <summary>XEP-0388 §2.6.1 without inline requests: authenticated, no restart, the new features follow at once.</summary>
    internal async ValueTask AuthenticatedInlineAsync(Jid account, Element success, CancellationToken ct)
    {
        Account = account.Bare;
        Items.Clear();
        await SendAsync(success, ct).ConfigureAwait(false);
        await SendAsync(_s.Modules.BuildFeatures(Stage, this), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// XEP-0386 Bind2: the session exists, with stream management and carbons enabled as asked, before anything can
    /// be delivered to it; &lt;success/&gt; (with &lt;bound/&gt;) and the features are queued first.
    /// </summary>
    internal async ValueTask BindInlineAsync(Jid account, Jid full, Element success, Element? smEnable, bool carbons, CancellationToken ct)
    {
        Account = account.Bare;
        Items.Clear();
        if (_s.Sessions.Resources(account).Length >= _s.Options.Limits.MaxResourcesPerAccount)
        {
            await CloseAsync(StreamError.ResourceConstraint("Too many sessions for this account"), ct).ConfigureAwait(false);
            return;
        }
        var session = new ClientSession(this, full, _s);
        BoundJid = full;
        _session = session;
        StartOutput();
        var bound = new Element("bound", "urn:xmpp:bind:0");
        if (smEnable is not null)
        {
            var resume = smEnable.GetAttribute("resume") is "true" or "1";
            int? max = int.TryParse(smEnable.GetAttribute("max"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : null;
            var (enabled, id, seconds) = CreateEnabled(session, resume, max);
            bound.Add(enabled);
            session.Enable(id, seconds);
        }
        success.Add(bound);
        Enqueue(success);
        Enqueue(_s.Modules.BuildFeatures(Stage, this));
        if (!_s.Sessions.TryAdd(session, _s.Options.Limits.MaxResourcesPerAccount, out var replaced))
        {
            await CloseAsync(StreamError.ResourceConstraint("Too many sessions for this account"), ct).ConfigureAwait(false);
            return;
        }
        if (replaced is not null)
            await replaced.CloseAsync(StreamError.Conflict("Replaced by a new connection for this resource"), ct).ConfigureAwait(false);
        C2sLog.Bound(_s.Log, StreamId, full.ToString());
        await _s.Hooks.RunAsync(new SessionBound(session), ct).ConfigureAwait(false);
        if (carbons) await _s.Hooks.RunAsync(new InlineEnable(session, Ns.Carbons), ct).ConfigureAwait(false);
    }

    /// <summary>XEP-0388 with XEP-0198 inline: resumption inside &lt;success/&gt;; false (nothing sent) when it cannot be resumed.</summary>
    internal async ValueTask<bool> ResumeInlineAsync(Jid account, string previd, uint h, Element success, CancellationToken ct)
    {
        if (!_s.Resumable.TryGet(previd, out var session) || session.Jid.Bare != account.Bare || await EndIfExpiredAsync(session).ConfigureAwait(false)) return false;
        Account = account.Bare;
        Items.Clear();
        BoundJid = session.Jid;
        _session = session;
        StartOutput();
        success.Add(new Element("resumed", Ns.StreamManagement).SetAttribute("previd", previd)
            .SetAttribute("h", session.Handled.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (!session.Resume(this, h, [success, _s.Modules.BuildFeatures(Stage, this)], out var previous))
        {
            _session = null;
            BoundJid = null;
            _outbox!.Writer.TryComplete();
            _outbox = null;
            return false;
        }
        C2sLog.Bound(_s.Log, StreamId, session.Jid.ToString());
        if (previous is not null) await previous.CloseAsync(StreamError.Conflict("The session was resumed on another connection"), ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>XEP-0198 §4: the client's &lt;a h=''/&gt;.</summary>
    internal async ValueTask AcknowledgedAsync(uint h, CancellationToken ct)
    {
        var session = _session!;
        Interlocked.Exchange(ref _ackRequested, 0);
        if (!session.Acknowledge(h, out var sent))
            await CloseAsync(HandledCountTooHigh(h, sent), ct).ConfigureAwait(false);
    }

    /// <summary>XEP-0198 §4: the client's &lt;r/&gt;, answered with how many of its stanzas were handled.</summary>
    internal ValueTask AckRequestedAsync(CancellationToken ct) =>
        SendAsync(new Element("a", Ns.StreamManagement).SetAttribute("h", _session!.Handled.ToString(System.Globalization.CultureInfo.InvariantCulture)), ct);

    /// <summary>XEP-0198 §5: &lt;resume/&gt; after authentication, in place of binding.</summary>
    // XEP-0198 §5: past its 'max' a session is not resumed, even if the periodic sweep has not ended it yet; ending
    // it here routes its unacknowledged stanzas again (offline storage or the sender) before the new session starts.
    private async ValueTask<bool> EndIfExpiredAsync(ClientSession session)
    {
        if (!session.Expired(_s.Time.GetTimestamp())) return false;
        await session.EndAsync(null).ConfigureAwait(false);
        return true;
    }

    internal async ValueTask ResumeAsync(string previd, uint h, CancellationToken ct)
    {
        if (!_s.Resumable.TryGet(previd, out var session) || session.Jid.Bare != Account || await EndIfExpiredAsync(session).ConfigureAwait(false))
        {
            await SendAsync(SmFailed("item-not-found", null), ct).ConfigureAwait(false);
            return;
        }
        BoundJid = session.Jid;
        _session = session;
        StartOutput();
        var resumed = new Element("resumed", Ns.StreamManagement).SetAttribute("previd", previd)
            .SetAttribute("h", session.Handled.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!session.Resume(this, h, [resumed], out var previous))
        {
            _session = null;
            BoundJid = null;
            _outbox!.Writer.TryComplete();
            _outbox = null;
            await WriteAsync((w, e) => WriteElement(w, e), SmFailed("item-not-found", null), ct).ConfigureAwait(false);
            return;
        }
        C2sLog.Bound(_s.Log, StreamId, session.Jid.ToString());
        // The old connection, if the server had not yet noticed it was gone, is closed without ending the session.
        if (previous is not null) await previous.CloseAsync(StreamError.Conflict("The session was resumed on another connection"), ct).ConfigureAwait(false);
    }

    private static Element SmFailed(string condition, uint? h)
    {
        var failed = new Element("failed", Ns.StreamManagement);
        if (h is { } handled) failed.SetAttribute("h", handled.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return failed.Add(new Element(condition, Ns.Stanzas));
    }

    private static StreamError HandledCountTooHigh(uint h, uint sent) =>
        StreamError.UndefinedCondition("The acknowledged count is higher than what was sent") with
        {
            ApplicationCondition = new Element("handled-count-too-high", Ns.StreamManagement)
                .SetAttribute("h", h.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .SetAttribute("send-count", sent.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };

    /// <summary>Closes the stream: an optional stream error, then the closing tag (RFC 6120 §4.4, §4.9.1).</summary>
    public async ValueTask CloseAsync(StreamError? error, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        _closeError = error;
        if (error is not null) C2sLog.StreamError(_s.Log, StreamId, error.ConditionName, error.Text);
        await StreamIo.CloseAsync(_outbox?.Writer, _writerLoop, _writeLock, _output, output =>
        {
            // §4.9.1.2: an error before our header still needs a header to be well-formed.
            if (!_headerSent)
            {
                _headerSent = true;
                WriteHeader(output, new StreamHeader(null, _s.Addresses.Domain, StreamId, "1.0", "en", Ns.Client, Ns.Streams));
            }
            if (error is not null) WriteElement(output, error.ToElement());
            if (_framing)
            {
                // RFC 7395 §3.6: the closing frame.
                ElementWriter.WriteFramingClose(output);
                output.Write("\0"u8);
            }
            else
            {
                ElementWriter.WriteStreamClose(output);
            }
        }, _aborted).ConfigureAwait(false);
    }

    /// <inheritdoc />
    ValueTask IStreamContext.CloseAsync(StreamError error, CancellationToken ct) => CloseAsync(error, ct);

    /// <summary>Called by the heartbeat: closes idle or stuck streams and keeps quiet ones alive.</summary>
    internal async ValueTask TickAsync(long now)
    {
        var o = _s.Options.Limits;
        var time = _s.Time;
        if (BoundJid is null && time.GetElapsedTime(OpenedAt, now).TotalSeconds > o.NegotiationTimeoutSeconds)
        {
            await CloseAsync(StreamError.ConnectionTimeout("Negotiation took too long"), CancellationToken.None).ConfigureAwait(false);
            return;
        }
        if (time.GetElapsedTime(Volatile.Read(ref _lastInput), now).TotalSeconds > o.IdleTimeoutSeconds)
        {
            await CloseAsync(StreamError.ConnectionTimeout("No traffic for too long"), CancellationToken.None).ConfigureAwait(false);
            return;
        }
        // RFC 7395 §3.5: no whitespace keepalives over WebSocket (its own pings keep it alive).
        if (!_framing && BoundJid is not null && time.GetElapsedTime(Volatile.Read(ref _lastOutput), now).TotalSeconds > o.KeepaliveSeconds
            && _writeLock.Wait(0))
        {
            // RFC 6120 §4.6.1: a whitespace keepalive.
            try
            {
                _output.Write(" "u8);
                await _output.FlushAsync(_aborted.Token).ConfigureAwait(false);
                Volatile.Write(ref _lastOutput, time.GetTimestamp());
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException or InvalidOperationException)
            {
                _aborted.Cancel();
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }

    private async Task TeardownAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        _aborted.Cancel();
        _outbox?.Writer.TryComplete();
        _s.Streams.Remove(this);
        _s.Metrics.ConnectionClosed(_kind);
        if (_session is { } session && ReferenceEquals(session.Stream, this))
        {
            // XEP-0198 §5: a lost connection (or one that timed out) leaves a resumable session waiting; a clean
            // close by the client or a deliberate stream error by the server ends it.
            var lost = _closeError is null ? !_clientClosed : _closeError.Condition == StreamErrorCondition.ConnectionTimeout;
            if (lost && session.ResumeId is not null) session.Detach(this);
            else await session.EndAsync(_closeError).ConfigureAwait(false);
        }
        await StreamIo.CompleteTransportAsync(_connection, _ssl).ConfigureAwait(false);
        C2sLog.Closed(_s.Log, StreamId, BoundJid?.ToString());
    }
}
