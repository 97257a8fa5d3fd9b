namespace Parley.Server.Modules;

/// <summary>Where a client stream is in its negotiation (RFC 6120 §4.3).</summary>
public enum Stage
{
    /// <summary>Before TLS.</summary>
    PreTls,
    /// <summary>Before SASL.</summary>
    PreAuth,
    /// <summary>Authenticated, no resource bound yet.</summary>
    Authenticated,
    /// <summary>A resource is bound: stanzas flow.</summary>
    Bound,
}

/// <summary>Whom an IQ request is addressed to, from the handler's point of view.</summary>
public enum IqTarget
{
    /// <summary>The server's domain (or a resource of it).</summary>
    Server,
    /// <summary>No 'to', or the sender's own bare JID (RFC 6120 §10.3.3).</summary>
    Self,
    /// <summary>Another local account's bare JID, handled by the server on its behalf.</summary>
    Account,
}
