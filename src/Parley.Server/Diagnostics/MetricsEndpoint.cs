using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Parley.Server.Diagnostics;

/// <summary>
/// Prometheus scrapes at <c>/metrics</c> on the HTTPS listener: 403 outside <c>Metrics:AllowedNetworks</c>, 401
/// without the bearer token when one is configured, else the text format (or OpenMetrics when asked for).
/// </summary>
public static class MetricsEndpoint
{
    /// <summary>The path of the endpoint.</summary>
    public const string Path = "/metrics";

    /// <summary>Maps the endpoint.</summary>
    public static void Map(WebApplication app, MetricsOptions options)
    {
        var networks = options.Networks();
        // Only the token's hash is kept: comparing two hashes of equal length takes the same time whatever the
        // guess, and says nothing about the token's length.
        var token = options.BearerToken is { } t ? SHA256.HashData(Encoding.UTF8.GetBytes(t)) : null;
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Metrics");
        app.MapGet(Path, (HttpContext http) => HandleAsync(http, networks, token, log));
    }

    private static async Task HandleAsync(HttpContext http, IReadOnlyList<IPNetwork> networks, byte[]? token, ILogger log)
    {
        var remote = http.Connection.RemoteIpAddress;
        if (!Allowed(networks, remote))
        {
            MetricsLog.Refused(log, remote?.ToString(), "not an allowed network");
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (token is not null && !Authorized(http.Request.Headers.Authorization, token))
        {
            // RFC 6750 §3: a missing or wrong token is 401 with a challenge.
            MetricsLog.Refused(log, remote?.ToString(), "no valid bearer token");
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
            return;
        }
        var services = http.RequestServices;
        await services.GetRequiredService<ParleyMetrics>().RefreshStorageFiguresAsync().WaitAsync(http.RequestAborted).ConfigureAwait(false);
        var openMetrics = PrometheusText.PrefersOpenMetrics(http.Request.GetTypedHeaders().Accept);
        var body = services.GetRequiredService<MetricsCollector>().Collect(openMetrics);
        http.Response.ContentType = openMetrics ? PrometheusText.OpenMetricsContentType : PrometheusText.TextContentType;
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    internal static bool Allowed(IReadOnlyList<IPNetwork> networks, IPAddress? remote)
    {
        if (remote is null) return false;
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
        if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
        foreach (var network in networks)
            if (network.Contains(remote)) return true;
        return false;
    }

    internal static bool Authorized(StringValues header, byte[] expectedHash)
    {
        if (header.Count != 1 || header[0] is not { } value) return false;
        const string scheme = "Bearer ";
        if (!value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(value[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, expectedHash);
    }
}
