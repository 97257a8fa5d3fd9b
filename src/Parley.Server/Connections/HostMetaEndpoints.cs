using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Parley.Server.Connections;

/// <summary>
/// XEP-0156 §2: /.well-known/host-meta (XRD) and /.well-known/host-meta.json (JRD) name the WebSocket and BOSH
/// endpoints that are enabled, so web clients find them from the domain alone. Each address is the endpoint's
/// <c>PublicUrl</c> when set (a reverse proxy in front), else the host and port the request came to. Readable from
/// any site's pages (§3, CORS).
/// </summary>
public static class HostMetaEndpoints
{
    private const string WebSocketRel = "urn:xmpp:alt-connections:websocket";
    private const string BoshRel = "urn:xmpp:alt-connections:xbosh";

    /// <summary>Maps the two documents.</summary>
    public static void Map(WebApplication app, ParleyOptions options)
    {
        app.MapGet("/.well-known/host-meta", (HttpContext http) =>
        {
            Cors(http);
            var xml = new StringBuilder("<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n");
            foreach (var (rel, href) in Links(http, options))
                xml.Append("  <Link rel='").Append(rel).Append("' href='").Append(System.Security.SecurityElement.Escape(href)).Append("'/>\n");
            return Results.Text(xml.Append("</XRD>\n").ToString(), "application/xrd+xml; charset=utf-8");
        });
        app.MapGet("/.well-known/host-meta.json", (HttpContext http) =>
        {
            Cors(http);
            var links = Links(http, options).ConvertAll(l => new { rel = l.Rel, href = l.Href });
            return Results.Text(JsonSerializer.Serialize(new { links }), "application/json");
        });
    }

    /// <summary>The WebSocket URL clients should use.</summary>
    public static string Url(HttpContext http, WebSocketOptions options) =>
        options.PublicUrl ?? "wss://" + http.Request.Host.Value + WebSocketEndpoint.Path;

    private static List<(string Rel, string Href)> Links(HttpContext http, ParleyOptions options)
    {
        var links = new List<(string, string)>(2);
        if (options.WebSocket.Enabled) links.Add((WebSocketRel, Url(http, options.WebSocket)));
        if (options.Bosh.Enabled) links.Add((BoshRel, BoshEndpoint.Url(http, options.Bosh)));
        return links;
    }

    private static void Cors(HttpContext http) => http.Response.Headers.AccessControlAllowOrigin = "*";
}
