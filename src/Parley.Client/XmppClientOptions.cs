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

    /// <summary>XEP-0388: authenticate with SASL2 (and bind with XEP-0386 Bind2 inline) when the server offers it.</summary>
    public bool UseSasl2 { get; init; } = true;

    /// <summary>
    /// XEP-0388 §2.4: this installation's stable user-agent id (a UUID). FAST tokens belong to it: persist it with
    /// the token. Default: a new id for each <see cref="XmppClient"/>.
    /// </summary>
    public string? UserAgentId { get; init; }

    /// <summary>XEP-0484: ask the server for a FAST token when authenticating with the password.</summary>
    public bool RequestFastToken { get; init; }

    /// <summary>XEP-0484: a token from an earlier session, used instead of the password when the server offers FAST.</summary>
    public Model.FastToken? FastToken { get; init; }

    /// <summary>
    /// XEP-0198: enable stream management when the server offers it, so that a lost connection is resumed (or
    /// replaced by a new session) without losing a stanza either way. Not used in <see cref="Raw"/> mode.
    /// </summary>
    public bool StreamManagement { get; init; } = true;

    /// <summary>
    /// After this long without hearing from the server, ping it (XEP-0199); no answer within <see cref="IqTimeout"/>
    /// cuts the connection as dead. Zero turns the keepalive off. Not used in <see cref="Raw"/> mode.
    /// </summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How many times to try reconnecting after a lost connection before giving up (then the client closes).</summary>
    public int MaxReconnectAttempts { get; init; } = 10;

    /// <summary>The wait before the first reconnection attempt; it doubles on each failure, up to 30 seconds.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// XEP-0114: connect as an external component (a gateway): <see cref="Jid"/> is the component's domain,
    /// <see cref="Password"/> the shared secret, <see cref="Port"/> the server's component port (commonly 5347).
    /// There is no TLS, SASL or binding on such streams: use them on loopback or a private network.
    /// </summary>
    public bool Component { get; init; }

    /// <summary>
    /// Without <see cref="Host"/>: look up the domain's SRV records (RFC 6120 §3.2.1, XEP-0368) before falling back to
    /// the domain itself on <see cref="Port"/>.
    /// </summary>
    public bool UseSrv { get; init; } = true;

    /// <summary>Name servers for SRV lookups; default: those in /etc/resolv.conf.</summary>
    public IReadOnlyList<System.Net.IPEndPoint>? DnsServers { get; init; }

    /// <summary>The port (5222 for STARTTLS, 5223 for direct TLS) when <see cref="Host"/> is given or SRV finds nothing.</summary>
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
    /// and tests that script a conversation stanza by stanza. Negotiation is the classic one too (SASL, restart,
    /// resource binding; no SASL2 and no stream management), so the resource bound is exactly the one asked for.
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

    /// <summary>
    /// Certificates trusted in addition to the system's: a server presenting exactly one of these is accepted even
    /// when it does not chain to a trusted root (a self-signed test or home server). Ignored when
    /// <see cref="CertificateValidation"/> is set.
    /// </summary>
    public IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> TrustedCertificates { get; init; } = [];

    /// <summary>
    /// Options from environment variables, for bots and scripts: PARLEY_JID and PARLEY_PASSWORD (required),
    /// PARLEY_HOST, PARLEY_PORT, PARLEY_DIRECT_TLS=1, and PARLEY_CERT_FILE (a PEM certificate to trust, see
    /// <see cref="TrustedCertificates"/>).
    /// </summary>
    public static XmppClientOptions FromEnvironment()
    {
        static string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var jid = Get("PARLEY_JID") ?? throw new InvalidOperationException("Set PARLEY_JID to the account's JID");
        var password = Get("PARLEY_PASSWORD") ?? throw new InvalidOperationException("Set PARLEY_PASSWORD to the account's password");
        var direct = Get("PARLEY_DIRECT_TLS") is "1" or "true";
        return new XmppClientOptions
        {
            Jid = Jid.Parse(jid),
            Password = password,
            Host = Get("PARLEY_HOST"),
            DirectTls = direct,
            Port = Get("PARLEY_PORT") is { } port ? int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) : direct ? 5223 : 5222,
            TrustedCertificates = Get("PARLEY_CERT_FILE") is { } file
                ? [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(file))]
                : [],
        };
    }
}
