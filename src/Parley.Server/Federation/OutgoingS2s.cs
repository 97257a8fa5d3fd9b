using System.Net.Security;
using System.Net.Sockets;
using Parley.Protocol;

namespace Parley.Server.Federation;

/// <summary>
/// The negotiation of one outgoing server stream (RFC 6120 §4–§6, XEP-0220 §2.1.1): header, STARTTLS (required unless
/// S2s:RequireTls is off), then SASL EXTERNAL when the peer offers it and our certificate proves our domain, else a
/// dialback key; after that it carries what <see cref="OutgoingConnection"/> writes, hands db:verify answers back to
/// it, and, when the peer agreed to a bidirectional stream (XEP-0288), routes the peer's stanzas for our pair reversed.
/// </summary>
internal sealed class OutgoingS2s : S2sStream
{
    private readonly OutgoingConnection _connection;
    private readonly bool _directTls;
    private bool _authenticated;
    private bool _dialbackOffered;
    private bool _dialbackSent;
    private bool _bidi;               // XEP-0288: requested, so the peer may send its stanzas back on this stream
    private bool _ready;

    public OutgoingS2s(S2sPool pool, OutgoingConnection connection, TcpClient tcp, bool directTls)
        : base(pool, tcp.GetStream())
    {
        _connection = connection;
        _directTls = directTls;
    }

    /// <summary>Why negotiation failed, when it did.</summary>
    public string? Failure { get; private set; }

    /// <summary>Whether the peer refused us (another address of the same domain would too).</summary>
    public bool Refused { get; private set; }

    protected override (string? To, string? From) HeaderAddresses => (_connection.Remote, _connection.Local);

    /// <summary>Negotiates and then reads until the stream ends.</summary>
    public Task RunAsync() => GuardAsync(async ct =>
    {
        if (_directTls) await UpgradeAsClientAsync(_connection.Remote, [XmppServerAlpn], ct).ConfigureAwait(false);
        await OpenAsync(ct).ConfigureAwait(false);
        await ReadLoopAsync(ct).ConfigureAwait(false);
    });

    /// <summary>Writes queued stanzas with one flush.</summary>
    public ValueTask SendBatchAsync(IReadOnlyList<Element> stanzas, CancellationToken ct) => SendAsync(stanzas, ct);

    private ValueTask OpenAsync(CancellationToken ct) => WriteHeaderAsync(_connection.Remote, _connection.Local, null, ct);

    protected override async ValueTask OnFrameAsync(XmlFrame frame, CancellationToken ct)
    {
        switch (frame.Kind)
        {
            case XmlFrameKind.StreamOpen:
                var header = frame.Header!;
                if (header.ContentNamespace != Ns.Server) throw Fail(StreamError.InvalidNamespace("Expected jabber:server"));
                StreamId = header.Id ?? "";
                // XEP-0220 §2.4.1: a legacy peer announces dialback by declaring the namespace on its header.
                _dialbackOffered = header.Prefixes.Values.Contains(Ns.Dialback);
                return;
            case XmlFrameKind.StreamClose:
                Failure ??= "the peer closed the stream";
                await CloseAsync(null).ConfigureAwait(false);
                return;
        }
        var element = frame.Element!;
        switch (element.Namespace, element.LocalName)
        {
            case (Ns.Streams, "features"):
                await OnFeaturesAsync(element, ct).ConfigureAwait(false);
                break;
            case (Ns.Tls, "proceed"):
                UpgradeAfterFrame(async c =>
                {
                    await UpgradeAsClientAsync(_connection.Remote, null, c).ConfigureAwait(false);
                    await OpenAsync(c).ConfigureAwait(false);
                });
                break;
            case (Ns.Sasl, "success"):
                // RFC 6120 §6.4.6: authenticated; a new stream on the same connection.
                _authenticated = true;
                RestartAfterFrame();
                await OpenAsync(ct).ConfigureAwait(false);
                break;
            case (Ns.Sasl, "failure"):
                // XEP-0178 §4: EXTERNAL refused; dialback may still work.
                if (_dialbackOffered) await SendDialbackKeyAsync(ct).ConfigureAwait(false);
                else throw Fail(null, "SASL EXTERNAL failed and dialback is not offered", refused: true);
                break;
            case (Ns.Dialback, "result") when element.GetAttribute("type") is null && _bidi:
                // XEP-0288 §2.2 allows the peer to authenticate further domain pairs here; not supported: it opens
                // a stream of its own for them (XEP-0220 §2.4: an error, not the end of this stream).
                await SendAsync(DialbackError("result", element.GetAttribute("to") ?? _connection.Local, element.GetAttribute("from") ?? _connection.Remote,
                    null, StanzaError.FeatureNotImplemented("Dialback on a bidirectional stream's return path is not supported")), ct).ConfigureAwait(false);
                break;
            case (Ns.Dialback, "result"):
                OnDialbackResult(element);
                break;
            case (Ns.Dialback, "verify") when element.GetAttribute("type") is null && _bidi:
                // XEP-0288: the peer may ask us, as authoritative server, over the stream it shares with us.
                await AnswerVerifyAsync(element, ct).ConfigureAwait(false);
                break;
            case (Ns.Dialback, "verify"):
                if (element.GetAttribute("from") == _connection.Remote && element.GetAttribute("id") is { } id)
                    _connection.Verified(id, element.GetAttribute("type") == "valid");
                break;
            case (Ns.Streams, "error"):
                var error = StreamError.Parse(element);
                Refused = error.Condition is StreamErrorCondition.HostUnknown or StreamErrorCondition.NotAuthorized
                    or StreamErrorCondition.PolicyViolation or StreamErrorCondition.InvalidFrom;
                Failure = "stream error " + error.ConditionName;
                await CloseAsync(null).ConfigureAwait(false);
                break;
            default:
                // XEP-0288 §2.2: once authenticated, a bidirectional stream carries the peer's stanzas for the inverse
                // of our pair (SASL: from the stream's 'to' domain; dialback: the pair we asked for, reversed).
                if (_bidi && _ready && Stanza.IsStanza(element))
                {
                    await RouteInboundAsync(element, (from, to) => from == _connection.Remote && to == _connection.Local, ct).ConfigureAwait(false);
                    break;
                }
                // Otherwise the receiving server sends no stanzas on this stream.
                throw Fail(StreamError.UnsupportedStanzaType(element.LocalName + " is not expected on an outgoing stream"));
        }
    }

    private async ValueTask OnFeaturesAsync(Element features, CancellationToken ct)
    {
        var o = Pool.Options.S2s;
        if (!IsSecure)
        {
            if (features.Child("starttls", Ns.Tls) is not null)
            {
                await SendAsync(new Element("starttls", Ns.Tls), ct).ConfigureAwait(false);
                return;
            }
            if (o.RequireTls) throw Fail(StreamError.PolicyViolation("TLS is required"), "the peer offers no TLS", refused: true);
        }
        else if (!Pool.Trust.Proves(PeerCertificate, PeerIntermediates, _connection.Remote, out var problem))
        {
            if (o.RequireTrustedCertificates)
                throw Fail(StreamError.PolicyViolation("Your certificate does not prove your domain"), "untrusted certificate: " + problem, refused: true);
            S2sLog.UntrustedPeer(Pool.Log, _connection.Local, _connection.Remote, problem);
        }
        if (_authenticated)
        {
            _ready = true;
            _connection.Ready(this, "SASL EXTERNAL");
            return;
        }
        _connection.Opened(this);
        // XEP-0288 §2.2: asked for before authentication, and (like prosody) only once TLS is in place when required.
        if (o.Bidirectional && !_bidi && features.Child("bidi", Ns.BidiFeature) is not null && (IsSecure || !o.RequireTls))
        {
            _bidi = true;
            await SendAsync(new Element("bidi", Ns.Bidi), ct).ConfigureAwait(false);
        }
        if (features.Child("dialback", Ns.DialbackFeature) is not null) _dialbackOffered = true;
        if (Offers(features, "EXTERNAL") && IsSecure && Pool.OwnCertificateProves(_connection.Local))
        {
            // XEP-0178 §3: the authorization identity is implied by the certificate ("=" is an empty response).
            await SendAsync(new Element("auth", Ns.Sasl).SetAttribute("mechanism", "EXTERNAL")
                .AddText(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(_connection.Local))), ct).ConfigureAwait(false);
            return;
        }
        if (_dialbackOffered)
        {
            await SendDialbackKeyAsync(ct).ConfigureAwait(false);
            return;
        }
        throw Fail(StreamError.UnsupportedFeature("No authentication this server can use"), "neither SASL EXTERNAL nor dialback is possible", refused: true);
    }

    private static bool Offers(Element features, string mechanism)
    {
        if (features.Child("mechanisms", Ns.Sasl) is not { } mechanisms) return false;
        foreach (var m in mechanisms.Children)
            if (m.LocalName == "mechanism" && m.Text.Trim() == mechanism) return true;
        return false;
    }

    // XEP-0220 §2.1.1, step 1.
    private ValueTask SendDialbackKeyAsync(CancellationToken ct)
    {
        if (_dialbackSent) return ValueTask.CompletedTask;
        _dialbackSent = true;
        var key = Pool.Keys.Key(_connection.Remote, _connection.Local, StreamId);
        return SendAsync(new Element("result", Ns.Dialback).SetAttribute("from", _connection.Local)
            .SetAttribute("to", _connection.Remote).AddText(key), ct);
    }

    // XEP-0220 §2.1.1, step 4: the answer must correlate to our request on this stream (§3.1).
    private void OnDialbackResult(Element result)
    {
        if (result.GetAttribute("from") != _connection.Remote || result.GetAttribute("to") != _connection.Local || !_dialbackSent)
            throw Fail(StreamError.InvalidFrom("No dialback request for this domain pair"));
        if (result.GetAttribute("type") == "valid")
        {
            _ready = true;
            _connection.Ready(this, "dialback");
            return;
        }
        throw Fail(null, "dialback " + (result.GetAttribute("type") ?? "answer without type"), refused: true);
    }

    private XmlStreamException Fail(StreamError? error, string? reason = null, bool refused = false)
    {
        Failure = reason ?? error?.Text ?? error?.ConditionName;
        Refused |= refused;
        return new XmlStreamException(error ?? StreamError.UndefinedCondition(Failure));
    }
}
