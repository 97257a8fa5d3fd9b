using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Parley.Server.Connections;

/// <summary>
/// XEP-0156 §2: /.well-known/host-meta (XRD) and /.well-known/host-meta.json (JRD) name the WebSocket endpoint, so
/// web clients find it from the domain alone. The address is <c>WebSocket:PublicUrl</c> when set (a reverse proxy in
/// front), else the host and port the request came to. Readable from any site's pages (§3, CORS).
/// </summary>
public static class HostMetaEndpoints
{
    private const string WebSocketRel = "urn:xmpp:alt-connections:websocket";

    /// <summary>Maps the two documents.</summary>
    public static void Map(WebApplication app, WebSocketOptions options)
    {
        app.MapGet("/.well-known/host-meta", (HttpContext http) =>
        {
            Cors(http);
            var xml = new StringBuilder("<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n")
                .Append("  <Link rel='").Append(WebSocketRel).Append("' href='")
                .Append(System.Security.SecurityElement.Escape(Url(http, options))).Append("'/>\n</XRD>\n");
            return Results.Text(xml.ToString(), "application/xrd+xml; charset=utf-8");
        });
        app.MapGet("/.well-known/host-meta.json", (HttpContext http) =>
        {
            Cors(http);
            var json = JsonSerializer.Serialize(new { links = new[] { new { rel = WebSocketRel, href = Url(http, options) } } });
            return Results.Text(json, "application/json");
        });
    }

    /// <summary>The WebSocket URL clients should use.</summary>
    public static string Url(HttpContext http, WebSocketOptions options) =>
        options.PublicUrl ?? "wss://" + http.Request.Host.Value + WebSocketEndpoint.Path;

    private static void Cors(HttpContext http) => http.Response.Headers.AccessControlAllowOrigin = "*";
}
