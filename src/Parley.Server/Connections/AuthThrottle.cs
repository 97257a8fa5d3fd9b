using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Parley.Server.Connections;

/// <summary>
/// Delays answers to failed authentication attempts: the delay doubles with each recent failure from the same
/// address or for the same account, up to a ceiling, and is forgotten after a quiet period.
/// </summary>
public sealed class AuthThrottle(IOptions<ParleyOptions> options, TimeProvider time)
{
    private const int MaxTracked = 100_000;
    private static readonly TimeSpan Forget = TimeSpan.FromMinutes(15);
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset Last)> _failures = new(StringComparer.Ordinal);

    /// <summary>Records a failure and returns how long to wait before answering it.</summary>
    public TimeSpan Failed(IPAddress? address, string? account)
    {
        var now = time.GetUtcNow();
        if (_failures.Count > MaxTracked) Sweep(now);
        var n = 0;
        if (address is not null) n = Math.Max(n, Bump("ip:" + address, now));
        if (account is not null) n = Math.Max(n, Bump("user:" + account, now));
        var o = options.Value.Auth;
        if (o.FailureDelayMilliseconds == 0) return TimeSpan.Zero;
        var ms = o.FailureDelayMilliseconds * Math.Pow(2, Math.Min(n - 1, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, o.MaxFailureDelayMilliseconds));
    }

    /// <summary>Forgets the failures of an address and account after a success.</summary>
    public void Succeeded(IPAddress? address, string account)
    {
        if (address is not null) _failures.TryRemove("ip:" + address, out _);
        _failures.TryRemove("user:" + account, out _);
    }

    private int Bump(string key, DateTimeOffset now) =>
        _failures.AddOrUpdate(key, _ => (1, now),
            (_, v) => now - v.Last > Forget ? (1, now) : (v.Failures + 1, now)).Failures;

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, value) in _failures)
            if (now - value.Last > Forget) _failures.TryRemove(key, out _);
    }
}
