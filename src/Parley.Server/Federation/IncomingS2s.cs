using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Federation;

/// <summary>
/// One incoming server stream (RFC 6120 §4–§6 with jabber:server content): TLS first (required by default), then the
/// peer authenticates with SASL EXTERNAL (when its certificate proves its domain, XEP-0178) or with dialback keys that
/// this server, as receiving server, has the authoritative server verify (XEP-0220 §2.2.1), one domain pair at a
/// time, several on one stream (§2.6). The stream also answers db:verify as authoritative server (§2.2.2). Stanzas
/// are accepted only between authenticated domain pairs; a sender outside them is invalid-from (RFC 6120 §4.9.3.9).
/// </summary>
internal sealed class IncomingS2s : S2sStream
{
    private readonly IPAddress? _remoteAddress;
    private readonly HashSet<(string Remote, string Local)> _pairs = [];
    private readonly Lock _pairsLock = new();
    private string? _peerDomain;                // the header's 'from'
    private string? _localDomain;               // the header's 'to'
    private string? _saslDomain;                // authenticated with SASL EXTERNAL: any local domain
    private bool _bidi;                         // XEP-0288: the peer asked for a bidirectional stream

    private readonly bool _directTls;

    public IncomingS2s(S2sPool pool, ConnectionContext connection, bool directTls)
        : base(pool, new DuplexPipeStream(connection.Transport.Input, connection.Transport.Output))
    {
        _directTls = directTls;
        _remoteAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        StreamId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    protected override (string? To, string? From) HeaderAddresses => (_peerDomain, _localDomain ?? Pool.Domain);

    /// <summary>Runs the stream until it ends. Never throws.</summary>
    public Task RunAsync()
    {
        S2sLog.IncomingOpened(Pool.Log, StreamId, _remoteAddress?.ToString());
        return GuardAsync(async ct =>
        {
            Pool.Track(this);
            try
            {
                if (!Pool.HasRoom) throw new XmlStreamException(StreamError.ResourceConstraint("Too many server connections"));
                // XEP-0368: the handshake comes first, then the stream as after STARTTLS.
                if (_directTls) await UpgradeAsServerAsync([XmppServerAlpn], ct).ConfigureAwait(false);
                await ReadLoopAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                Pool.Untrack(this);
                Pool.RemoveReturnRoutes(this);
            }
        });
    }

    protected override async ValueTask OnFrameAsync(XmlFrame frame, CancellationToken ct)
    {
        switch (frame.Kind)
        {
            case XmlFrameKind.StreamOpen:
                await OpenAsync(frame.Header!, ct).ConfigureAwait(false);
                return;
            case XmlFrameKind.StreamClose:
                await CloseAsync(null).ConfigureAwait(false);
                return;
        }
        var element = frame.Element!;
        switch (element.Namespace, element.LocalName)
        {
            case (Ns.Tls, "starttls") when !IsSecure:
                await SendAsync(new Element("proceed", Ns.Tls), ct).ConfigureAwait(false);
                UpgradeAfterFrame(c => UpgradeAsServerAsync(null, c));
                break;
            case (Ns.Sasl, "auth"):
                await OnAuthAsync(element, ct).ConfigureAwait(false);
                break;
            case (Ns.Dialback, "result") when element.GetAttribute("type") is null:
                await OnDialbackResultAsync(element, ct).ConfigureAwait(false);
                break;
            case (Ns.Dialback, "verify") when element.GetAttribute("type") is null:
                await AnswerVerifyAsync(element, ct).ConfigureAwait(false);
                break;
            case (Ns.Bidi, "bidi"):
                // XEP-0288 §2.1: after TLS (when TLS is required), and before authentication.
                if (Pool.Options.S2s.Bidirectional && (IsSecure || !Pool.Options.S2s.RequireTls)) _bidi = true;
                break;
            default:
                if (Stanza.IsStanza(element))
                {
                    await OnStanzaAsync(element, ct).ConfigureAwait(false);
                    break;
                }
                throw new XmlStreamException(StreamError.UnsupportedStanzaType(element.LocalName + " is not supported here"));
        }
    }

    private async ValueTask OpenAsync(StreamHeader header, CancellationToken ct)
    {
        // RFC 6120 §4.7: the response header, then features, or the error that refuses the stream.
        _peerDomain = header.From is { } f && Jid.TryParse(f, out var from) && from.IsDomain ? from.Domain : null;
        if (header.To is { } t && Jid.TryParse(t, out var to) && to.IsDomain)
        {
            if (!Pool.IsHosted(to.Domain)) throw new XmlStreamException(StreamError.HostUnknown("This server does not serve " + header.To));
            _localDomain = to.Domain;
        }
        if (header.ContentNamespace != Ns.Server) throw new XmlStreamException(StreamError.InvalidNamespace("This port serves jabber:server streams"));
        if (header.Version is null || !header.Version.StartsWith("1.", StringComparison.Ordinal))
            throw new XmlStreamException(StreamError.UnsupportedVersion("Version 1.0 is required"));
        if (_peerDomain is not null && !Pool.Allows(_peerDomain))
            throw new XmlStreamException(StreamError.PolicyViolation("This server does not federate with " + _peerDomain));
        await WriteHeaderAsync(_peerDomain, _localDomain ?? Pool.Domain, StreamId, ct).ConfigureAwait(false);

        var features = new Element("features", Ns.Streams);
        var o = Pool.Options.S2s;
        if (!IsSecure) features.Add(new Element("starttls", Ns.Tls).Add(new Element("required", Ns.Tls)));
        if (_saslDomain is null && (IsSecure || !o.RequireTls))
        {
            // XEP-0178 §4: EXTERNAL only for a peer whose certificate proves the domain it claims.
            if (_peerDomain is not null && IsSecure && Pool.Trust.Proves(PeerCertificate, PeerIntermediates, _peerDomain, out _))
                features.Add(new Element("mechanisms", Ns.Sasl).Add(new Element("mechanism", Ns.Sasl).AddText("EXTERNAL")));
            // XEP-0220 §2.4.2: dialback with error handling.
            if (!o.RequireTrustedCertificates) features.Add(new Element("dialback", Ns.DialbackFeature).Add(new Element("errors", Ns.DialbackFeature)));
            // XEP-0288 §2.1: offered where it may be requested (like prosody, only once TLS is in place when required).
            if (o.Bidirectional && !_bidi) features.Add(new Element("bidi", Ns.BidiFeature));
        }
        await SendAsync(features, ct).ConfigureAwait(false);
        // XEP-0288 §2.2: with SASL, stanzas from the stream's 'to' domain to the peer, once the restarted stream is open.
        if (_saslDomain is not null) OfferBidirectional(_localDomain ?? Pool.Domain, _saslDomain);
    }

    // RFC 6120 §6.4 with XEP-0178: the authorization identity is empty ("=") or the peer's domain.
    private async ValueTask OnAuthAsync(Element auth, CancellationToken ct)
    {
        if (_saslDomain is not null || !IsSecure) throw new XmlStreamException(StreamError.PolicyViolation("SASL is not offered now"));
        string? claimed = _peerDomain;
        var text = auth.Text.Trim();
        if (text.Length > 0 && text != "=")
        {
            try { claimed = Encoding.UTF8.GetString(Convert.FromBase64String(text)); }
            catch (FormatException) { claimed = null; }
        }
        if (auth.GetAttribute("mechanism") != "EXTERNAL" || claimed is null || (_peerDomain is not null && claimed != _peerDomain)
            || !Pool.Allows(claimed) || !Pool.Trust.Proves(PeerCertificate, PeerIntermediates, claimed, out _))
        {
            S2sLog.IncomingRefused(Pool.Log, StreamId, claimed ?? "(unknown)", _localDomain ?? Pool.Domain, "SASL EXTERNAL");
            await SendAsync(new Element("failure", Ns.Sasl).Add(new Element("not-authorized", Ns.Sasl)), ct).ConfigureAwait(false);
            return;
        }
        _saslDomain = claimed;
        _peerDomain = claimed;
        S2sLog.IncomingAuthenticated(Pool.Log, StreamId, claimed, _localDomain ?? Pool.Domain, "SASL EXTERNAL");
        await SendAsync(new Element("success", Ns.Sasl), ct).ConfigureAwait(false);
        RestartAfterFrame();
    }

    // XEP-0220 §2.2.1: a dialback key from an initiating server; the answer comes when the authoritative server
    // has spoken, and the stream keeps reading meanwhile.
    private async ValueTask OnDialbackResultAsync(Element result, CancellationToken ct)
    {
        var o = Pool.Options.S2s;
        if ((!IsSecure && o.RequireTls) || o.RequireTrustedCertificates)
            throw new XmlStreamException(StreamError.PolicyViolation("Dialback is not offered now"));
        if (!TryDomain(result.GetAttribute("from"), out var remote) || !TryDomain(result.GetAttribute("to"), out var local))
            throw new XmlStreamException(StreamError.ImproperAddressing("db:result needs 'from' and 'to' domains"));
        if (!Pool.IsHosted(local))
        {
            await SendAsync(DialbackError("result", local, remote, null, StanzaError.ItemNotFound()), ct).ConfigureAwait(false);
            return;
        }
        if (!Pool.Allows(remote))
        {
            await SendAsync(DialbackError("result", local, remote, null, StanzaError.Forbidden()), ct).ConfigureAwait(false);
            return;
        }
        var key = result.Text.Trim();
        _ = Task.Run(async () =>
        {
            try
            {
                var valid = await Pool.VerifyAsync(local, remote, StreamId, key, ct).ConfigureAwait(false);
                S2sLog.Verified(Pool.Log, remote, local, valid ? "valid" : "invalid");
                if (valid)
                {
                    lock (_pairsLock) _pairs.Add((remote, local));
                    S2sLog.IncomingAuthenticated(Pool.Log, StreamId, remote, local, "dialback");
                }
                else
                {
                    S2sLog.IncomingRefused(Pool.Log, StreamId, remote, local, "dialback");
                }
                await SendAsync(new Element("result", Ns.Dialback).SetAttribute("from", local).SetAttribute("to", remote)
                    .SetAttribute("type", valid ? "valid" : "invalid"), ct).ConfigureAwait(false);
                // XEP-0288 §2.2: with dialback, stanzas for the inverse of the verified pair, once the peer knows.
                if (valid) OfferBidirectional(local, remote);
                // §2.2.1: an invalid key with no other verified pair ends the stream.
                bool none;
                lock (_pairsLock) none = _pairs.Count == 0 && _saslDomain is null;
                if (!valid && none) await CloseAsync(StreamError.NotAuthorized("Dialback failed")).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The stream ended meanwhile.
            }
        }, CancellationToken.None);
    }

    // Stanzas only after authentication, and only between the domain pairs authenticated on this stream.
    private ValueTask OnStanzaAsync(Element element, CancellationToken ct)
    {
        bool authenticated;
        lock (_pairsLock) authenticated = _pairs.Count > 0 || _saslDomain is not null;
        if (!authenticated) throw new XmlStreamException(StreamError.NotAuthorized("Authenticate first"));
        return RouteInboundAsync(element, (from, to) =>
        {
            lock (_pairsLock) return from == _saslDomain || _pairs.Contains((from, to));
        }, ct);
    }

    // XEP-0288 §2.2: once the peer has authenticated a pair, our stanzas from its local side to the peer may go out here.
    private void OfferBidirectional(string local, string remote)
    {
        if (!_bidi) return;
        S2sLog.Bidirectional(Pool.Log, StreamId, local, remote);
        Pool.AddReturnRoute(local, remote, this);
    }
}
