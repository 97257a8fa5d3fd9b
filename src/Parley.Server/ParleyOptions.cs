namespace Parley.Server;

/// <summary>
/// The server's configuration, bound from the root of the configuration (JSON file, PARLEY_ environment
/// variables, command line). Every limit has a safe default. <see cref="Validate"/> names the bad key.
/// </summary>
public sealed class ParleyOptions
{
    /// <summary>The XMPP domain this server hosts.</summary>
    public string Domain { get; set; } = "localhost";

    /// <summary>Where the database, generated certificate and other state live.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>"sqlite" (default, in the data directory) or "memory" (tests; nothing survives a restart).</summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>SQLite connections kept open with their prepared statements; more operations at once open and close their own.</summary>
    public int SqliteConnections { get; set; } = Parley.Server.Storage.Sql.SqliteStorage.DefaultMaxConnections;

    /// <summary>Accounts (bare JIDs) that may run the administrative ad-hoc commands (XEP-0133).</summary>
    public List<string> Admins { get; set; } = [];

    /// <summary>The local socket the `parley` CLI uses to reach the running server.</summary>
    public AdminSocketOptions AdminSocket { get; set; } = new();

    /// <summary>The REST API (/api/admin), the web console (/admin) and the in-memory log they show.</summary>
    public AdminWebOptions Admin { get; set; } = new();

    /// <summary>Names of modules to leave out (for example "version" to hide the software version); required ones cannot be.</summary>
    public List<string> DisabledModules { get; set; } = [];

    /// <summary>Client connections with STARTTLS (RFC 6120 §5).</summary>
    public ListenerOptions C2s { get; set; } = new() { Port = 5222 };

    /// <summary>Client connections with TLS from the first byte (XEP-0368).</summary>
    public ListenerOptions C2sDirectTls { get; set; } = new() { Port = 5223 };

    /// <summary>Server-to-server federation (RFC 6120, XEP-0220, XEP-0368).</summary>
    public Federation.S2sOptions S2s { get; set; } = new();

    /// <summary>Certificate and TLS policy.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>Authentication policy.</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>Resource limits and timeouts.</summary>
    public LimitOptions Limits { get; set; } = new();

    /// <summary>
    /// RFC 6121 §8.5.2.1.1: which resources get a chat or normal message sent to the bare JID: "highest" (every
    /// available resource sharing the highest non-negative priority) or "all" (every available resource with a
    /// non-negative priority). Negative priority never gets one.
    /// </summary>
    public string BareJidMessages { get; set; } = "highest";

    /// <summary>XEP-0198 stream management.</summary>
    public StreamManagementOptions StreamManagement { get; set; } = new();

    /// <summary>XEP-0313 message archive.</summary>
    public ArchiveOptions Archive { get; set; } = new();

    /// <summary>XEP-0045 multi-user chat limits.</summary>
    public MucOptions Muc { get; set; } = new();

    /// <summary>XEP-0357 push notifications: what they may reveal.</summary>
    public PushOptions Push { get; set; } = new();

    /// <summary>XEP-0363 HTTP file upload on upload.&lt;Domain&gt; with its HTTPS listener.</summary>
    public UploadOptions Upload { get; set; } = new();

    /// <summary>The bundled web chat client (converse.js) at /chat on the HTTPS listener.</summary>
    public WebClientOptions WebClient { get; set; } = new();

    /// <summary>RFC 7395 XMPP over WebSocket at /xmpp-websocket on the HTTPS listener (Upload:Address and Upload:Port).</summary>
    public WebSocketOptions WebSocket { get; set; } = new();

    /// <summary>XEP-0124 BOSH with XEP-0206 at /http-bind on the HTTPS listener (Upload:Address and Upload:Port).</summary>
    public BoshOptions Bosh { get; set; } = new();

    /// <summary>XEP-0215: STUN and TURN servers offered to clients (for Jingle calls); none by default.</summary>
    public List<ExternalServiceOptions> ExternalServices { get; set; } = [];

    /// <summary>In-band registration (XEP-0077) of new accounts by anyone who connects; off by default.</summary>
    public RegistrationOptions Registration { get; set; } = new();

    /// <summary>Prometheus metrics at /metrics on the HTTPS listener, for loopback only by default.</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>External components (XEP-0114) such as gateways, each on its own domain with its own secret.</summary>
    public ComponentsOptions Components { get; set; } = new();

    /// <summary>The bare JIDs in <see cref="Admins"/> (entries that are not JIDs are left out; Validate names them).</summary>
    public HashSet<Parley.Protocol.Jid> AdminJids()
    {
        var set = new HashSet<Parley.Protocol.Jid>();
        foreach (var a in Admins)
            if (Parley.Protocol.Jid.TryParse(a, out var jid)) set.Add(jid.Bare);
        return set;
    }

    /// <summary>Checks every value; returns the problems, each naming its configuration key.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Domain) || !Parley.Protocol.Jid.TryCreate(null, Domain, null, out var d) || !d.IsDomain)
            errors.Add($"Domain: '{Domain}' is not a valid XMPP domain");
        if (string.IsNullOrWhiteSpace(DataDirectory)) errors.Add("DataDirectory: must not be empty");
        if (BareJidMessages is not ("highest" or "all")) errors.Add($"BareJidMessages: must be 'highest' or 'all' (got '{BareJidMessages}')");
        if (Storage is not ("sqlite" or "memory")) errors.Add($"Storage: must be 'sqlite' or 'memory' (got '{Storage}')");
        if (SqliteConnections is < 1 or > 256) errors.Add($"SqliteConnections: must be from 1 to 256 (got {SqliteConnections})");
        foreach (var admin in Admins)
            if (!Parley.Protocol.Jid.TryParse(admin, out var a) || !a.IsBare || a.Local is null) errors.Add($"Admins: '{admin}' is not a bare account JID");
        foreach (var name in DisabledModules)
        {
            var entry = Modules.ModuleCatalog.All.FirstOrDefault(e => e.Info.Name == name);
            if (entry is null) errors.Add($"DisabledModules: no module is called '{name}'");
            else if (entry.Info.Required) errors.Add($"DisabledModules: '{name}' is required and cannot be disabled");
        }
        C2s.Validate("C2s", errors);
        C2sDirectTls.Validate("C2sDirectTls", errors);
        if (C2s.Enabled && C2sDirectTls.Enabled && C2s.Port != 0 && C2s.Port == C2sDirectTls.Port && C2s.Address == C2sDirectTls.Address)
            errors.Add("C2sDirectTls:Port: must differ from C2s:Port");
        S2s.Validate(errors);
        if ((Tls.CertificatePath is null) != (Tls.KeyPath is null))
            errors.Add("Tls:CertificatePath and Tls:KeyPath: set both or neither");
        Auth.Validate(errors);
        if (Registration.PerAddressPerHour < 1) errors.Add($"Registration:PerAddressPerHour: must be at least 1 (got {Registration.PerAddressPerHour})");
        Limits.Validate(errors);
        Components.Validate(Parley.Protocol.Jid.TryCreate(null, Domain, null, out var own) ? own.Domain : Domain, errors);
        Upload.Validate(errors);
        WebSocket.Validate(errors);
        if (Admin.ConsoleSessionMinutes < 1) errors.Add($"Admin:ConsoleSessionMinutes: must be at least 1 (got {Admin.ConsoleSessionMinutes})");
        if (Admin.LogLines is < 1 or > 100_000) errors.Add($"Admin:LogLines: must be 1 to 100000 (got {Admin.LogLines})");
        Metrics.Validate(errors);
        Bosh.Validate(errors);
        if (Muc.CreateRooms is not ("local" or "admins" or "anyone")) errors.Add($"Muc:CreateRooms: must be local, admins or anyone (got '{Muc.CreateRooms}')");
        if (Muc.MaxRoomsPerAccount < 1) errors.Add($"Muc:MaxRoomsPerAccount: must be at least 1 (got {Muc.MaxRoomsPerAccount})");
        if (Muc.MaxOccupantsPerRoom < 2) errors.Add($"Muc:MaxOccupantsPerRoom: must be at least 2 (got {Muc.MaxOccupantsPerRoom})");
        if (Muc.MessagesPerMinute < 1) errors.Add($"Muc:MessagesPerMinute: must be at least 1 (got {Muc.MessagesPerMinute})");
        for (var i = 0; i < ExternalServices.Count; i++) ExternalServices[i].Validate($"ExternalServices:{i}", errors);
        if (Archive.RetentionDays < 0) errors.Add($"Archive:RetentionDays: must be at least 0 (0 keeps messages forever; got {Archive.RetentionDays})");
        if (Archive.MaxPageSize is < 1 or > 10000) errors.Add($"Archive:MaxPageSize: must be between 1 and 10000 (got {Archive.MaxPageSize})");
        if (Archive.DefaultMode is not ("always" or "roster" or "never")) errors.Add($"Archive:DefaultMode: must be 'always', 'roster' or 'never' (got '{Archive.DefaultMode}')");
        if (StreamManagement.ResumeTimeoutSeconds is < 0 or > 86400)
            errors.Add($"StreamManagement:ResumeTimeoutSeconds: must be between 0 (no resumption) and 86400 (got {StreamManagement.ResumeTimeoutSeconds})");
        return errors;
    }
}

/// <summary>
/// The Unix domain socket on which the running server accepts administrative requests from the `parley` CLI
/// (online users, announcements, ending the sessions of a deleted account). It lives in a directory only the
/// server's user can enter.
/// </summary>
public sealed class AdminSocketOptions
{
    /// <summary>Whether to listen.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The socket's path; unset: run/parley.sock in the data directory.</summary>
    public string? Path { get; set; }

    /// <summary>The path in effect for these options.</summary>
    public string ResolvePath(string dataDirectory) => System.IO.Path.GetFullPath(Path ?? System.IO.Path.Combine(dataDirectory, "run", "parley.sock"));
}

/// <summary>The administrative front ends on the HTTPS listener, and the log lines kept for them.</summary>
public sealed class AdminWebOptions
{
    /// <summary>Whether /api/admin answers (with bearer tokens from `parley token create`).</summary>
    public bool ApiEnabled { get; set; } = true;

    /// <summary>Whether the web console at /admin answers (login with an account named in Admins).</summary>
    public bool ConsoleEnabled { get; set; } = true;

    /// <summary>How long a console login lasts without use, in minutes.</summary>
    public int ConsoleSessionMinutes { get; set; } = 30;

    /// <summary>How many of the latest log lines are kept in memory for "log tail".</summary>
    public int LogLines { get; set; } = 1000;
}

/// <summary>
/// One external service (XEP-0215). With <see cref="Secret"/>, clients get time-limited TURN credentials in the
/// shared-secret REST scheme (username "expiry:jid", password base64 HMAC-SHA1 of the username) that a TURN server
/// such as coturn with use-auth-secret checks without knowing the accounts.
/// </summary>
public sealed class ExternalServiceOptions
{
    /// <summary>stun, turn, stuns or turns.</summary>
    public string Type { get; set; } = "stun";

    /// <summary>The service's host name or address.</summary>
    public string Host { get; set; } = "";

    /// <summary>The port (0: the protocol's default, 3478 or 5349).</summary>
    public int Port { get; set; }

    /// <summary>udp or tcp.</summary>
    public string Transport { get; set; } = "udp";

    /// <summary>The TURN REST shared secret (never logged, never sent); unset: no credentials.</summary>
    public string? Secret { get; set; }

    /// <summary>How long issued credentials are valid, in seconds.</summary>
    public int CredentialSeconds { get; set; } = 86400;

    internal void Validate(string key, List<string> errors)
    {
        if (Type is not ("stun" or "turn" or "stuns" or "turns")) errors.Add($"{key}:Type: must be stun, turn, stuns or turns (got '{Type}')");
        if (string.IsNullOrWhiteSpace(Host)) errors.Add($"{key}:Host: must be set");
        if (Port is < 0 or > 65535) errors.Add($"{key}:Port: must be between 0 and 65535 (got {Port})");
        if (Transport is not ("udp" or "tcp")) errors.Add($"{key}:Transport: must be udp or tcp (got '{Transport}')");
        if (CredentialSeconds is < 60 or > 30 * 86400) errors.Add($"{key}:CredentialSeconds: must be between 60 and 2592000 (got {CredentialSeconds})");
    }
}

/// <summary>XEP-0045 limits, each with the XEP's error when reached.</summary>
public sealed class MucOptions
{
    /// <summary>Who may create rooms: "local" (accounts of this server), "admins" (the Admins list) or "anyone".</summary>
    public string CreateRooms { get; set; } = "local";

    /// <summary>Rooms one account may own (resource-constraint beyond).</summary>
    public int MaxRoomsPerAccount { get; set; } = 50;

    /// <summary>The most occupants a room may be configured for (its maxusers; service-unavailable when full).</summary>
    public int MaxOccupantsPerRoom { get; set; } = 1000;

    /// <summary>Groupchat messages one occupant may send per minute (policy-violation beyond).</summary>
    public int MessagesPerMinute { get; set; } = 120;

    /// <summary>Whether a new room keeps an archive (XEP-0313 on the room, muc#roomconfig_enablelogging) until its owner says otherwise.</summary>
    public bool ArchiveByDefault { get; set; } = true;
}

/// <summary>XEP-0357: push notifications go through the app vendor's servers, so by default they say only that a message came.</summary>
public sealed class PushOptions
{
    /// <summary>Include the sender's JID (last-message-sender).</summary>
    public bool IncludeSender { get; set; }

    /// <summary>Include the message body (last-message-body).</summary>
    public bool IncludeBody { get; set; }
}

/// <summary>The bundled web chat client.</summary>
public sealed class WebClientOptions
{
    /// <summary>Whether /chat is served (it needs WebSocket).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where converse.js's dist folder is; unset means web/chat/node_modules/converse.js/dist of the
    /// repository the server was built in.</summary>
    public string? Directory { get; set; }
}

/// <summary>RFC 7395 XMPP over WebSocket.</summary>
public sealed class WebSocketOptions
{
    /// <summary>Whether /xmpp-websocket is served (it starts the HTTPS listener even when upload is off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Origins (e.g. https://chat.example.org) whose pages may connect; empty allows any. Requests without an
    /// Origin header (non-browser clients) are always allowed.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Seconds between WebSocket pings that keep idle connections alive (RFC 7395 §3.5).</summary>
    public int PingSeconds { get; set; } = 30;

    /// <summary>The wss:// URL that host-meta (XEP-0156) announces; unset means the host and port a request came to.</summary>
    public string? PublicUrl { get; set; }

    internal void Validate(List<string> errors)
    {
        if (PingSeconds is < 1 or > 3600) errors.Add($"WebSocket:PingSeconds: must be between 1 and 3600 (got {PingSeconds})");
        if (PublicUrl is not null && (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out var url) || url.Scheme is not ("wss" or "ws")))
            errors.Add($"WebSocket:PublicUrl: must be an absolute wss:// URL (got '{PublicUrl}')");
        Origins.Validate("WebSocket:AllowedOrigins", AllowedOrigins, errors);
    }
}

/// <summary>
/// Prometheus metrics at /metrics on the HTTPS listener (served whenever that listener runs, that is when upload or
/// WebSocket is on). A scrape must come from an allowed network and, when a token is set, carry it.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>The loopback networks, allowed when <see cref="AllowedNetworks"/> is empty.</summary>
    internal static readonly IReadOnlyList<System.Net.IPNetwork> Loopback =
        [System.Net.IPNetwork.Parse("127.0.0.0/8"), System.Net.IPNetwork.Parse("::1/128")];

    /// <summary>Whether /metrics is served.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Networks in CIDR notation (e.g. 10.0.0.0/8, fd00::/8) whose addresses may scrape; empty means loopback only
    /// (127.0.0.0/8 and ::1/128). (Empty rather than a filled default: configuration adds to a list, never replaces it.)
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>When set, a scrape must send "Authorization: Bearer &lt;token&gt;" (compared in constant time; never logged).</summary>
    public string? BearerToken { get; set; }

    /// <summary>The networks in effect.</summary>
    internal IReadOnlyList<System.Net.IPNetwork> Networks()
    {
        if (AllowedNetworks.Count == 0) return Loopback;
        var networks = new List<System.Net.IPNetwork>(AllowedNetworks.Count);
        foreach (var text in AllowedNetworks)
            if (System.Net.IPNetwork.TryParse(text, out var network)) networks.Add(network);
        return networks;
    }

    internal void Validate(List<string> errors)
    {
        foreach (var text in AllowedNetworks)
            if (!System.Net.IPNetwork.TryParse(text, out _))
                errors.Add($"Metrics:AllowedNetworks: '{text}' is not a network in CIDR notation (e.g. 10.0.0.0/8 or ::1/128)");
        // The token itself never goes into a message.
        if (BearerToken is not null && (BearerToken.Length < 16 || BearerToken.Any(char.IsWhiteSpace)))
            errors.Add("Metrics:BearerToken: must be at least 16 characters without spaces (or unset)");
    }
}

/// XEP-0124 BOSH carrying XEP-0206 XMPP at /http-bind. Every limit bounds what one client or all of them together
/// can make the server hold: sessions, held requests, their duration and the size of a request.
/// </summary>
public sealed class BoshOptions
{
    /// <summary>Whether /http-bind is served (it starts the HTTPS listener even when upload is off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Origins (e.g. https://chat.example.org) whose pages may use the endpoint; empty allows any. Requests
    /// without an Origin header (non-browser clients) are always allowed.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>The longest a request is held waiting for something to send (XEP-0124 §7.2 'wait'); a client may ask for less.</summary>
    public int WaitSeconds { get; set; } = 60;

    /// <summary>The most requests held at once per session ('hold'); a client may ask for fewer. 'requests' is one more.</summary>
    public int HoldMax { get; set; } = 1;

    /// <summary>Seconds with no request held after which the session counts as dropped (§10 'inactivity').</summary>
    public int InactivitySeconds { get; set; } = 60;

    /// <summary>The longest pause a client may ask for (§10 'maxpause'); 0 offers none.</summary>
    public int MaxPauseSeconds { get; set; } = 120;

    /// <summary>The most sessions at once; beyond it new ones are refused.</summary>
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>The largest HTTP request body in bytes (413 beyond), and the most output one response carries.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The https:// URL that host-meta (XEP-0156) announces; unset means the host and port a request came to.</summary>
    public string? PublicUrl { get; set; }

    internal void Validate(List<string> errors)
    {
        if (WaitSeconds is < 1 or > 3600) errors.Add($"Bosh:WaitSeconds: must be between 1 and 3600 (got {WaitSeconds})");
        if (HoldMax is < 0 or > 16) errors.Add($"Bosh:HoldMax: must be between 0 and 16 (got {HoldMax})");
        if (InactivitySeconds is < 1 or > 86400) errors.Add($"Bosh:InactivitySeconds: must be between 1 and 86400 (got {InactivitySeconds})");
        if (MaxPauseSeconds is < 0 or > 86400) errors.Add($"Bosh:MaxPauseSeconds: must be between 0 and 86400 (got {MaxPauseSeconds})");
        if (MaxSessions < 1) errors.Add($"Bosh:MaxSessions: must be at least 1 (got {MaxSessions})");
        if (MaxBodyBytes is < 10000 or > 64 * 1024 * 1024) errors.Add($"Bosh:MaxBodyBytes: must be between 10000 and 67108864 (got {MaxBodyBytes})");
        if (PublicUrl is not null && (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http")))
            errors.Add($"Bosh:PublicUrl: must be an absolute https:// URL (got '{PublicUrl}')");
        Origins.Validate("Bosh:AllowedOrigins", AllowedOrigins, errors);
    }
}

/// <summary>Lists of web origins that browser pages may connect from (WebSocket, BOSH).</summary>
internal static class Origins
{
    internal static void Validate(string key, List<string> origins, List<string> errors)
    {
        foreach (var origin in origins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http") || u.AbsolutePath != "/")
                errors.Add($"{key}: '{origin}' must be an origin such as https://chat.example.org");
    }

    /// <summary>Whether a request with this Origin header (empty: none, a non-browser client) may proceed.</summary>
    internal static bool Allowed(List<string> allowed, string origin) =>
        allowed.Count == 0 || origin.Length == 0 || allowed.Contains(origin, StringComparer.OrdinalIgnoreCase);
}

/// <summary>XEP-0363 HTTP file upload.</summary>
public sealed class UploadOptions
{
    /// <summary>Whether the upload service and its HTTPS listener run.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The HTTPS listener's address ("any", "loopback" or an IP address).</summary>
    public string Address { get; set; } = "any";

    /// <summary>The HTTPS listener's port (0 picks a free one, for tests).</summary>
    public int Port { get; set; } = 5443;

    /// <summary>The base URL clients are given (e.g. behind a reverse proxy); unset: https://&lt;Domain&gt;:&lt;Port&gt;.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>The largest file, in bytes.</summary>
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>The most bytes one account may have stored.</summary>
    public long QuotaBytesPerAccount { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Seconds a slot's PUT URL stays valid.</summary>
    public int SlotSeconds { get; set; } = 300;

    /// <summary>Days a file is kept (0: forever).</summary>
    public int RetentionDays { get; set; } = 30;

    internal void Validate(List<string> errors)
    {
        if (Port is < 0 or > 65535) errors.Add($"Upload:Port: must be between 0 and 65535 (got {Port})");
        if (Address is not ("any" or "loopback") && !System.Net.IPAddress.TryParse(Address, out _))
            errors.Add($"Upload:Address: must be an IP address, 'any' or 'loopback' (got '{Address}')");
        if (PublicUrl is not null && (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http")))
            errors.Add($"Upload:PublicUrl: must be an absolute http(s) URL (got '{PublicUrl}')");
        if (MaxFileBytes < 1) errors.Add($"Upload:MaxFileBytes: must be at least 1 (got {MaxFileBytes})");
        if (QuotaBytesPerAccount < MaxFileBytes) errors.Add("Upload:QuotaBytesPerAccount: must be at least Upload:MaxFileBytes");
        if (SlotSeconds is < 10 or > 86400) errors.Add($"Upload:SlotSeconds: must be between 10 and 86400 (got {SlotSeconds})");
        if (RetentionDays < 0) errors.Add($"Upload:RetentionDays: must be at least 0 (got {RetentionDays})");
    }
}

/// <summary>XEP-0313 message archive management.</summary>
public sealed class ArchiveOptions
{
    /// <summary>Days a message stays in the archive (0: forever).</summary>
    public int RetentionDays { get; set; }

    /// <summary>Most messages one query page returns (also the page size when the client names none).</summary>
    public int MaxPageSize { get; set; } = 100;

    /// <summary>What is archived for an account that set no preferences: "always", "roster" or "never".</summary>
    public string DefaultMode { get; set; } = "always";
}

/// <summary>XEP-0198 stream management.</summary>
public sealed class StreamManagementOptions
{
    /// <summary>Seconds a session whose connection was lost waits to be resumed (0: resumption is not offered).</summary>
    public int ResumeTimeoutSeconds { get; set; } = 300;
}

/// <summary>One TCP listener.</summary>
public sealed class ListenerOptions
{
    /// <summary>Whether to listen at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to bind: an IP address, "any" (all IPv4 and IPv6) or "loopback".</summary>
    public string Address { get; set; } = "any";

    /// <summary>The port (0 picks a free one, for tests).</summary>
    public int Port { get; set; }

    internal void Validate(string key, List<string> errors)
    {
        if (Port is < 0 or > 65535) errors.Add($"{key}:Port: must be between 0 and 65535 (got {Port})");
        if (Address is not ("any" or "loopback") && !System.Net.IPAddress.TryParse(Address, out _))
            errors.Add($"{key}:Address: must be an IP address, 'any' or 'loopback' (got '{Address}')");
    }
}

/// <summary>TLS policy (RFC 7590).</summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate chain; when unset a self-signed certificate for the domain is generated in the data directory.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// Whether clients may skip STARTTLS. Only honoured for connections from loopback addresses, and only when
    /// set to true explicitly: plaintext is never offered to remote peers.
    /// </summary>
    public bool AllowPlaintextOnLoopback { get; set; }

    /// <summary>
    /// Whether OpenSSL may free a connection's record buffers (about 34 KB) while they are empty
    /// (<c>SSL_MODE_RELEASE_BUFFERS</c>; Linux only, see <c>TlsIdleBuffers</c>). Idle sessions then hold far less
    /// memory, at the cost of an allocation when traffic resumes.
    /// </summary>
    public bool ReleaseIdleBuffers { get; set; } = true;
}

/// <summary>Authentication policy.</summary>
public sealed class AuthOptions
{
    /// <summary>PBKDF2 iterations for newly stored SCRAM credentials (RFC 7677 §4 recommends at least 4096).</summary>
    public int ScramIterations { get; set; } = 10000;

    /// <summary>Whether PLAIN is offered (only ever over TLS).</summary>
    public bool AllowPlain { get; set; } = true;

    /// <summary>Delay before answering the first failed attempt; it doubles with each further failure from the same address or for the same account.</summary>
    public int FailureDelayMilliseconds { get; set; } = 1000;

    /// <summary>The largest failure delay.</summary>
    public int MaxFailureDelayMilliseconds { get; set; } = 16000;

    /// <summary>Failed attempts in one stream before it is closed with policy-violation.</summary>
    public int MaxFailuresPerStream { get; set; } = 5;

    internal void Validate(List<string> errors)
    {
        if (ScramIterations is < 4096 or > 10_000_000) errors.Add($"Auth:ScramIterations: must be between 4096 and 10000000 (got {ScramIterations})");
        if (FailureDelayMilliseconds is < 0 or > 60000) errors.Add($"Auth:FailureDelayMilliseconds: must be between 0 and 60000 (got {FailureDelayMilliseconds})");
        if (MaxFailureDelayMilliseconds < FailureDelayMilliseconds) errors.Add("Auth:MaxFailureDelayMilliseconds: must be at least Auth:FailureDelayMilliseconds");
        if (MaxFailuresPerStream < 1) errors.Add($"Auth:MaxFailuresPerStream: must be at least 1 (got {MaxFailuresPerStream})");
    }
}

/// <summary>Limits and timeouts. Every one is configurable.</summary>
public sealed class LimitOptions
{
    /// <summary>Largest stanza in bytes (RFC 6120 §13.12 requires at least 10000).</summary>
    public int MaxStanzaBytes { get; set; } = 256 * 1024;

    /// <summary>Deepest element nesting in a stanza.</summary>
    public int MaxDepth { get; set; } = 64;

    /// <summary>Most concurrent connections on all listeners together.</summary>
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>Most concurrent sessions (bound resources) of one account.</summary>
    public int MaxResourcesPerAccount { get; set; } = 16;

    /// <summary>Messages kept for one account while it is offline (XEP-0160); beyond it, resource-constraint.</summary>
    public int MaxOfflineMessages { get; set; } = 1000;

    /// <summary>Largest vCard (XEP-0054) in bytes.</summary>
    public int MaxVCardBytes { get; set; } = 64 * 1024;

    /// <summary>Largest private XML item (XEP-0049) in bytes.</summary>
    public int MaxPrivateXmlBytes { get; set; } = 64 * 1024;

    /// <summary>Most items in one roster (RFC 6121 §2: not-acceptable beyond it).</summary>
    public int MaxRosterItems { get; set; } = 1000;

    /// <summary>Longest roster item name or group name, in UTF-8 bytes (RFC 6121 §2.3.3).</summary>
    public int MaxRosterTextBytes { get; set; } = 1023;

    /// <summary>Stanzas queued to one connection before it is considered stuck and disconnected.</summary>
    public int OutboundQueueStanzas { get; set; } = 2000;

    /// <summary>Seconds a connection may take from open to bound resource.</summary>
    public int NegotiationTimeoutSeconds { get; set; } = 60;

    /// <summary>Seconds without any input (including whitespace keepalives) before a stream is closed with connection-timeout.</summary>
    public int IdleTimeoutSeconds { get; set; } = 900;

    /// <summary>Seconds without output after which the server sends a whitespace keepalive.</summary>
    public int KeepaliveSeconds { get; set; } = 60;

    internal void Validate(List<string> errors)
    {
        if (MaxStanzaBytes is < 10000 or > 64 * 1024 * 1024) errors.Add($"Limits:MaxStanzaBytes: must be between 10000 (RFC 6120 §13.12) and 67108864 (got {MaxStanzaBytes})");
        if (MaxDepth is < 4 or > 1000) errors.Add($"Limits:MaxDepth: must be between 4 and 1000 (got {MaxDepth})");
        if (MaxConnections < 1) errors.Add($"Limits:MaxConnections: must be at least 1 (got {MaxConnections})");
        if (MaxResourcesPerAccount < 1) errors.Add($"Limits:MaxResourcesPerAccount: must be at least 1 (got {MaxResourcesPerAccount})");
        if (MaxOfflineMessages < 0) errors.Add($"Limits:MaxOfflineMessages: must be at least 0 (got {MaxOfflineMessages})");
        if (MaxVCardBytes is < 1024 or > 16 * 1024 * 1024) errors.Add($"Limits:MaxVCardBytes: must be between 1024 and 16777216 (got {MaxVCardBytes})");
        if (MaxPrivateXmlBytes is < 1024 or > 16 * 1024 * 1024) errors.Add($"Limits:MaxPrivateXmlBytes: must be between 1024 and 16777216 (got {MaxPrivateXmlBytes})");
        if (MaxRosterItems < 1) errors.Add($"Limits:MaxRosterItems: must be at least 1 (got {MaxRosterItems})");
        if (MaxRosterTextBytes is < 1 or > 65536) errors.Add($"Limits:MaxRosterTextBytes: must be between 1 and 65536 (got {MaxRosterTextBytes})");
        if (OutboundQueueStanzas < 10) errors.Add($"Limits:OutboundQueueStanzas: must be at least 10 (got {OutboundQueueStanzas})");
        if (NegotiationTimeoutSeconds < 1) errors.Add($"Limits:NegotiationTimeoutSeconds: must be at least 1 (got {NegotiationTimeoutSeconds})");
        if (IdleTimeoutSeconds < 2) errors.Add($"Limits:IdleTimeoutSeconds: must be at least 2 (got {IdleTimeoutSeconds})");
        if (KeepaliveSeconds < 1 || KeepaliveSeconds >= IdleTimeoutSeconds) errors.Add($"Limits:KeepaliveSeconds: must be at least 1 and below Limits:IdleTimeoutSeconds (got {KeepaliveSeconds})");
    }
}

/// <summary>
/// XEP-0114 external components: the listener (loopback by default, since the handshake is not encrypted) and the
/// components allowed to connect. The listener runs only when at least one component is configured.
/// </summary>
public sealed class ComponentsOptions
{
    /// <summary>The address to bind: an IP address, "any" or "loopback".</summary>
    public string Address { get; set; } = "loopback";

    /// <summary>The port (0 picks a free one, for tests).</summary>
    public int Port { get; set; } = 5347;

    /// <summary>The components, each with its domain and shared secret.</summary>
    public List<ComponentOptions> List { get; set; } = [];

    internal void Validate(string serverDomain, List<string> errors)
    {
        new ListenerOptions { Address = Address, Port = Port }.Validate("Components", errors);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < List.Count; i++)
        {
            var key = $"Components:List:{i}";
            var c = List[i];
            if (string.IsNullOrWhiteSpace(c.Domain) || !Parley.Protocol.Jid.TryCreate(null, c.Domain, null, out var d) || !d.IsDomain)
                errors.Add($"{key}:Domain: '{c.Domain}' is not a valid XMPP domain");
            else if (d.Domain == serverDomain)
                errors.Add($"{key}:Domain: must differ from the server's Domain");
            else if (!seen.Add(d.Domain))
                errors.Add($"{key}:Domain: '{d.Domain}' is configured twice");
            if (string.IsNullOrEmpty(c.Secret)) errors.Add($"{key}:Secret: must be set");
        }
    }
}

/// <summary>One external component (XEP-0114).</summary>
public sealed class ComponentOptions
{
    /// <summary>The component's domain, e.g. irc.example.org; stanzas to it and its JIDs go to the component.</summary>
    public string Domain { get; set; } = "";

    /// <summary>The shared secret of the handshake (never logged).</summary>
    public string Secret { get; set; } = "";
}

/// <summary>XEP-0077 in-band registration. Password change and account removal by a logged-in user are always on.</summary>
public sealed class RegistrationOptions
{
    /// <summary>Whether anyone may create an account over XMPP.</summary>
    public bool Enabled { get; set; }

    /// <summary>Accounts one IP address may create per hour.</summary>
    public int PerAddressPerHour { get; set; } = 3;
}
