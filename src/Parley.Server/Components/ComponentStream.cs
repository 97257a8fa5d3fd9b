using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Components;

/// <summary>
/// One external component's stream (XEP-0114) on one connection: the header names the component's domain, the
/// handshake proves the shared secret, then the component's stanzas are routed like any other and the stanzas for
/// its domain come back through one bounded queue. It is the connection's single error boundary.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The semaphore and token source hold no unmanaged resources; other threads may still touch them while the stream winds down.")]
public sealed class ComponentStream
{
    private readonly ConnectionContext _connection;
    private readonly ComponentServices _s;
    private readonly XmlFramer _framer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _aborted = new();
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<Element> _outbox;
    private ExternalComponent? _component;
    private Task? _writerLoop;
    private bool _headerSent;
    private bool _connected;
    private int _closing;

    internal ComponentStream(ConnectionContext connection, ComponentServices services)
    {
        _connection = connection;
        _s = services;
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _framer = StreamIo.Framer(services.Options.Limits);
        _outbox = StreamIo.Outbox(services.Options.Limits);
        StreamId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        RemoteAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address;
    }

    /// <summary>The stream id, which the handshake digest covers.</summary>
    public string StreamId { get; }

    /// <summary>The peer's address.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>Runs the stream until it ends. Never throws: this is the connection's error boundary.</summary>
    internal async Task RunAsync()
    {
        var ct = _aborted.Token;
        ComponentLog.Opened(_s.Log, StreamId, RemoteAddress?.ToString());
        // A stream that has not completed the handshake in time is closed (RFC 6120 §4.9.3.4).
        await using var negotiation = _s.Time.CreateTimer(_ =>
        {
            if (!Volatile.Read(ref _connected)) _ = CloseAsync(StreamError.ConnectionTimeout("The handshake took too long"), CancellationToken.None).AsTask();
        }, null, TimeSpan.FromSeconds(_s.Options.Limits.NegotiationTimeoutSeconds), Timeout.InfiniteTimeSpan);
        _writerLoop = StreamIo.DrainAsync(_outbox.Reader, _writeLock, () => _output, (output, element) => ElementWriter.Write(output, element, Ns.ComponentAccept),
            null, () => { }, _aborted);
        await StreamIo.RunAsync(
            () => ReadLoopAsync(ct),
            error => CloseAsync(error, CancellationToken.None),
            reason => ComponentLog.Dropped(_s.Log, StreamId, reason),
            e => ComponentLog.Failed(_s.Log, StreamId, e),
            TeardownAsync).ConfigureAwait(false);
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var read = await _input.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            try
            {
                while (Volatile.Read(ref _closing) == 0 && _framer.TryRead(ref buffer, out var frame))
                    await HandleFrameAsync(frame, ct).ConfigureAwait(false);
            }
            finally
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (Volatile.Read(ref _closing) != 0) return;
            if (read.IsCompleted)
            {
                if (!buffer.IsEmpty) throw new XmlStreamException(StreamError.NotWellFormed("The stream ended inside an element"));
                return;
            }
        }
    }

    private ValueTask HandleFrameAsync(XmlFrame frame, CancellationToken ct) => frame.Kind switch
    {
        XmlFrameKind.StreamOpen => OpenAsync(frame.Header!, ct),
        XmlFrameKind.StreamClose => CloseAsync(null, ct),   // RFC 6120 §4.4: answer the peer's close with ours
        _ when _connected => HandleStanzaAsync(frame.Element!, ct),
        _ => Handshake(frame.Element!),
    };

    private async ValueTask OpenAsync(StreamHeader header, CancellationToken ct)
    {
        if (_headerSent) throw new XmlStreamException(StreamError.InvalidXml("The stream was already opened"));
        if (header.ContentNamespace != Ns.ComponentAccept)
            throw new XmlStreamException(StreamError.InvalidNamespace("This port serves jabber:component:accept streams (XEP-0114)"));
        // XEP-0114 §3: 'to' names the component; only configured domains may connect.
        if (header.To is null || !Jid.TryParse(header.To, out var to) || !to.IsDomain || !_s.Components.TryGet(to.Domain, out var component))
            throw new XmlStreamException(StreamError.HostUnknown("No component is configured for " + header.To));
        _component = component;
        await WriteHeaderAsync(component.Domain, ct).ConfigureAwait(false);
    }

    private ValueTask Handshake(Element element)
    {
        if (_component is null || element.LocalName != "handshake" || element.Namespace != Ns.Client)
            throw new XmlStreamException(StreamError.NotAuthorized("Complete the handshake first (XEP-0114 §3)"));
        if (!_component.Verify(StreamId, element.Text))
        {
            ComponentLog.HandshakeFailed(_s.Log, StreamId, _component.Domain);
            throw new XmlStreamException(StreamError.NotAuthorized("The handshake does not match the secret"));
        }
        // XEP-0114 §3: the empty <handshake/> goes out first, then whatever is routed to the component.
        if (!_component.TryAttach(this, new Element("handshake", Ns.Client)))
            throw new XmlStreamException(StreamError.Conflict(_component.Domain + " is already connected"));
        Volatile.Write(ref _connected, true);
        _s.Metrics.ConnectionOpened(Diagnostics.ConnectionKind.Component);
        ComponentLog.Connected(_s.Log, StreamId, _component.Domain);
        return ValueTask.CompletedTask;
    }

    private async ValueTask HandleStanzaAsync(Element element, CancellationToken ct)
    {
        var component = _component!;
        if (!Stanza.IsStanza(element))
            throw new XmlStreamException(StreamError.UnsupportedStanzaType(element.LocalName + " is not supported here"));
        if (!Stanza.TryCreate(element, out var stanza, out var error))
        {
            if (element.GetAttribute("type") != "error") Enqueue(ErrorReply(element, error!));
            return;
        }
        // XEP-0114 §3 / RFC 6120 §8.1: a component addresses every stanza and sends only from its own domain.
        if (stanza.From is not { } from || stanza.To is null)
            throw new XmlStreamException(new StreamError(StreamErrorCondition.ImproperAddressing, "A component's stanza needs 'from' and 'to'"));
        if (from.Domain != component.Domain)
            throw new XmlStreamException(StreamError.InvalidFrom("A component may only send from addresses of " + component.Domain));
        if (stanza.Kind == StanzaKind.Iq && !XmppStream.IsValidIq(stanza, out var iqError))
        {
            Routing.Router.Bounce(stanza, iqError!, component);
            return;
        }
        ComponentLog.StanzaIn(_s.Log, StreamId, element.LocalName, stanza.Id);
        await _s.Router.RouteAsync(stanza, component, ct).ConfigureAwait(false);
    }

    // A stanza that could not be parsed (e.g. jid-malformed): answered without echoing its addresses.
    private static Element ErrorReply(Element element, StanzaError error)
    {
        var reply = new Element(element.Name).SetAttribute("type", "error");
        if (element.GetAttribute("id") is { } id) reply.SetAttribute("id", id);
        return reply.Add(error.ToElement());
    }

    private async ValueTask WriteHeaderAsync(string from, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteHeader(from);
            await _output.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // XEP-0114 §3: no version, so no features; the id is what the handshake digest covers.
    private void WriteHeader(string? from)
    {
        _headerSent = true;
        ElementWriter.WriteStreamHeader(_output, new StreamHeader(null, from, StreamId, null, null, Ns.ComponentAccept, Ns.Streams));
    }

    /// <summary>Queues a stanza for the component; false when the stream is closing or its queue is full (then it closes).</summary>
    internal bool Enqueue(Element stanza)
    {
        if (Volatile.Read(ref _closing) != 0) return false;
        if (_outbox.Writer.TryWrite(stanza)) return true;
        // A component that cannot keep up is disconnected, never buffered without bound.
        _ = CloseAsync(StreamError.ResourceConstraint("Too much output is waiting for this component"), CancellationToken.None).AsTask();
        return false;
    }

    /// <summary>Closes the stream: what is queued, an optional stream error, then the closing tag (RFC 6120 §4.4, §4.9.1).</summary>
    public async ValueTask CloseAsync(StreamError? error, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        if (error is not null) ComponentLog.StreamError(_s.Log, StreamId, error.ConditionName, error.Text);
        // From now on the domain is unreachable: stanzas for it are bounced rather than lost in a closing queue.
        if (_component is { } component) component.Detach(this);
        await StreamIo.CloseAsync(_outbox.Writer, _writerLoop, _writeLock, _output, output =>
        {
            // RFC 6120 §4.9.1.2: an error before our header still needs a header to be well-formed.
            if (!_headerSent) WriteHeader(_component?.Domain);
            if (error is not null) ElementWriter.Write(output, error.ToElement(), Ns.ComponentAccept);
            ElementWriter.WriteStreamClose(output);
        }, _aborted).ConfigureAwait(false);
    }

    private async Task TeardownAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        _component?.Detach(this);
        _aborted.Cancel();
        _outbox.Writer.TryComplete();
        await StreamIo.CompleteTransportAsync(_connection, null).ConfigureAwait(false);
        if (Volatile.Read(ref _connected)) _s.Metrics.ConnectionClosed(Diagnostics.ConnectionKind.Component);
        ComponentLog.Closed(_s.Log, StreamId, _connected ? _component?.Domain : null);
    }
}
