using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Connections;

/// <summary>
/// A bound client session (RFC 6120 §7). Usually it lives exactly as long as its connection; with XEP-0198
/// stream management and resumption enabled it outlives a lost connection for the resume timeout, keeps its
/// presence, buffers what arrives for it, and is taken over by the connection that resumes it. Every stanza
/// handed to the client is counted and kept until the client acknowledges it; a session that ends with stanzas
/// unacknowledged hands each back to routing (another resource, offline storage, or an error to its sender), so
/// nothing accepted is silently lost.
/// </summary>
public sealed class ClientSession : IClientSession
{
    private readonly Lock _gate = new();
    private readonly C2sServices _s;
    private readonly Queue<(uint Seq, Element Stanza)> _unacked = new();
    private XmppStream? _stream;
    private bool _ended;
    private uint _sent;
    private uint _acked;
    private readonly ReturnToSender _returnToSender;

    internal ClientSession(XmppStream stream, Jid jid, C2sServices services)
    {
        _returnToSender = new ReturnToSender(services);
        _stream = stream;
        _s = services;
        Jid = jid;
        StreamId = stream.StreamId;
        BoundAt = services.Time.GetUtcNow();
    }

    /// <inheritdoc />
    public Jid Jid { get; }

    /// <inheritdoc />
    public string StreamId { get; }

    /// <inheritdoc />
    public DateTimeOffset BoundAt { get; }

    /// <inheritdoc />
    public SessionPresence Presence { get; } = new();

    /// <summary>The connection the session is on, or null while it waits to be resumed.</summary>
    internal XmppStream? Stream
    {
        get
        {
            lock (_gate) return _stream;
        }
    }

    /// <summary>XEP-0198: whether stream management is on.</summary>
    internal bool Managed { get; private set; }

    /// <summary>XEP-0198: the resumption id, when resumption is on.</summary>
    internal string? ResumeId { get; private set; }

    /// <summary>XEP-0198: seconds the session waits to be resumed.</summary>
    internal int ResumeSeconds { get; private set; }

    /// <summary>XEP-0198 §4: stanzas received from the client since enabling (the server's 'h').</summary>
    internal uint Handled { get; set; }

    /// <summary>When the connection was lost (a timestamp of the time provider), while detached.</summary>
    internal long DetachedAt { get; private set; }

    /// <summary>Whether stanzas sent to the client wait for its acknowledgement.</summary>
    internal bool HasUnacked
    {
        get
        {
            lock (_gate) return _unacked.Count > 0;
        }
    }

    /// <summary>
    /// XEP-0198 §3: turns stream management on (with <paramref name="resumeId"/>, resumption too). The reply, when
    /// given, is queued under the same lock, so that every stanza after it on the wire is counted and none before.
    /// </summary>
    internal void Enable(string? resumeId, int resumeSeconds, Element? reply = null)
    {
        lock (_gate)
        {
            if (reply is not null) _stream?.Enqueue(reply);
            Managed = true;
            ResumeId = resumeId;
            ResumeSeconds = resumeSeconds;
        }
    }

    /// <summary>
    /// XEP-0352: while the client says it is inactive, presence updates and chat states wait (only the newest
    /// presence of each sender is kept) and go out, in order, before the next stanza that matters or when it is
    /// active again.
    /// </summary>
    internal void SetActive(bool active)
    {
        lock (_gate)
        {
            _inactive = !active;
            if (active) FlushHeld();
        }
    }

    /// <summary>How many stanzas wait while the client is inactive.</summary>
    internal int HeldCount
    {
        get
        {
            lock (_gate) return _held?.Count ?? 0;
        }
    }

    private bool _inactive;
    private List<Element>? _held;

    private void FlushHeld()
    {
        if (_held is null || _held.Count == 0) return;
        var held = _held;
        _held = null;
        foreach (var stanza in held) Send(stanza);
    }

    // Presence (but not subscription requests and answers) and messages that carry only a chat state can wait.
    internal static bool CanWait(Element stanza)
    {
        if (stanza.LocalName == "presence")
            return stanza.GetAttribute("type") is null or "unavailable";
        if (stanza.LocalName != "message") return false;
        var inner = stanza;
        // A carbon of a chat state is no more urgent than the chat state.
        var carbon = stanza.Child("received", Ns.Carbons) ?? stanza.Child("sent", Ns.Carbons);
        if (carbon?.Child("forwarded", Ns.Forward)?.Child("message", Ns.Client) is { } forwarded) inner = forwarded;
        var chatState = false;
        foreach (var child in inner.Children)
        {
            if (child.Namespace == Ns.ChatStates) chatState = true;
            else if (child.LocalName == "body" || child.Namespace is Ns.Receipts or Ns.ChatMarkers) return false;
        }
        return chatState;
    }

    private bool Hold(Element stanza)
    {
        _held ??= [];
        if (stanza.LocalName == "presence")
        {
            // Only the newest presence of a sender matters.
            var from = stanza.GetAttribute("from");
            _held.RemoveAll(e => e.LocalName == "presence" && e.GetAttribute("from") == from);
        }
        if (_held.Count >= _s.Options.Limits.OutboundQueueStanzas) FlushHeld();
        else
        {
            _held.Add(stanza);
            return true;
        }
        return Send(stanza);
    }

    /// <inheritdoc />
    public bool TryDeliver(Element stanza)
    {
        lock (_gate)
        {
            if (_ended) return false;
            if (_inactive)
            {
                if (CanWait(stanza)) return Hold(stanza);
                FlushHeld();
            }
            return Send(stanza);
        }
    }

    // Under _gate: counts the stanza for stream management and hands it to the connection.
    private bool Send(Element stanza)
    {
        if (Managed)
        {
            if (_unacked.Count >= _s.Options.Limits.OutboundQueueStanzas)
            {
                // A client that never acknowledges is treated like one that cannot keep up.
                _ = CloseAsync(StreamError.ResourceConstraint("Too many stanzas wait for acknowledgement"), CancellationToken.None).AsTask();
                return false;
            }
            _unacked.Enqueue((++_sent, stanza));
        }
        if (_stream is { } stream && stream.Enqueue(stanza)) return true;
        // Without a connection a managed session keeps the stanza for the resumption (or hands it back at the end).
        return Managed;
    }

    /// <summary>
    /// XEP-0198 §4: the client has handled <paramref name="h"/> stanzas. Returns false when it claims more than
    /// were sent (the caller closes the stream with undefined-condition and &lt;handled-count-too-high/&gt;).
    /// </summary>
    internal bool Acknowledge(uint h, out uint sent)
    {
        lock (_gate)
        {
            sent = _sent;
            if (!AckInRange(h, _acked, _sent)) return false;
            _acked = h;
            while (_unacked.Count > 0 && Covers(h, _unacked.Peek().Seq)) _unacked.Dequeue();
            return true;
        }
    }

    /// <summary>
    /// XEP-0198 §4: counters wrap at 2^32, so an acknowledgement is compared by distance: it may not go back
    /// before the last one nor beyond what was sent.
    /// </summary>
    internal static bool AckInRange(uint h, uint acked, uint sent) => h - acked <= sent - acked;

    /// <summary>Whether an acknowledgement of <paramref name="h"/> covers the stanza numbered <paramref name="seq"/> (modulo 2^32).</summary>
    internal static bool Covers(uint h, uint seq) => (int)(h - seq) >= 0;

    /// <summary>The connection is lost but the session may be resumed: keep everything and wait.</summary>
    internal void Detach(XmppStream stream)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_stream, stream)) return;
            _stream = null;
            DetachedAt = _s.Time.GetTimestamp();
        }
    }

    /// <summary>
    /// XEP-0198 §5: a new connection takes the session over. The client has handled <paramref name="h"/>
    /// stanzas; <paramref name="first"/> goes out first, then every stanza still unacknowledged, in order.
    /// Returns the connection it was taken from (still open when the client came back before the server noticed
    /// the loss), or null; false when the session has ended or <paramref name="h"/> is impossible.
    /// </summary>
    internal bool Resume(XmppStream stream, uint h, Element[] first, out XmppStream? previous)
    {
        lock (_gate)
        {
            previous = null;
            if (_ended) return false;
            if (!AckInRange(h, _acked, _sent)) return false;
            _acked = h;
            while (_unacked.Count > 0 && Covers(h, _unacked.Peek().Seq)) _unacked.Dequeue();
            previous = _stream;
            _stream = stream;
            foreach (var e in first) stream.Enqueue(e);
            foreach (var (_, stanza) in _unacked) stream.Enqueue(stanza);
            return true;
        }
    }

    /// <summary>Whether the session is detached and its resume timeout has passed at <paramref name="now"/>.</summary>
    internal bool Expired(long now)
    {
        lock (_gate)
            return !_ended && _stream is null && _s.Time.GetElapsedTime(DetachedAt, now).TotalSeconds >= ResumeSeconds;
    }

    /// <summary>
    /// Ends the session: it leaves the registry, its contacts hear it is gone, and stanzas the client never
    /// acknowledged are routed again as if it had never existed (RFC 6121 §8.5.3.2).
    /// </summary>
    internal async ValueTask EndAsync(StreamError? error)
    {
        List<Element> unacked;
        lock (_gate)
        {
            if (_ended) return;
            _ended = true;
            _stream = null;
            unacked = new List<Element>(_unacked.Count);
            foreach (var (_, stanza) in _unacked) unacked.Add(stanza);
            _unacked.Clear();
        }
        if (ResumeId is not null) _s.Resumable.Remove(ResumeId, this);
        if (_s.Sessions.Remove(this))
            await _s.Hooks.RunAsync(new SessionClosed(this, error), CancellationToken.None).ConfigureAwait(false);
        foreach (var stanza in unacked) await RerouteAsync(stanza).ConfigureAwait(false);
    }

    // XEP-0198 §5 and §6: a message the client did not acknowledge goes where a message to this resource would
    // go now that it is gone (another resource, offline storage); an IQ request is answered with an error; other
    // stanzas (presence, IQ results) are dropped as out of date.
    private async ValueTask RerouteAsync(Element element)
    {
        if (!Stanza.TryCreate(element, out var stanza, out _)) return;
        switch (stanza.Kind)
        {
            case StanzaKind.Message when stanza.Type is not ("error" or "headline"):
                if (stanza.To is null) stanza.To = Jid;
                await _s.Router.RouteAsync(stanza, _returnToSender, CancellationToken.None).ConfigureAwait(false);
                break;
            case StanzaKind.Iq when stanza.IqType is IqType.Get or IqType.Set && stanza.From is not null:
                var error = Stanza.Create(stanza.CreateErrorReply(StanzaError.ServiceUnavailable));
                error.From = Jid;
                await _s.Router.RouteAsync(error, _s.ServerOrigin, CancellationToken.None).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Ends the session with a stream error on its connection (if it has one); no resumption follows.</summary>
    public async ValueTask CloseAsync(StreamError error, CancellationToken ct)
    {
        var stream = Stream;
        if (stream is not null) await stream.CloseAsync(error, ct).ConfigureAwait(false);
        await EndAsync(error).ConfigureAwait(false);
    }

    // Where errors about a re-routed stanza go: back to its original sender, from the server.
    private sealed class ReturnToSender(C2sServices s) : ISession
    {
        public Jid Jid => s.ServerOrigin.Jid;

        public bool TryDeliver(Element stanza)
        {
            if (Stanza.TryCreate(stanza, out var error, out _) && error.To is not null)
                _ = s.Router.RouteAsync(error, s.ServerOrigin, CancellationToken.None).AsTask();
            return true;
        }
    }
}
