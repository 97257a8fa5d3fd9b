using System.Net;
using System.Security.Authentication;
using Parley.Protocol;
using Parley.Protocol.Sasl;

namespace Parley.Server.Modules;

/// <summary>A client stream as negotiation modules (TLS, SASL, bind) see it.</summary>
public interface IStreamContext
{
    /// <summary>A short id for logs.</summary>
    string StreamId { get; }

    /// <summary>Whether TLS is established.</summary>
    bool IsSecure { get; }

    /// <summary>The negotiated TLS version.</summary>
    SslProtocols? TlsProtocol { get; }

    /// <summary>The connection's channel bindings, when secure.</summary>
    IChannelBindingSource? ChannelBinding { get; }

    /// <summary>The authenticated account's bare JID.</summary>
    Jid? Account { get; }

    /// <summary>The bound full JID.</summary>
    Jid? BoundJid { get; }

    /// <summary>The peer's address.</summary>
    IPAddress? RemoteAddress { get; }

    /// <summary>Per-stream state for modules.</summary>
    IDictionary<object, object?> Items { get; }

    /// <summary>Writes a top-level element and flushes.</summary>
    ValueTask SendAsync(Element element, CancellationToken ct);

    /// <summary>Asks for TLS to start as soon as the current element is consumed (after &lt;proceed/&gt; is sent).</summary>
    void StartTls();

    /// <summary>Marks the stream authenticated; the client restarts the stream next (RFC 6120 §6.4.6).</summary>
    void Authenticated(Jid account);

    /// <summary>Registers the session under <paramref name="fullJid"/>; false when a limit refuses it.</summary>
    ValueTask<bool> BindAsync(Jid fullJid, CancellationToken ct);

    /// <summary>Sends a stream error and closes the stream.</summary>
    ValueTask CloseAsync(StreamError error, CancellationToken ct);
}
