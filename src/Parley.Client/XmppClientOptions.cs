using System.Net.Security;
using System.Security.Authentication;
using Parley.Protocol;

namespace Parley.Client;

/// <summary>How an <see cref="XmppClient"/> connects and authenticates.</summary>
public sealed record XmppClientOptions
{
    /// <summary>The account; a full JID requests that resource.</summary>
    public required Jid Jid { get; init; }

    /// <summary>The password.</summary>
    public required string Password { get; init; }

    /// <summary>The host to connect to; default the JID's domain.</summary>
    public string? Host { get; init; }

    /// <summary>The port (5222 for STARTTLS, 5223 for direct TLS).</summary>
    public int Port { get; init; } = 5222;

    /// <summary>XEP-0368: TLS before the stream opens.</summary>
    public bool DirectTls { get; init; }

    /// <summary>Refuse to continue without TLS.</summary>
    public bool RequireTls { get; init; } = true;

    /// <summary>Certificate validation; default: the system's.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    /// <summary>TLS versions allowed.</summary>
    public SslProtocols TlsProtocols { get; init; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Allowed mechanisms, most preferred first.</summary>
    public IReadOnlyList<string> Mechanisms { get; init; } =
        ["SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

    /// <summary>Channel-binding types to use with -PLUS, most preferred first.</summary>
    public IReadOnlyList<string> ChannelBindingPreference { get; init; } = ["tls-unique", "tls-server-end-point"];

    /// <summary>How long connecting and negotiating may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long an IQ request waits for its reply.</summary>
    public TimeSpan IqTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest stanza accepted from the server.</summary>
    public int MaxStanzaBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// Raw mode: no built-in handling at all (no automatic IQ replies, receipts or caps); every stanza that is not
    /// a reply to <see cref="XmppClient.RequestAsync"/> only goes to <see cref="XmppClient.ReceiveAsync"/>. For tools
    /// and tests that script a conversation stanza by stanza.
    /// </summary>
    public bool Raw { get; init; }

    /// <summary>
    /// How many incoming stanzas <see cref="XmppClient.ReceiveAsync"/> keeps when nobody reads them; beyond it the
    /// oldest are dropped, so an application that only uses events never grows without bound. 0 turns the queue off.
    /// </summary>
    public int ReceiveQueueCapacity { get; init; } = 10_000;

    /// <summary>XEP-0184: answer receipt requests of incoming messages automatically.</summary>
    public bool AutoReceipts { get; init; } = true;

    /// <summary>The client's name in its disco identity and XEP-0115 caps node.</summary>
    public string ClientName { get; init; } = "Parley.Client";

    /// <summary>XEP-0115: the node URI announced in caps.</summary>
    public string CapsNode { get; init; } = "urn:x-parley:client";
}
