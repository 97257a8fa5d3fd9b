using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;

namespace Parley.Server.Connections;

/// <summary>What one BOSH HTTP request is answered with: a status code and a complete &lt;body/&gt;.</summary>
internal readonly record struct BoshReply(int Status, byte[] Body, string? ContentType = null)
{
    /// <summary>XEP-0124 §17.2: a terminal binding condition (no condition: a plain end of the session).</summary>
    public static BoshReply Terminate(int status, string? condition) =>
        new(status, Encoding.UTF8.GetBytes(condition is null
            ? "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate'/>"
            : $"<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='{condition}'/>"));

    /// <summary>§14.3, §17.1: the sid is unknown, or the session is gone.</summary>
    public static BoshReply UnknownSession { get; } = Terminate(StatusCodes.Status404NotFound, "item-not-found");
}

/// <summary>
/// The table of BOSH sessions (XEP-0124), bounded by <c>Bosh:MaxSessions</c>, and the one timer that answers held
/// requests whose 'wait' has passed and ends sessions whose client has gone quiet for longer than 'inactivity'.
/// </summary>
internal sealed class BoshSessions(C2sServices services, IOptions<ParleyOptions> options, TimeProvider time, ILoggerFactory loggers) : BackgroundService
{
    // XEP-0124 §7.2 'polling': announced so polling clients pace themselves; the limits that matter are 'requests'
    // (§11) and the rid window (§14.2).
    internal const int PollingSeconds = 2;

    private readonly ConcurrentDictionary<string, BoshSession> _sessions = new(StringComparer.Ordinal);
    private int _count;

    internal C2sServices Services => services;

    internal BoshOptions Options => options.Value.Bosh;

    internal TimeProvider Time => time;

    internal ILogger Log { get; } = loggers.CreateLogger("Parley.Bosh");

    /// <summary>How many sessions are open.</summary>
    internal int Count => Volatile.Read(ref _count);

    internal bool TryGet(string sid, [NotNullWhen(true)] out BoshSession? session) => _sessions.TryGetValue(sid, out session);

    /// <summary>XEP-0124 §7.1: a request without 'sid' creates a session (XEP-0206 §3: and opens its XMPP stream).</summary>
    internal async Task<BoshReply> CreateAsync(Element body, long rid, HttpContext http)
    {
        var o = Options;
        var to = body.GetAttribute("to");
        // §17.2 host-unknown: this server serves one domain.
        if (to is not null && (!Jid.TryParse(to, out var domain) || !domain.IsDomain || domain.Domain != services.Addresses.Domain))
            return BoshReply.Terminate(StatusCodes.Status200OK, "host-unknown");
        var ver = body.GetAttribute("ver");
        var legacy = ver is null;
        if (!TryCount(body, "wait", o.WaitSeconds, out var wait) || !TryCount(body, "hold", 1, out var hold)
            || (ver is not null && !TryVersion(ver, out _, out _)) || body.GetAttribute("content") is { } c && !IsHeaderValue(c))
            return BoshReply.Terminate(legacy ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK, "bad-request");

        if (Interlocked.Increment(ref _count) > o.MaxSessions)
        {
            Interlocked.Decrement(ref _count);
            BoshLog.TableFull(Log, o.MaxSessions);
            return BoshReply.Terminate(StatusCodes.Status503ServiceUnavailable, "internal-server-error");
        }
        var settings = new BoshSettings(
            Sid: Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),   // §19.3: unpredictable
            To: to,
            Lang: body.GetAttribute("lang", Ns.Xml),
            // XEP-0206 §3: the stream's version; without one the stream refuses the client as pre-RFC-3920.
            Version: body.GetAttribute("version", Ns.XBosh) ?? "1.0",
            Ver: ver is null ? null : NegotiatedVersion(ver),
            Wait: Math.Min(wait, o.WaitSeconds),
            Hold: Math.Min(hold, o.HoldMax),
            ContentType: body.GetAttribute("content") ?? "text/xml; charset=utf-8");
        var session = new BoshSession(this, settings, rid, http);
        _sessions[settings.Sid] = session;
        return await session.StartAsync().ConfigureAwait(false);
    }

    internal void Remove(BoshSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, BoshSession>(session.Sid, session)))
            Interlocked.Decrement(ref _count);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = time.GetTimestamp();
                foreach (var (_, session) in _sessions)
                    session.Tick(now);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping; the streams hear of it from the stream heartbeat (system-shutdown).
        }
    }

    // A non-negative whole number of seconds or requests (a huge one is capped later); absent means the default.
    private static bool TryCount(Element body, string name, int fallback, out int value)
    {
        value = fallback;
        var text = body.GetAttribute(name);
        if (text is null) return true;
        if (text.Length == 0 || text.AsSpan().IndexOfAnyExceptInRange('0', '9') >= 0) return false;
        value = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;
        return true;
    }

    // §7.1: "<major>.<minor>", each a separate integer.
    private static bool TryVersion(string ver, out int major, out int minor)
    {
        minor = 0;
        var dot = ver.IndexOf('.', StringComparison.Ordinal);
        if (!int.TryParse(dot < 0 ? ver : ver[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out major)) return false;
        return dot < 0 || int.TryParse(ver.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out minor);
    }

    // §7.2 'ver': the highest version both sides support. This connection manager implements 1.11.
    private static string NegotiatedVersion(string ver)
    {
        TryVersion(ver, out var major, out var minor);
        return major > 1 || (major == 1 && minor >= 11) ? "1.11" : major + "." + minor.ToString(CultureInfo.InvariantCulture);
    }

    // §7.1 'content' becomes the Content-Type of every response: printable ASCII only, so it cannot split the header.
    private static bool IsHeaderValue(string value) =>
        value.Length is > 0 and <= 128 && value.AsSpan().IndexOfAnyExceptInRange(' ', '~') < 0;
}

/// <summary>What a session creation request asked for (XEP-0124 §7.1), already capped by the configuration.</summary>
internal sealed record BoshSettings(string Sid, string? To, string? Lang, string Version, string? Ver, int Wait, int Hold, string ContentType);

/// <summary>
/// One BOSH session (XEP-0124) carrying one XMPP stream (XEP-0206). The stream is the TCP one in RFC 7395 framing
/// mode on two pipes: request payloads are written to its input in 'rid' order, and each element it writes waits
/// as bytes until a held request can carry it. One lock guards the state; one request at a time writes the input.
/// </summary>
[SuppressMessage("Reliability", "CA1001", Justification = "The semaphore holds no wait handle; requests may still be waiting on it while the session winds down.")]
internal sealed class BoshSession
{
    private static ReadOnlySpan<byte> FramingOpen => "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'"u8;
    private static ReadOnlySpan<byte> FramingClose => "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"u8;
    private static ReadOnlySpan<byte> StreamErrorStart => "<stream:error"u8;

    private readonly BoshSessions _table;
    private readonly BoshSettings _settings;
    private readonly int _requests;
    private readonly int _inactivity;
    private readonly int _maxPause;
    private readonly int _maxBody;
    private readonly TimeProvider _time;
    private readonly string _creationAttributes;
    private readonly Pipe _input = new();
    private readonly Pipe _output = new();
    private readonly XmppStream _stream;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _writing = new(1, 1);

    // Processed requests not yet answered, oldest first; requests that came before an earlier rid, by rid.
    private readonly List<Request> _held = [];
    private readonly SortedList<long, Request> _early = [];
    // §14.3: the latest answers, for a client that lost one and sends the same request again.
    private readonly Queue<(long Rid, BoshReply Reply)> _answered = new();
    // What the stream wrote that no response has carried yet, one element per array.
    private readonly List<byte[]> _payloads = [];
    private int _payloadBytes;
    private byte[]? _streamError;
    private TaskCompletionSource? _drained;
    private readonly Request _creation;
    private long _lastRid;
    private long _lastActivity;
    private int? _pause;
    private int _arriving;
    private bool _ended;
    private BoshReply? _final;
    private bool _inputClosed;

    private enum Kind : byte { Normal, Creation, Pause, Terminate }

    private sealed class Request(long rid, Element body, Kind kind)
    {
        public long Rid { get; } = rid;
        public Element Body { get; } = body;
        public Kind Kind { get; } = kind;
        public long Deadline { get; set; }
        public TaskCompletionSource<BoshReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal BoshSession(BoshSessions table, BoshSettings settings, long rid, HttpContext http)
    {
        _table = table;
        _settings = settings;
        _time = table.Time;
        var o = table.Options;
        // §7.2: 'requests' is one more than 'hold', so a client can always send while one request is held.
        _requests = settings.Hold + 1;
        _inactivity = o.InactivitySeconds;
        _maxPause = o.MaxPauseSeconds;
        _maxBody = o.MaxBodyBytes;
        _lastRid = rid;
        _lastActivity = _time.GetTimestamp();
        _creation = new Request(rid, new Element("body", Ns.HttpBind), Kind.Creation) { Deadline = DeadlineAfter(settings.Wait) };
        _stream = new XmppStream(new PipeConnection(http, _input.Reader, _output.Writer, Abort), table.Services, directTls: false, framing: true, kind: Diagnostics.ConnectionKind.Bosh);

        var a = new StringBuilder(" sid='").Append(settings.Sid).Append('\'');
        Attribute(a, "wait", settings.Wait);
        Attribute(a, "requests", _requests);
        Attribute(a, "hold", settings.Hold);
        Attribute(a, "inactivity", _inactivity);
        Attribute(a, "polling", BoshSessions.PollingSeconds);
        if (_maxPause > 0) Attribute(a, "maxpause", _maxPause);
        if (settings.Ver is not null) a.Append(" ver='").Append(settings.Ver).Append('\'');
        a.Append(" from='").Append(System.Security.SecurityElement.Escape(table.Services.Addresses.Domain)).Append('\'');
        // XEP-0206 §4: the stream's version, and restarts are supported.
        a.Append(" xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0' xmpp:restartlogic='true'");
        // §9.1: acknowledgements are in use for the whole session.
        Attribute(a, "ack", rid);
        _creationAttributes = a.ToString();
    }

    internal string Sid => _settings.Sid;

    private bool Legacy => _settings.Ver is null;

    /// <summary>Starts the stream and answers the creation request, normally with the stream features (XEP-0206 §4).</summary>
    internal async Task<BoshReply> StartAsync()
    {
        lock (_gate) _held.Add(_creation);
        BoshLog.Created(_table.Log, _stream.StreamId, _stream.RemoteAddress?.ToString(), _settings.Wait, _settings.Hold);
        _ = _stream.RunAsync();
        _ = PumpAsync();
        await _writing.WaitAsync().ConfigureAwait(false);
        try
        {
            WriteOpen(_settings.To, _settings.Lang);
            await _input.Writer.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
        return await _creation.Reply.Task.ConfigureAwait(false);
    }

    /// <summary>Every request after the first: admitted by its rid, processed in rid order, answered when there is output.</summary>
    internal async Task<BoshReply> HandleAsync(Element body, long rid)
    {
        Interlocked.Increment(ref _arriving);
        Request? request;
        try
        {
            await _writing.WaitAsync().ConfigureAwait(false);
            try
            {
                bool inOrder;
                BoshReply? immediate;
                lock (_gate) immediate = Admit(body, rid, out request, out inOrder);
                if (immediate is { } reply) return reply;
                // §14.2: payloads go to the stream in rid order; this request may release ones that came early.
                for (var next = inOrder ? request : null; next is not null; next = NextEarly())
                    await ProcessAsync(next).ConfigureAwait(false);
            }
            finally
            {
                _writing.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _arriving);
        }
        return await request!.Reply.Task.ConfigureAwait(false);
    }

    private BoshReply? Admit(Element body, long rid, out Request? request, out bool inOrder)
    {
        request = null;
        inOrder = false;
        if (_ended) return Gone();
        var now = _time.GetTimestamp();
        _lastActivity = now;
        _pause = null;     // §10: the normal inactivity period again, from the next request on
        if (rid <= _lastRid || _early.ContainsKey(rid)) return Repeat(rid, out request);

        var kind = body.GetAttribute("type") == "terminate" ? Kind.Terminate
            : _maxPause > 0 && int.TryParse(body.GetAttribute("pause"), NumberStyles.None, CultureInfo.InvariantCulture, out var pause) && pause <= _maxPause ? Kind.Pause
            : Kind.Normal;
        // §11: more simultaneous requests than 'requests', none of them answered; one more may pause or terminate.
        if (_held.Count + _early.Count >= _requests && kind is Kind.Normal)
            return EndLocked("policy-violation", answered: true);
        // §14.2: beyond the window of 'requests' rids after the last one.
        if (rid > _lastRid + _requests) return EndLocked("item-not-found", answered: true);
        request = new Request(rid, body, kind) { Deadline = DeadlineAfter(_settings.Wait) };
        if (rid == _lastRid + 1)
        {
            inOrder = true;
            return null;
        }
        _early.Add(rid, request);
        return null;
    }

    // §14.3: a rid already received. Answered again if the answer is kept; a request still held is answered with a
    // recoverable error on its old connection and from now on on this one; anything else is beyond recovery.
    private BoshReply? Repeat(long rid, out Request? request)
    {
        request = null;
        foreach (var (answeredRid, reply) in _answered)
            if (answeredRid == rid) return reply;
        for (var i = 0; i < _held.Count; i++)
        {
            if (_held[i].Rid != rid) continue;
            request = Replace(_held[i]);
            _held[i] = request;
            return null;
        }
        if (_early.TryGetValue(rid, out var early))
        {
            request = Replace(early);
            _early[rid] = request;
            return null;
        }
        return EndLocked("item-not-found", answered: true);
    }

    private Request Replace(Request old)
    {
        Recoverable(old);
        return new Request(old.Rid, old.Body, old.Kind) { Deadline = old.Deadline };
    }

    // §17.3: type='error' tells the client to send again this request and every earlier one that has no answer.
    private void Recoverable(Request request) =>
        request.Reply.TrySetResult(new BoshReply(StatusCodes.Status200OK, "<body xmlns='http://jabber.org/protocol/httpbind' type='error'/>"u8.ToArray(), _settings.ContentType));

    // The client learns how the session ended from its next request; after that the session is unknown.
    private BoshReply Gone()
    {
        if (_final is not { } final) return BoshReply.UnknownSession;
        _final = null;
        _table.Remove(this);
        return final;
    }

    private Request? NextEarly()
    {
        lock (_gate)
        {
            if (!_early.TryGetValue(_lastRid + 1, out var next)) return null;
            _early.Remove(next.Rid);
            return next;
        }
    }

    private async ValueTask ProcessAsync(Request request)
    {
        lock (_gate)
        {
            if (_ended)
            {
                request.Reply.TrySetResult(Gone());
                return;
            }
            _lastRid = request.Rid;
            request.Deadline = DeadlineAfter(_settings.Wait);
            if (request.Kind == Kind.Pause)
            {
                // §10: every held request is answered now, the pause request itself without payloads.
                _pause = int.Parse(request.Body.GetAttribute("pause")!, CultureInfo.InvariantCulture);
                while (_held.Count > 0) Answer(0, TakePayloads());
                Send(request, Normal(request, null), remember: false);
            }
            else
            {
                _held.Add(request);
                Flush();
            }
        }
        await WriteInputAsync(request.Body, request.Kind).ConfigureAwait(false);
    }

    // Called with _writing held.
    private async ValueTask WriteInputAsync(Element body, Kind kind)
    {
        if (_inputClosed) return;
        var input = _input.Writer;
        if (body.GetAttribute("restart", Ns.XBosh) is "true" or "1")
        {
            // XEP-0206 §5: a new stream on the same session; a restart request's payloads are ignored.
            WriteOpen(body.GetAttribute("to") ?? _settings.To, body.GetAttribute("lang", Ns.Xml) ?? _settings.Lang);
        }
        else
        {
            var any = false;
            foreach (var payload in body.Children)
            {
                // XEP-0206 §2: a stanza without its own namespace inherits httpbind's, meaning jabber:client.
                Rescope(payload);
                ElementWriter.WriteStandalone(input, payload);
                any = true;
            }
            // §13: the client ends the session; the stream answers <close/> with its own, which ends it here.
            if (kind == Kind.Terminate) ElementWriter.WriteFramingClose(input);
            // An empty request is the client's keepalive: white space between elements, as over TCP (RFC 6120 §4.6.1).
            else if (!any) input.Write(" "u8);
        }
        await input.FlushAsync().ConfigureAwait(false);
    }

    private void WriteOpen(string? to, string? lang) =>
        ElementWriter.WriteStreamHeader(_input.Writer, new StreamHeader(to, null, null, _settings.Version, lang, Ns.Client, Ns.Framing));

    private static void Rescope(Element element)
    {
        if (element.Namespace != Ns.HttpBind) return;
        element.Name = new QName(Ns.Client, element.LocalName);
        foreach (var child in element.Children) Rescope(child);
    }

    // The stream's output: one element per NUL-terminated chunk. The framing <open/> says nothing the session
    // creation response has not said; <close/> ends the session. A client that does not collect output stops the
    // reading here, which fills the stream's queue and ends the stream, as for a TCP client that cannot keep up.
    private async Task PumpAsync()
    {
        var reader = _output.Reader;
        while (true)
        {
            Task? drained = null;
            lock (_gate)
            {
                if (!_ended && _payloadBytes >= _maxBody)
                {
                    _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    drained = _drained.Task;
                }
            }
            if (drained is not null)
            {
                await drained.ConfigureAwait(false);
                continue;
            }
            var read = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = read.Buffer;
            var full = false;
            lock (_gate)
            {
                while (buffer.PositionOf((byte)0) is { } end)
                {
                    if (!_ended && _payloadBytes >= _maxBody)
                    {
                        full = true;
                        break;
                    }
                    Take(buffer.Slice(0, end).ToArray());
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }
                if (!_ended) Flush();
                // The stream ended without <close/>: it failed, or its input was closed by this session.
                if (read.IsCompleted && !full) EndLocked("remote-connection-failed");
            }
            reader.AdvanceTo(buffer.Start, full ? buffer.Start : buffer.End);
            if (read.IsCompleted && !full) break;
        }
        await reader.CompleteAsync().ConfigureAwait(false);
    }

    private void Take(byte[] element)
    {
        if (element.AsSpan().StartsWith(FramingOpen)) return;
        if (element.AsSpan().SequenceEqual(FramingClose))
        {
            // XEP-0206 §6: a stream error ends the session as remote-stream-error, carrying the error.
            EndLocked(_streamError is null ? null : "remote-stream-error");
            return;
        }
        if (_ended) return;
        if (element.AsSpan().StartsWith(StreamErrorStart))
        {
            _streamError = element;
            return;
        }
        _payloads.Add(element);
        _payloadBytes += element.Length;
    }

    // §8: the oldest held request is answered as soon as there is output, and when more than 'hold' are held.
    private void Flush()
    {
        while (_held.Count > 0)
        {
            var oldest = _held[0];
            if (oldest.Kind == Kind.Terminate) return;    // answered when the stream has closed
            var overHold = _held.Count > _settings.Hold && oldest.Kind != Kind.Creation;
            if (_payloads.Count == 0 && !overHold) return;
            Answer(0, TakePayloads());
        }
    }

    private void Answer(int index, List<byte[]>? payloads)
    {
        var request = _held[index];
        _held.RemoveAt(index);
        Send(request, Normal(request, payloads));
    }

    private void Send(Request request, BoshReply reply, bool remember = true)
    {
        if (!request.Reply.TrySetResult(reply)) return;
        _lastActivity = _time.GetTimestamp();
        if (!remember) return;
        _answered.Enqueue((request.Rid, reply));
        while (_answered.Count > _requests) _answered.Dequeue();
    }

    // As much waiting output as one response may carry (at least one element, however large).
    private List<byte[]>? TakePayloads()
    {
        if (_payloads.Count == 0) return null;
        var n = 0;
        var bytes = 0;
        while (n < _payloads.Count && (n == 0 || bytes + _payloads[n].Length <= _maxBody)) bytes += _payloads[n++].Length;
        var taken = _payloads.GetRange(0, n);
        _payloads.RemoveRange(0, n);
        _payloadBytes -= bytes;
        if (_drained is not null && _payloadBytes < _maxBody)
        {
            _drained.TrySetResult();
            _drained = null;
        }
        return taken;
    }

    private BoshReply Normal(Request request, List<byte[]>? payloads)
    {
        string? attributes = null;
        if (request.Kind == Kind.Creation) attributes = _creationAttributes;
        // §9.1: acknowledge a later rid already received, never the rid being answered.
        else if (_lastRid > request.Rid) attributes = " ack='" + _lastRid.ToString(CultureInfo.InvariantCulture) + "'";
        return new BoshReply(StatusCodes.Status200OK, Body(attributes, payloads, null), _settings.ContentType);
    }

    private static byte[] Body(string? attributes, List<byte[]>? payloads, byte[]? streamError)
    {
        var output = new ArrayBufferWriter<byte>(256);
        output.Write("<body xmlns='http://jabber.org/protocol/httpbind'"u8);
        if (attributes is not null) Encoding.UTF8.GetBytes(attributes, output);
        if (payloads is null && streamError is null)
        {
            output.Write("/>"u8);
            return output.WrittenSpan.ToArray();
        }
        // XEP-0206 §2: features and stream errors use the stream prefix, declared on the wrapper.
        output.Write(" xmlns:stream='http://etherx.jabber.org/streams'>"u8);
        if (payloads is not null)
            foreach (var payload in payloads) output.Write(payload);
        if (streamError is not null) output.Write(streamError);
        output.Write("</body>"u8);
        return output.WrittenSpan.ToArray();
    }

    // §17.1: a client that sent no 'ver' gets the old HTTP status codes for the three conditions that had one.
    private int Status(string? condition) => !Legacy ? StatusCodes.Status200OK : condition switch
    {
        "bad-request" => StatusCodes.Status400BadRequest,
        "policy-violation" => StatusCodes.Status403Forbidden,
        "item-not-found" => StatusCodes.Status404NotFound,
        _ => StatusCodes.Status200OK,
    };

    // Ends the session: every open request is answered with the terminal body (the oldest also with the output not
    // yet sent and the stream error), and the stream's input is closed, so a stream still running sees a dropped
    // connection (XEP-0198 resumption applies as for TCP). Returns the terminal body for the request at hand, which
    // is told (answered) or, when no request hears of the end, kept for the next one.
    private BoshReply EndLocked(string? condition, bool answered = false, bool inactive = false)
    {
        var attributes = " type='terminate'" + (condition is null ? "" : " condition='" + condition + "'");
        var plain = new BoshReply(Status(condition), Body(attributes, null, null), _settings.ContentType);
        if (_ended) return plain;
        _ended = true;
        var outstanding = new List<Request>(_held.Count + _early.Count);
        outstanding.AddRange(_held);
        outstanding.AddRange(_early.Values);
        outstanding.Sort((x, y) => x.Rid.CompareTo(y.Rid));
        _held.Clear();
        _early.Clear();
        var payloads = _payloads.Count > 0 ? new List<byte[]>(_payloads) : null;
        var full = payloads is null && _streamError is null ? plain
            : new BoshReply(Status(condition), Body(attributes, payloads, _streamError), _settings.ContentType);
        _payloads.Clear();
        _payloadBytes = 0;
        _drained?.TrySetResult();
        _drained = null;
        for (var i = 0; i < outstanding.Count; i++) Send(outstanding[i], i == 0 ? full : plain, remember: false);
        // A session that ended while no request was open tells the next request how (an inactive one is just gone).
        if (outstanding.Count == 0 && !answered && !inactive) _final = full;
        else _table.Remove(this);
        _lastActivity = _time.GetTimestamp();
        BoshLog.Ended(_table.Log, _stream.StreamId, condition ?? (inactive ? "inactivity" : "terminate"));
        _ = CloseInputAsync();
        return outstanding.Count == 0 ? full : plain;
    }

    private async Task CloseInputAsync()
    {
        await _writing.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_inputClosed) return;
            _inputClosed = true;
            await _input.Writer.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    private void Abort()
    {
        lock (_gate) EndLocked("remote-connection-failed");
    }

    /// <summary>Called by the table's timer: 'wait' (§8), the rid order's patience (§14.2) and 'inactivity' (§10).</summary>
    internal void Tick(long now)
    {
        lock (_gate)
        {
            if (_ended)
            {
                if (_final is not null && _time.GetElapsedTime(_lastActivity, now).TotalSeconds > _inactivity)
                {
                    _final = null;
                    _table.Remove(this);
                }
                return;
            }
            while (_held.Count > 0 && now >= _held[0].Deadline)
            {
                // A terminate request whose stream never answered: end it anyway.
                if (_held[0].Kind == Kind.Terminate)
                {
                    EndLocked(null);
                    return;
                }
                Answer(0, TakePayloads());    // usually an empty body: nothing arrived within 'wait'
            }
            // A request waiting for an earlier rid that has not come: the client should send both again (§17.3).
            while (_early.Count > 0 && now >= _early.GetValueAtIndex(0).Deadline)
            {
                var early = _early.GetValueAtIndex(0);
                _early.RemoveAt(0);
                Recoverable(early);
            }
            if (_held.Count == 0 && _early.Count == 0 && Volatile.Read(ref _arriving) == 0
                && _time.GetElapsedTime(_lastActivity, now).TotalSeconds > (_pause ?? _inactivity))
            {
                // §10: no request for longer than 'inactivity': the client is gone, like a dropped TCP connection.
                EndLocked(null, inactive: true);
            }
        }
    }

    private long DeadlineAfter(int seconds) => _time.GetTimestamp() + seconds * _time.TimestampFrequency;

    private static void Attribute(StringBuilder s, string name, long value) =>
        s.Append(' ').Append(name).Append("='").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\'');
}

/// <summary>BOSH log messages (event ids 1700–1799). Never bodies, never session ids (they grant access).</summary>
internal static partial class BoshLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Information, Message = "BOSH session for stream {StreamId} created from {Remote} (wait {Wait}, hold {Hold})")]
    public static partial void Created(ILogger logger, string streamId, string? remote, int wait, int hold);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "BOSH session for stream {StreamId} ended: {Reason}")]
    public static partial void Ended(ILogger logger, string streamId, string reason);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "BOSH session refused: {Max} sessions are open (Bosh:MaxSessions)")]
    public static partial void TableFull(ILogger logger, int max);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Debug, Message = "BOSH request refused from {Remote}: {Problem}")]
    public static partial void BadRequest(ILogger logger, string? remote, string problem);
}
