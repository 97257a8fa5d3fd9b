namespace Parley.Server.Diagnostics;

/// <summary>The transports a client connection can come over, as the connections metric labels them.</summary>
internal enum ConnectionKind
{
    /// <summary>Port 5222: plaintext first, then STARTTLS (c2s-tcp).</summary>
    C2sTcp,

    /// <summary>Port 5223: TLS from the first byte, XEP-0368 (c2s-tls).</summary>
    C2sTls,

    /// <summary>RFC 7395 on the HTTPS listener (websocket).</summary>
    WebSocket,

    /// <summary>XEP-0206 on the HTTPS listener (bosh): one per BOSH session, not per HTTP request.</summary>
    Bosh,

    /// <summary>A XEP-0114 external component, once its handshake succeeded (component).</summary>
    Component,
}
