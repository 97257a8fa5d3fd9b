using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Federation;

/// <summary>
/// What the incoming and outgoing server streams share (RFC 6120 §4 with jabber:server content): framing, writing
/// under one lock, STARTTLS in either role, stream restarts and closing. Each subclass is its connection's single
/// error boundary and reacts to frames in <see cref="OnFrameAsync"/>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The semaphore and token source hold no unmanaged resources; other threads may still touch them while the stream winds down.")]
internal abstract class S2sStream
{
    private readonly XmlFramer _framer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Stream _transport;
    private PipeReader _input;
    private PipeWriter _output;
    private bool _headerSent;
    private int _closing;
    private long _lastActivity;
    private Func<CancellationToken, ValueTask>? _upgrade;
    private bool _restart;

    protected S2sStream(S2sPool pool, Stream transport)
    {
        Pool = pool;
        _transport = transport;
        _input = PipeReader.Create(transport, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(transport, new StreamPipeWriterOptions(leaveOpen: true));
        var limits = pool.Options.Limits;
        _framer = new XmlFramer(new XmlFramerOptions { MaxElementBytes = limits.MaxStanzaBytes, MaxDepth = limits.MaxDepth });
        _lastActivity = pool.Time.GetTimestamp();
    }

    protected S2sPool Pool { get; }

    /// <summary>XEP-0368 §3: the ALPN protocol of direct TLS server streams.</summary>
    protected static readonly SslApplicationProtocol XmppServerAlpn = new("xmpp-server"u8.ToArray());

    /// <summary>Cancelled when the stream ends.</summary>
    protected CancellationTokenSource Aborted { get; } = new();

    /// <summary>The stream id the receiving side chose (ours for incoming streams, the peer's for outgoing ones).</summary>
    public string StreamId { get; protected set; } = "";

    /// <summary>The TLS layer, once negotiated.</summary>
    protected SslStream? Ssl { get; private set; }

    /// <summary>Whether TLS is in place.</summary>
    public bool IsSecure => Ssl is not null;

    /// <summary>The peer's certificate and the intermediates it sent, after TLS.</summary>
    protected X509Certificate2? PeerCertificate { get; private set; }

    protected X509Certificate2Collection PeerIntermediates { get; } = [];

    /// <summary>Whether the stream is closing or closed.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    protected abstract ValueTask OnFrameAsync(XmlFrame frame, CancellationToken ct);

    /// <summary>Reads frames until the stream ends, performing TLS upgrades and restarts between frames.</summary>
    protected async Task ReadLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var read = await _input.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (!buffer.IsEmpty) Touch();
            var upgrade = false;
            try
            {
                while (!IsClosing && _framer.TryRead(ref buffer, out var frame))
                {
                    await OnFrameAsync(frame, ct).ConfigureAwait(false);
                    if (_restart)
                    {
                        // RFC 6120 §6.4.6: after SASL success both sides start a new stream on the same connection.
                        _restart = false;
                        _framer.Reset();
                        _headerSent = false;
                    }
                    if (_upgrade is not null)
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
            if (IsClosing) return;
            if (upgrade)
            {
                var next = _upgrade!;
                _upgrade = null;
                await next(ct).ConfigureAwait(false);
                continue;
            }
            if (read.IsCompleted)
            {
                if (!buffer.IsEmpty) throw new XmlStreamException(StreamError.NotWellFormed("The stream ended inside an element"));
                return;
            }
        }
    }

    /// <summary>Asks for a stream restart once the current frame is handled (RFC 6120 §4.3.3).</summary>
    protected void RestartAfterFrame() => _restart = true;

    /// <summary>Asks for a TLS handshake once the current frame is handled (after &lt;proceed/&gt;).</summary>
    protected void UpgradeAfterFrame(Func<CancellationToken, ValueTask> upgrade) => _upgrade = upgrade;

    /// <summary>RFC 6120 §5.4.3.3: the server side of the TLS handshake, asking for (not requiring) a client certificate.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5359", Justification = "Judged after the handshake by S2sTrust (see Remember).")]
    protected async ValueTask UpgradeAsServerAsync(List<SslApplicationProtocol>? alpn, CancellationToken ct)
    {
        var options = Pool.Certificates.ServerOptions(alpn);
        options.ClientCertificateRequired = true;
        options.RemoteCertificateValidationCallback = Remember;
        await UpgradeAsync(ssl => ssl.AuthenticateAsServerAsync(options, ct), ct).ConfigureAwait(false);
    }

    /// <summary>The client side of the TLS handshake, presenting this server's certificate (for SASL EXTERNAL).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5359", Justification = "Judged after the handshake by S2sTrust (see Remember).")]
    protected async ValueTask UpgradeAsClientAsync(string targetHost, List<SslApplicationProtocol>? alpn, CancellationToken ct)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificates = [Pool.Certificates.Certificate],
            ApplicationProtocols = alpn,
            // Identity is judged after the handshake (S2sTrust): an unproven certificate still carries dialback.
            RemoteCertificateValidationCallback = Remember,
        };
        await UpgradeAsync(ssl => ssl.AuthenticateAsClientAsync(options, ct), ct).ConfigureAwait(false);
    }

    // The handshake accepts any certificate on purpose: S2sTrust judges it afterwards, against the domain the peer
    // claims, and a certificate that proves nothing leaves dialback (XEP-0220) to authenticate the peer.
    private bool Remember(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is not null) PeerCertificate = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain is not null)
            for (var i = 1; i < chain.ChainElements.Count; i++) PeerIntermediates.Add(chain.ChainElements[i].Certificate);
        return true;
    }

    private async ValueTask UpgradeAsync(Func<SslStream, Task> handshake, CancellationToken ct)
    {
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        var ssl = new SslStream(_transport, leaveInnerStreamOpen: true);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await handshake(ssl).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        Ssl = ssl;
        if (Pool.Options.Tls.ReleaseIdleBuffers) TlsIdleBuffers.Apply(ssl);
        _input = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true));
        _framer.Reset();
        _headerSent = false;
    }

    /// <summary>RFC 6120 §4.7 with the dialback prefix declared (XEP-0220 §2.4.1: legacy peers look for it).</summary>
    protected ValueTask WriteHeaderAsync(string? to, string? from, string? id, CancellationToken ct)
    {
        var header = new StreamHeader(to, from, id, "1.0", null, Ns.Server, Ns.Streams)
        {
            Prefixes = new Dictionary<string, string> { ["db"] = Ns.Dialback },
        };
        return WriteAsync(w =>
        {
            _headerSent = true;
            ElementWriter.WriteStreamHeader(w, header);
        }, ct);
    }

    /// <summary>Writes one element and flushes.</summary>
    public ValueTask SendAsync(Element element, CancellationToken ct) =>
        WriteAsync(w => ElementWriter.Write(w, element, Ns.Server), ct);

    /// <summary>Writes several elements with one flush.</summary>
    protected ValueTask SendAsync(IReadOnlyList<Element> elements, CancellationToken ct) =>
        WriteAsync(w =>
        {
            foreach (var element in elements) ElementWriter.Write(w, element, Ns.Server);
        }, ct);

    private async ValueTask WriteAsync(Action<IBufferWriter<byte>> write, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (IsClosing && _headerSent) return;
            write(_output);
            await _output.FlushAsync(ct).ConfigureAwait(false);
            Touch();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Pool.Time.GetTimestamp());

    /// <summary>Whether nothing went either way for <paramref name="seconds"/>.</summary>
    internal bool IdleFor(long now, int seconds) => Pool.Time.GetElapsedTime(Volatile.Read(ref _lastActivity), now).TotalSeconds > seconds;

    /// <summary>A header for our side, when the stream must end before we sent one (RFC 6120 §4.9.1.2).</summary>
    protected abstract (string? To, string? From) HeaderAddresses { get; }

    /// <summary>Closes the stream: an optional stream error, then the closing tag (RFC 6120 §4.4, §4.9.1).</summary>
    public async ValueTask CloseAsync(StreamError? error)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        if (error is not null) S2sLog.StreamError(Pool.Log, StreamId, error.ConditionName, error.Text);
        try
        {
            if (!await _writeLock.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false)) return;
            try
            {
                if (!_headerSent)
                {
                    var (to, from) = HeaderAddresses;
                    ElementWriter.WriteStreamHeader(_output, new StreamHeader(to, from, StreamId, "1.0", null, Ns.Server, Ns.Streams));
                }
                if (error is not null) ElementWriter.Write(_output, error.ToElement(), Ns.Server);
                ElementWriter.WriteStreamClose(_output);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _output.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException or InvalidOperationException or TimeoutException)
        {
            // The peer is gone; nothing more to say.
        }
        finally
        {
            await Aborted.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// RFC 6120 §8.1.1.1 / §8.1.2.1 and §4.9.3: a stanza from the peer. Both addresses are required, the recipient's
    /// domain must be served here, and <paramref name="authenticated"/> (sender's domain, recipient's domain) must hold
    /// for the pair on this stream, else invalid-from.
    /// </summary>
    protected async ValueTask RouteInboundAsync(Element element, Func<string, string, bool> authenticated, CancellationToken ct)
    {
        if (!Stanza.TryCreate(element, out var stanza, out _) || stanza.From is not { } from || stanza.To is not { } to)
            throw new XmlStreamException(StreamError.ImproperAddressing("Stanzas between servers need valid 'from' and 'to'"));
        if (!Pool.IsHosted(to.Domain)) throw new XmlStreamException(StreamError.HostUnknown("This server does not serve " + to.Domain));
        if (!authenticated(from.Domain, to.Domain))
            throw new XmlStreamException(StreamError.InvalidFrom(from.Domain + " is not authenticated on this stream"));
        S2sLog.StanzaIn(Pool.Log, StreamId, element.LocalName, stanza.Id);
        var origin = _origin is { } o && o.Jid.Domain == from.Domain ? o : _origin = Pool.RemoteServer(from.Domain);
        await Pool.Router.RouteAsync(stanza, origin, ct).ConfigureAwait(false);
    }

    private RemoteServer? _origin;

    /// <summary>XEP-0220 §2.2.2: as authoritative server, whether a key is ours.</summary>
    protected ValueTask AnswerVerifyAsync(Element verify, CancellationToken ct)
    {
        if (!TryDomain(verify.GetAttribute("from"), out var receiving) || !TryDomain(verify.GetAttribute("to"), out var originating)
            || verify.GetAttribute("id") is not { } id)
            throw new XmlStreamException(StreamError.ImproperAddressing("db:verify needs 'from', 'to' and 'id'"));
        if (!Pool.IsHosted(originating))
            return SendAsync(DialbackError("verify", originating, receiving, id, StanzaError.ItemNotFound()), ct);
        var valid = Pool.Keys.IsValid(receiving, originating, id, verify.Text);
        return SendAsync(new Element("verify", Ns.Dialback).SetAttribute("from", originating).SetAttribute("to", receiving)
            .SetAttribute("id", id).SetAttribute("type", valid ? "valid" : "invalid"), ct);
    }

    /// <summary>XEP-0220 §2.4: a db:result or db:verify of type error.</summary>
    protected static Element DialbackError(string name, string from, string to, string? id, StanzaError error)
    {
        var element = new Element(name, Ns.Dialback).SetAttribute("from", from).SetAttribute("to", to).SetAttribute("type", "error");
        if (id is not null) element.SetAttribute("id", id);
        return element.Add(error.ToElement());
    }

    /// <summary>A bare domain from an attribute.</summary>
    protected static bool TryDomain(string? text, out string domain)
    {
        domain = "";
        if (text is null || !Jid.TryParse(text, out var jid) || !jid.IsDomain) return false;
        domain = jid.Domain;
        return true;
    }

    /// <summary>Runs <paramref name="body"/> as the connection's error boundary, then releases the transport.</summary>
    protected async Task GuardAsync(Func<CancellationToken, Task> body)
    {
        try
        {
            await body(Aborted.Token).ConfigureAwait(false);
        }
        catch (XmlStreamException e)
        {
            await CloseAsync(e.Error).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or AuthenticationException
                                      or ObjectDisposedException or ConnectionAbortedException or System.Net.Sockets.SocketException)
        {
            S2sLog.Dropped(Pool.Log, StreamId, e.GetType().Name + ": " + e.Message);
        }
        catch (Exception e)
        {
            S2sLog.Failed(Pool.Log, StreamId, e);
            await CloseAsync(StreamError.InternalServerError()).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Exchange(ref _closing, 1);
            await Aborted.CancelAsync().ConfigureAwait(false);
            try
            {
                await _input.CompleteAsync().ConfigureAwait(false);
                await _output.CompleteAsync().ConfigureAwait(false);
                if (Ssl is not null) await Ssl.DisposeAsync().ConfigureAwait(false);
                await _transport.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Already torn down.
            }
            S2sLog.Closed(Pool.Log, StreamId);
        }
    }
}
