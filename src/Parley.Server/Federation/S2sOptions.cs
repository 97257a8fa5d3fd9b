using System.Globalization;

namespace Parley.Server.Federation;

/// <summary>Server-to-server federation (RFC 6120, XEP-0220, XEP-0368): the listener, routes, policy and limits.</summary>
public sealed class S2sOptions
{
    /// <summary>Whether this server federates at all (listens for and opens server-to-server streams).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to listen on: an IP address, "any" or "loopback".</summary>
    public string Address { get; set; } = "any";

    /// <summary>The port for incoming server streams (0 picks a free one, for tests).</summary>
    public int Port { get; set; } = 5269;

    /// <summary>
    /// XEP-0368: a second port for incoming server streams with TLS from the first byte (ALPN "xmpp-server"), on the
    /// same address; unset: none (0 picks a free one, for tests). Peers find it through an _xmpps-server._tcp record.
    /// </summary>
    public int? DirectTlsPort { get; set; }

    /// <summary>RFC 6120 §5.3.1: whether incoming and outgoing streams must use TLS before authentication.</summary>
    public bool RequireTls { get; set; } = true;

    /// <summary>
    /// Whether a peer must prove its domain with a certificate (no dialback on trust in DNS alone): outgoing streams
    /// to peers whose certificate does not validate fail, and incoming ones are offered SASL EXTERNAL only.
    /// </summary>
    public bool RequireTrustedCertificates { get; set; }

    /// <summary>
    /// XEP-0288: offer and request bidirectional streams, so that one connection carries stanzas both ways between
    /// two servers (the incoming stream carries ours back once the peer has authenticated on it).
    /// </summary>
    public bool Bidirectional { get; set; } = true;

    /// <summary>
    /// The XEP-0220 dialback secret; unset: a random one generated once and kept in the data directory
    /// (s2s/dialback.secret). Servers sharing one domain behind a balancer need the same secret.
    /// </summary>
    public string? DialbackSecret { get; set; }

    /// <summary>Seconds without traffic after which a server stream is closed.</summary>
    public int IdleSeconds { get; set; } = 600;

    /// <summary>Seconds an outgoing connection may take to resolve, connect, secure and authenticate.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 30;

    /// <summary>Static routes: remote domain to "host:port", used instead of DNS (private networks, tests).</summary>
    public Dictionary<string, string> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When not empty, the only remote domains this server federates with.</summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>Remote domains this server never federates with.</summary>
    public List<string> Deny { get; set; } = [];

    /// <summary>Most server streams at once, incoming and outgoing together.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Stanzas held for one remote domain while its connection is set up; beyond it they bounce.</summary>
    public int MaxQueue { get; set; } = 1000;

    /// <summary>PEM files of the certificate authorities trusted for peers' certificates; empty: the system store.</summary>
    public List<string> TrustedCaPaths { get; set; } = [];

    /// <summary>
    /// Name servers ("address" or "address:port") asked for SRV records; empty: those of /etc/resolv.conf. When set, they
    /// are asked for the targets' A and AAAA records too (the system resolver only for names they do not know).
    /// </summary>
    public List<string> DnsServers { get; set; } = [];

    /// <summary>The listener these options describe.</summary>
    public ListenerOptions Listener => new() { Enabled = Enabled, Address = Address, Port = Port };

    /// <summary>The direct TLS listener, when there is one.</summary>
    public ListenerOptions? DirectTlsListener =>
        DirectTlsPort is { } port ? new() { Enabled = Enabled, Address = Address, Port = port } : null;

    internal void Validate(List<string> errors)
    {
        Listener.Validate("S2s", errors);
        if (DirectTlsPort is { } direct && (direct is < 0 or > 65535 || (direct == Port && direct != 0)))
            errors.Add($"S2s:DirectTlsPort: must be between 0 and 65535 and differ from S2s:Port (got {direct})");
        if (IdleSeconds < 10) errors.Add($"S2s:IdleSeconds: must be at least 10 (got {IdleSeconds})");
        if (ConnectTimeoutSeconds is < 1 or > 600) errors.Add($"S2s:ConnectTimeoutSeconds: must be between 1 and 600 (got {ConnectTimeoutSeconds})");
        if (MaxConnections < 1) errors.Add($"S2s:MaxConnections: must be at least 1 (got {MaxConnections})");
        if (MaxQueue < 1) errors.Add($"S2s:MaxQueue: must be at least 1 (got {MaxQueue})");
        if (DialbackSecret is { Length: < 16 }) errors.Add("S2s:DialbackSecret: must be at least 16 characters");
        foreach (var (domain, route) in Routes)
        {
            if (!IsDomain(domain)) errors.Add($"S2s:Routes: '{domain}' is not a domain");
            if (!TryParseRoute(route, out _, out _)) errors.Add($"S2s:Routes:{domain}: '{route}' is not host:port");
        }
        foreach (var domain in Allow)
            if (!IsDomain(domain)) errors.Add($"S2s:Allow: '{domain}' is not a domain");
        foreach (var domain in Deny)
            if (!IsDomain(domain)) errors.Add($"S2s:Deny: '{domain}' is not a domain");
        foreach (var path in TrustedCaPaths)
            if (!File.Exists(path)) errors.Add($"S2s:TrustedCaPaths: no file '{path}'");
        foreach (var server in DnsServers)
            if (!System.Net.IPEndPoint.TryParse(server, out _)) errors.Add($"S2s:DnsServers: '{server}' is not an address or address:port");
    }

    private static bool IsDomain(string domain) =>
        Parley.Protocol.Jid.TryCreate(null, domain, null, out var jid) && jid.IsDomain;

    /// <summary>Reads "host:port" (a bracketed IPv6 address is allowed as the host).</summary>
    internal static bool TryParseRoute(string route, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = route.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(route.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            return false;
        host = route[..colon].Trim('[', ']');
        return host.Length > 0;
    }
}
