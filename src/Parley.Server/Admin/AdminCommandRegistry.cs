using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Connections;
using Parley.Server.Modules;
using Parley.Server.Modules.Muc;
using Parley.Server.Routing;

namespace Parley.Server.Admin;

/// <summary>
/// The one list of administrative commands. Each is written here once; the CLI (through the admin socket, or
/// against the data directory when no server runs and the command allows it), XEP-0050 ad-hoc commands, the REST
/// API under /api/admin and the web console at /admin all offer exactly these, by the same names, with the same
/// arguments, validated the same way, and with the same results.
/// </summary>
public sealed partial class AdminCommandRegistry(IServiceProvider services, ILogger<AdminCommandRegistry> log)
{
    private static readonly AdminParameter Account = new("jid", AdminParameterKind.Jid, "The account: user@domain, or just user for this server's domain", Required: true, Positional: true);
    private static readonly AdminParameter Password = new("password", AdminParameterKind.Secret, "The password", Required: true);

    /// <summary>Every command, in the order help texts list them.</summary>
    public static IReadOnlyList<AdminCommand> All { get; } =
    [
        new("user add", "Create an account", [Account, Password], ReadOnly: false, Offline: true, UserAddAsync),
        new("user delete", "Delete an account and everything stored for it, and end its sessions", [Account], ReadOnly: false, Offline: true, UserDeleteAsync),
        new("user passwd", "Change an account's password", [Account, Password with { Description = "The new password" }], ReadOnly: false, Offline: true, UserPasswdAsync),
        new("user list", "List the accounts", [], ReadOnly: true, Offline: true, UserListAsync),
        new("session list", "List the bound sessions", [], ReadOnly: true, Offline: false, SessionListAsync),
        new("session kick", "End a session (a full JID) or every session of an account (a bare JID)",
            [new("jid", AdminParameterKind.Jid, "The session's full JID, or an account", Required: true, Positional: true),
             new("reason", AdminParameterKind.Text, "Told to the client in the stream error")],
            ReadOnly: false, Offline: false, SessionKickAsync),
        new("room list", "List the rooms of the chat service", [], ReadOnly: true, Offline: false, RoomListAsync),
        new("room create", "Create a room that is ready to enter",
            [new("room", AdminParameterKind.Text, "The room: name@conference.<domain>, or just name", Required: true, Positional: true),
             new("name", AdminParameterKind.Text, "A title"),
             new("owner", AdminParameterKind.Jid, "An account to own it"),
             new("persistent", AdminParameterKind.Flag, "Keep it when empty and across restarts"),
             new("hidden", AdminParameterKind.Flag, "Leave it out of the public list"),
             new("members-only", AdminParameterKind.Flag, "Only members may enter")],
            ReadOnly: false, Offline: false, RoomCreateAsync),
        new("room destroy", "Destroy a room; its occupants are told, with the reason and an alternate venue",
            [new("room", AdminParameterKind.Text, "The room: name@conference.<domain>, or just name", Required: true, Positional: true),
             new("reason", AdminParameterKind.Text, "Why"),
             new("venue", AdminParameterKind.Jid, "A room to go to instead")],
            ReadOnly: false, Offline: false, RoomDestroyAsync),
        new("announce", "Send a message to every online session",
            [new("body", AdminParameterKind.Multiline, "The announcement", Required: true, Positional: true),
             new("subject", AdminParameterKind.Text, "A subject line")],
            ReadOnly: false, Offline: false, AnnounceAsync),
        new("stats", "Server statistics: uptime, sessions, accounts, rooms, messages per minute, memory", [], ReadOnly: true, Offline: false, StatsAsync),
        new("cert status", "The TLS certificate in use: names, validity, fingerprint", [], ReadOnly: true, Offline: false, CertStatusAsync),
        new("config show", "The configuration in effect (secrets hidden)", [], ReadOnly: true, Offline: true, ConfigShowAsync),
        new("log tail", "The server log's last lines",
            [new("lines", AdminParameterKind.Number, "How many (default 100)")], ReadOnly: true, Offline: false, LogTailAsync),
        new("token create", "Issue a bearer token for the REST API (shown once)",
            [new("name", AdminParameterKind.Text, "What the token is for", Required: true, Positional: true),
             new("days", AdminParameterKind.Number, "Days until it expires (default 365, 0 never)")],
            ReadOnly: false, Offline: true, TokenCreateAsync),
        new("token list", "List the REST API tokens", [], ReadOnly: true, Offline: true, TokenListAsync),
        new("token revoke", "Revoke REST API tokens by id or name",
            [new("token", AdminParameterKind.Text, "The token's id or name", Required: true, Positional: true)],
            ReadOnly: false, Offline: true, TokenRevokeAsync),
    ];

    /// <summary>The command of a name ("user add"), or null.</summary>
    public static AdminCommand? Find(string name)
    {
        foreach (var c in All)
            if (c.Name == name) return c;
        return null;
    }

    /// <summary>The command at a REST or console path ("user/add"), or null.</summary>
    public static AdminCommand? FindByPath(string? path)
    {
        foreach (var c in All)
            if (c.Path == path) return c;
        return null;
    }

    /// <summary>
    /// Validates the arguments and runs the command; logs who ran which command (never the arguments).
    /// <paramref name="actor"/> says who: "cli", "xmpp admin@example.org", "api token ci", "web admin@example.org".
    /// </summary>
    public async Task<AdminResult> ExecuteAsync(AdminCommand command, AdminArguments arguments, string actor, CancellationToken ct)
    {
        if (command.Validate(arguments) is { } problem) return AdminResult.Bad(problem);
        LogRun(log, command.Name, actor);
        var result = await command.Run(services, arguments, ct).ConfigureAwait(false);
        if (!result.Ok) LogRefused(log, command.Name, actor, AdminResult.Name(result.Outcome));
        return result;
    }

    [LoggerMessage(EventId = 1410, Level = LogLevel.Information, Message = "Admin command '{Command}' by {Actor}")]
    private static partial void LogRun(ILogger logger, string command, string actor);

    [LoggerMessage(EventId = 1411, Level = LogLevel.Information, Message = "Admin command '{Command}' by {Actor}: {Outcome}")]
    private static partial void LogRefused(ILogger logger, string command, string actor, string outcome);

    private static bool TryAccount(IServiceProvider sp, AdminArguments args, out Jid account) =>
        sp.GetRequiredService<Accounts>().TryParseAccount(args.Text("jid")!, out account);

    private static AdminResult NotAnAccount(AdminArguments args) => AdminResult.Bad($"'{args.Text("jid")}' is not an account of this server (expected user or user@domain with the configured domain)");

    // user add and user passwd: an account of this domain and an acceptable password, then the change.
    private static async Task<AdminResult> WithPasswordAsync(IServiceProvider sp, AdminArguments args,
        Func<Accounts, Jid, string, Task<bool>> change, string done, AdminResult failed)
    {
        if (!TryAccount(sp, args, out var account)) return NotAnAccount(args);
        var password = args.Text("password")!;
        if (!Accounts.IsValidPassword(password)) return AdminResult.Bad("The password is empty or contains characters not allowed (RFC 8265 OpaqueString)");
        return await change(sp.GetRequiredService<Accounts>(), account, password).ConfigureAwait(false)
            ? AdminResult.Done(done + " " + account, new JsonObject { ["jid"] = account.ToString() })
            : failed with { Message = string.Format(CultureInfo.InvariantCulture, failed.Message, account) };
    }

    private static Task<AdminResult> UserAddAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct) =>
        WithPasswordAsync(sp, args, (a, j, p) => a.CreateAsync(j, p, ct), "Created", new AdminResult(AdminOutcome.Conflict, "{0} already exists"));

    private static Task<AdminResult> UserPasswdAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct) =>
        WithPasswordAsync(sp, args, (a, j, p) => a.SetPasswordAsync(j, p, ct), "Changed the password of", AdminResult.Missing("{0} does not exist"));

    private static async Task<AdminResult> UserDeleteAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        if (!TryAccount(sp, args, out var account)) return NotAnAccount(args);
        if (!await sp.GetRequiredService<Accounts>().DeleteAsync(account, ct).ConfigureAwait(false))
            return AdminResult.Missing($"{account} does not exist");
        var ended = await sp.GetRequiredService<AdminOperations>().EndSessionsAsync(account, "The account was deleted", ct).ConfigureAwait(false);
        return AdminResult.Done($"Deleted {account}", new JsonObject { ["jid"] = account.ToString(), ["sessions_ended"] = ended });
    }

    private static async Task<AdminResult> UserListAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var accounts = await sp.GetRequiredService<Accounts>().ListAsync(ct).ConfigureAwait(false);
        var list = new JsonArray();
        foreach (var a in accounts) list.Add(a.ToString());
        return AdminResult.Done($"{accounts.Count} account(s)", new JsonObject { ["accounts"] = list });
    }

    private static Task<AdminResult> SessionListAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var sessions = new List<IClientSession>(sp.GetRequiredService<SessionRegistry>().All);
        sessions.Sort((a, b) => string.CompareOrdinal(a.Jid.ToString(), b.Jid.ToString()));
        var rows = new JsonArray();
        var accounts = new HashSet<Jid>();
        foreach (var s in sessions)
        {
            accounts.Add(s.Jid.Bare);
            rows.Add(new JsonObject
            {
                ["jid"] = s.Jid.ToString(),
                ["since"] = s.BoundAt.ToString("u", CultureInfo.InvariantCulture),
                ["available"] = s.Presence.IsAvailable,
                ["priority"] = s.Presence.Priority,
                ["stream"] = s.StreamId,
            });
        }
        return Task.FromResult(AdminResult.Done($"{accounts.Count} account(s) online in {sessions.Count} session(s)",
            new JsonObject { ["accounts"] = accounts.Count, ["sessions"] = rows }));
    }

    private static async Task<AdminResult> SessionKickAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var jid = args.Jid("jid")!.Value;
        var registry = sp.GetRequiredService<SessionRegistry>();
        IClientSession[] targets = jid.IsBare ? registry.Resources(jid) : registry.TryGet(jid, out var one) ? [one] : [];
        if (targets.Length == 0) return AdminResult.Missing($"No session of {jid} is bound");
        var reason = args.Text("reason") ?? "An administrator ended the session";
        foreach (var s in targets) await s.CloseAsync(StreamError.PolicyViolation(reason), ct).ConfigureAwait(false);
        return AdminResult.Done($"Ended {targets.Length} session(s) of {jid}", new JsonObject { ["sessions_ended"] = targets.Length });
    }

    private static MucModule? Muc(IServiceProvider sp) => sp.GetRequiredService<ModuleRegistry>().Get<MucModule>();

    private static AdminResult NoMuc() => new(AdminOutcome.Unavailable, "The chat service (the muc module) is disabled");

    private static bool TryRoom(MucModule muc, string text, out Jid room)
    {
        if (!text.Contains('@', StringComparison.Ordinal)) text = text + "@" + muc.Service.Domain;
        return Jid.TryParse(text, out room) && room.IsBare && room.Local is not null && room.Domain == muc.Service.Domain;
    }

    private static async Task<AdminResult> RoomListAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        if (Muc(sp) is not { } muc) return NoMuc();
        var rooms = await muc.ListRoomsAsync(ct).ConfigureAwait(false);
        var rows = new JsonArray();
        foreach (var r in rooms)
            rows.Add(new JsonObject
            {
                ["room"] = r.Jid.ToString(),
                ["name"] = r.Name,
                ["occupants"] = r.Occupants,
                ["persistent"] = r.Persistent,
                ["public"] = r.Public,
                ["members_only"] = r.MembersOnly,
                ["owners"] = string.Join(' ', r.Owners),
            });
        return AdminResult.Done($"{rooms.Count} room(s) on {muc.Service}", new JsonObject { ["rooms"] = rows });
    }

    private static async Task<AdminResult> RoomCreateAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        if (Muc(sp) is not { } muc) return NoMuc();
        if (!TryRoom(muc, args.Text("room")!, out var room)) return AdminResult.Bad($"'{args.Text("room")}' is not a room of {muc.Service}");
        Jid? owner = null;
        if (args.Text("owner") is { } o)
        {
            if (!sp.GetRequiredService<Accounts>().TryParseAccount(o, out var account) && !Jid.TryParse(o, out account)) return AdminResult.Bad($"owner: '{o}' is not a JID");
            owner = account.Bare;
        }
        return await muc.CreateRoomAsync(room, owner, args.Text("name"), args.Flag("persistent"), !args.Flag("hidden"), args.Flag("members-only"), ct).ConfigureAwait(false)
            ? AdminResult.Done($"Created {room}", new JsonObject { ["room"] = room.ToString() })
            : new AdminResult(AdminOutcome.Conflict, $"{room} already exists");
    }

    private static async Task<AdminResult> RoomDestroyAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        if (Muc(sp) is not { } muc) return NoMuc();
        if (!TryRoom(muc, args.Text("room")!, out var room)) return AdminResult.Bad($"'{args.Text("room")}' is not a room of {muc.Service}");
        return await muc.DestroyRoomAsync(room, args.Text("reason"), args.Text("venue"), ct).ConfigureAwait(false)
            ? AdminResult.Done($"Destroyed {room}", new JsonObject { ["room"] = room.ToString() })
            : AdminResult.Missing($"{room} does not exist");
    }

    private static Task<AdminResult> AnnounceAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var sent = sp.GetRequiredService<AdminOperations>().Announce(args.Text("subject"), args.Text("body")!);
        return Task.FromResult(AdminResult.Done($"Sent to {sent} session(s)", new JsonObject { ["sessions"] = sent }));
    }

    private static async Task<AdminResult> StatsAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var sessions = sp.GetRequiredService<SessionRegistry>();
        var online = sp.GetRequiredService<AdminOperations>().OnlineAccounts().Count;
        var accounts = await sp.GetRequiredService<Accounts>().CountAsync(ct).ConfigureAwait(false);
        var rooms = Muc(sp) is { } muc ? (await muc.ListRoomsAsync(ct).ConfigureAwait(false)).Count : 0;
        using var process = Process.GetCurrentProcess();
        var uptime = DateTime.Now - process.StartTime;
        var data = new JsonObject
        {
            ["uptime_seconds"] = (long)uptime.TotalSeconds,
            ["sessions"] = sessions.Count,
            ["online_accounts"] = online,
            ["accounts"] = accounts,
            ["rooms"] = rooms,
            ["s2s_connections"] = (sp.GetService<IRemoteRouter>() as Federation.S2sPool)?.Count ?? 0,
            ["messages_per_minute"] = sp.GetService<Diagnostics.ParleyMetrics>()?.MessagesLastMinute ?? 0,
            ["working_set_bytes"] = Environment.WorkingSet,
            ["gc_heap_bytes"] = GC.GetTotalMemory(false),
        };
        var text = string.Create(CultureInfo.InvariantCulture,
            $"Up {(int)uptime.TotalDays}d {uptime.Hours:00}:{uptime.Minutes:00}:{uptime.Seconds:00}; {sessions.Count} session(s) of {online} of {accounts} account(s); {rooms} room(s); {Environment.WorkingSet / (1024 * 1024)} MiB resident");
        return AdminResult.Done(text, data);
    }

    private static Task<AdminResult> CertStatusAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var certificate = sp.GetRequiredService<TlsCertificateProvider>().Certificate;
        var domain = Jid.Create(null, sp.GetRequiredService<IOptions<ParleyOptions>>().Value.Domain).Domain;
        var names = new JsonArray();
        foreach (var ext in certificate.Extensions)
            if (ext is System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension san)
                foreach (var n in san.EnumerateDnsNames()) names.Add(n);
        var matches = certificate.MatchesHostname(domain, allowWildcards: true, allowCommonName: false);
        var daysLeft = (int)Math.Floor((certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays);
        var data = new JsonObject
        {
            ["subject"] = certificate.Subject,
            ["issuer"] = certificate.Issuer,
            ["self_signed"] = certificate.Subject == certificate.Issuer,
            ["dns_names"] = names,
            ["not_before"] = certificate.NotBefore.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture),
            ["not_after"] = certificate.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture),
            ["days_left"] = daysLeft,
            ["matches_domain"] = matches,
            ["sha256"] = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
        };
        var text = $"{certificate.Subject}, valid until {certificate.NotAfter.ToUniversalTime():u} ({daysLeft} days); {(matches ? "covers" : "does NOT cover")} {domain}";
        return Task.FromResult(AdminResult.Done(text, data));
    }

    private static Task<AdminResult> ConfigShowAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var options = sp.GetRequiredService<IOptions<ParleyOptions>>().Value;
        var rows = new JsonArray();
        Flatten(JsonSerializer.SerializeToNode(options, ConfigJson), "", rows);
        return Task.FromResult(AdminResult.Done($"{rows.Count} setting(s) in effect for {options.Domain}", new JsonObject { ["settings"] = rows }));
    }

    private static readonly JsonSerializerOptions ConfigJson = new() { WriteIndented = false };

    // Configuration keys as in appsettings.json or PARLEY_ variables ("C2s:Port"); secrets show as "(set)".
    private static void Flatten(JsonNode? node, string prefix, JsonArray rows)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o) Flatten(value, prefix.Length == 0 ? key : prefix + ":" + key, rows);
                break;
            case JsonArray a:
                if (a.Count == 0) rows.Add(new JsonObject { ["key"] = prefix, ["value"] = "" });
                for (var i = 0; i < a.Count; i++) Flatten(a[i], prefix + ":" + i.ToString(CultureInfo.InvariantCulture), rows);
                break;
            default:
                var text = node is null ? "" : node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
                if (IsSecret(prefix) && text.Length > 0) text = "(set)";
                rows.Add(new JsonObject { ["key"] = prefix, ["value"] = text });
                break;
        }
    }

    private static bool IsSecret(string key)
    {
        var last = key[(key.LastIndexOf(':') + 1)..];
        return last.Contains("Secret", StringComparison.OrdinalIgnoreCase) || last.Contains("Password", StringComparison.OrdinalIgnoreCase)
            || last.Contains("Token", StringComparison.OrdinalIgnoreCase) || last.Equals("ConnectionString", StringComparison.OrdinalIgnoreCase);
    }

    private static Task<AdminResult> LogTailAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var recent = sp.GetService<RecentLog>();
        if (recent is null) return Task.FromResult(new AdminResult(AdminOutcome.Unavailable, "This server keeps no log in memory"));
        var lines = new JsonArray();
        foreach (var line in recent.Tail(Math.Min(args.Number("lines", 100), recent.Capacity))) lines.Add(line);
        return Task.FromResult(AdminResult.Done($"The last {lines.Count} line(s) of the log", new JsonObject { ["lines"] = lines }));
    }

    private static async Task<AdminResult> TokenCreateAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var (token, info) = await sp.GetRequiredService<AdminTokens>().CreateAsync(args.Text("name")!, args.Number("days", 365), ct).ConfigureAwait(false);
        return AdminResult.Done($"Created token {info.Id} ('{info.Name}'); it is shown only now: {token}", new JsonObject
        {
            ["token"] = token,
            ["id"] = info.Id,
            ["name"] = info.Name,
            ["expires"] = info.Expires?.ToString("u", CultureInfo.InvariantCulture) ?? "never",
        });
    }

    private static async Task<AdminResult> TokenListAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var rows = new JsonArray();
        foreach (var t in await sp.GetRequiredService<AdminTokens>().ListAsync(ct).ConfigureAwait(false))
            rows.Add(new JsonObject
            {
                ["id"] = t.Id,
                ["name"] = t.Name,
                ["created"] = t.Created.ToString("u", CultureInfo.InvariantCulture),
                ["expires"] = t.Expires?.ToString("u", CultureInfo.InvariantCulture) ?? "never",
            });
        return AdminResult.Done($"{rows.Count} token(s)", new JsonObject { ["tokens"] = rows });
    }

    private static async Task<AdminResult> TokenRevokeAsync(IServiceProvider sp, AdminArguments args, CancellationToken ct)
    {
        var revoked = await sp.GetRequiredService<AdminTokens>().RevokeAsync(args.Text("token")!, ct).ConfigureAwait(false);
        return revoked == 0
            ? AdminResult.Missing($"No token has the id or name '{args.Text("token")}'")
            : AdminResult.Done($"Revoked {revoked} token(s)", new JsonObject { ["revoked"] = revoked });
    }
}
