using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Threading.Channels;
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
    private readonly Channel<Element> _incoming = Channel.CreateUnbounded<Element>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
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
        var domain = _options.Jid.Domain;
        _tcp = new TcpClient { NoDelay = true };
        await _tcp.ConnectAsync(_options.Host ?? domain, _options.Port, token).ConfigureAwait(false);
        _stream = _tcp.GetStream();
        if (_options.DirectTls) await StartTlsAsync([XmppClientAlpn], token).ConfigureAwait(false);
        else SetPipes(_stream);

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

        await AuthenticateAsync(features, token).ConfigureAwait(false);
        features = await OpenStreamAsync(token).ConfigureAwait(false);
        await BindAsync(features, token).ConfigureAwait(false);
        Features = features;
        _readLoop = Task.Run(() => ReadLoopAsync(_stop.Token), CancellationToken.None);
    }

    private async Task StartTlsAsync(List<SslApplicationProtocol>? alpn, CancellationToken ct)
    {
        var ssl = new SslStream(_stream!, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = _options.Jid.Domain,
            EnabledSslProtocols = _options.TlsProtocols,
            RemoteCertificateValidationCallback = _options.CertificateValidation,
            ApplicationProtocols = alpn,
        }, ct).ConfigureAwait(false);
        _ssl = ssl;
        _stream = ssl;
        SetPipes(ssl);
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
        List<string>? bindingTypes = null;
        if (features.Child("sasl-channel-binding", Ns.SaslChannelBinding) is { } cbList)
        {
            bindingTypes = [];
            foreach (var c in cbList.Children)
                if (c.GetAttribute("type") is { } t) bindingTypes.Add(t);
        }
        var binding = _ssl is null ? null : new ClientChannelBinding(_ssl);
        var serverPlus = offered.Exists(m => m.EndsWith("-PLUS", StringComparison.Ordinal));

        foreach (var mechanism in _options.Mechanisms)
        {
            if (!offered.Contains(mechanism)) continue;
            if (mechanism == SaslMechanisms.Plain)
            {
                if (!IsSecure) continue;             // never send a password in the clear
                Mechanism = mechanism;
                var message = SaslPlain.Create(null, _options.Jid.Local!, _options.Password);
                var result = await SaslStepAsync(new Element("auth", Ns.Sasl).SetAttribute("mechanism", mechanism).AddText(Convert.ToBase64String(message)), ct).ConfigureAwait(false);
                if (result.LocalName != "success") throw Failure(result);
                return;
            }
            if (!SaslMechanisms.TryParseScram(mechanism, out var hash, out var plus)) continue;
            string? type = null;
            if (plus)
            {
                if (binding is null) continue;
                foreach (var preferred in _options.ChannelBindingPreference)
                {
                    var serverSupports = bindingTypes is null ? preferred == ChannelBinding.TlsServerEndPoint : bindingTypes.Contains(preferred);
                    if (serverSupports && binding.GetBindingData(preferred) is not null) { type = preferred; break; }
                }
                if (type is null) continue;
            }
            var scram = new ScramClient(hash, plus, _options.Jid.Local!, _options.Password, binding, type, serverPlus, offered)
            {
                AdvertisedBindingTypes = bindingTypes,
            };
            Mechanism = mechanism;
            ChannelBindingType = type;
            var challenge = await SaslStepAsync(new Element("auth", Ns.Sasl).SetAttribute("mechanism", mechanism)
                .AddText(Convert.ToBase64String(scram.CreateClientFirst())), ct).ConfigureAwait(false);
            if (challenge.LocalName != "challenge") throw Failure(challenge);
            if (!scram.TryCreateClientFinal(Convert.FromBase64String(challenge.Text.Trim()), out var final, out var error))
            {
                await WriteAsync(new Element("abort", Ns.Sasl), ct).ConfigureAwait(false);
                throw new XmppAuthenticationException("server-rejected", error);
            }
            var outcome = await SaslStepAsync(new Element("response", Ns.Sasl).AddText(Convert.ToBase64String(final)), ct).ConfigureAwait(false);
            if (outcome.LocalName != "success") throw Failure(outcome);
            var text = outcome.Text.Trim();
            if (!scram.VerifyServerFinal(text.Length == 0 || text == "=" ? [] : Convert.FromBase64String(text)))
                throw new XmppAuthenticationException("server-not-verified", "The server could not prove it knows the credentials");
            return;
        }
        throw new XmppNegotiationException("No acceptable SASL mechanism; the server offers " + string.Join(", ", offered));
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
        await WriteAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", id).Add(bind), ct).ConfigureAwait(false);
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
            await WriteAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("id", sid).Add(new Element("session", Ns.Session)), ct).ConfigureAwait(false);
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
                var buffer = read.Buffer;
                try
                {
                    while (_framer.TryRead(ref buffer, out var frame))
                    {
                        if (frame.Kind == XmlFrameKind.StreamClose) return;
                        if (frame.Kind != XmlFrameKind.Element) continue;
                        var element = frame.Element!;
                        if (element.Name == new QName(Ns.Streams, "error"))
                        {
                            RemoteStreamError = StreamError.Parse(element);
                            return;
                        }
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
            // The stream ended.
        }
        finally
        {
            _incoming.Writer.TryComplete();
            foreach (var (_, tcs) in _pending) tcs.TrySetException(new XmppNegotiationException("The stream closed"));
            _closed.TrySetResult();
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
        _incoming.Writer.TryWrite(element);
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

    private string NextId() => "c" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

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
