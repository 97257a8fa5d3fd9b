using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;

namespace Parley.Server.Web;

/// <summary>
/// Logins to the web console: a random session id in a <c>__Host-</c> cookie (Secure, HttpOnly, SameSite=Strict)
/// mapped in memory to the admin's JID, a CSRF token that every form carries, a sliding expiry, and a message to
/// show on the next page. Bounded: the oldest logins go when there are too many. A restart logs everyone out.
/// </summary>
public sealed class AdminConsoleSessions(IOptions<ParleyOptions> options, TimeProvider time)
{
    /// <summary>The login cookie's name.</summary>
    public const string Cookie = "__Host-parley-admin";

    /// <summary>The most logins kept at once.</summary>
    public const int MaxSessions = 1000;

    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>One login.</summary>
    public sealed class ConsoleSession(Jid admin, string csrf, DateTimeOffset expires)
    {
        /// <summary>Who logged in.</summary>
        public Jid Admin { get; } = admin;

        /// <summary>The token every form of this login carries.</summary>
        public string Csrf { get; } = csrf;

        /// <summary>When the login ends unless used.</summary>
        public DateTimeOffset Expires { get; set; } = expires;

        /// <summary>A result to show on the next page (after a form redirected back).</summary>
        public (bool Ok, string Text)? Flash { get; set; }
    }

    private TimeSpan Lifetime => TimeSpan.FromMinutes(options.Value.Admin.ConsoleSessionMinutes);

    /// <summary>Starts a login; returns its id (the cookie's value).</summary>
    public string Start(Jid admin)
    {
        var now = time.GetUtcNow();
        if (_sessions.Count >= MaxSessions) Sweep(now, evictOldest: true);
        var id = NewToken();
        _sessions[id] = new ConsoleSession(admin, NewToken(), now + Lifetime);
        return id;
    }

    /// <summary>The live login of a cookie value (its expiry pushed on), or null.</summary>
    public ConsoleSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || !_sessions.TryGetValue(id, out var session)) return null;
        var now = time.GetUtcNow();
        if (session.Expires <= now)
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        session.Expires = now + Lifetime;
        return session;
    }

    /// <summary>Ends a login.</summary>
    public void End(string? id)
    {
        if (id is not null) _sessions.TryRemove(id, out _);
    }

    /// <summary>Ends every login of an admin (for example when the account is deleted).</summary>
    public void EndAll(Jid admin)
    {
        foreach (var (id, s) in _sessions)
            if (s.Admin == admin.Bare) _sessions.TryRemove(id, out _);
    }

    /// <summary>Whether a submitted CSRF token is the expected one (constant time).</summary>
    public static bool TokenMatches(string? submitted, string expected) =>
        submitted is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(submitted), Encoding.ASCII.GetBytes(expected));

    /// <summary>A fresh random token (256 bits, URL-safe).</summary>
    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private void Sweep(DateTimeOffset now, bool evictOldest)
    {
        string? oldest = null;
        var oldestExpiry = DateTimeOffset.MaxValue;
        foreach (var (id, s) in _sessions)
        {
            if (s.Expires <= now) _sessions.TryRemove(id, out _);
            else if (s.Expires < oldestExpiry)
            {
                oldest = id;
                oldestExpiry = s.Expires;
            }
        }
        if (evictOldest && _sessions.Count >= MaxSessions && oldest is not null) _sessions.TryRemove(oldest, out _);
    }
}
