using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Parley.Server.Connections;

namespace Parley.Server.Web;

/// <summary>
/// The bundled web chat client at <c>/chat</c>: converse.js (installed from npm into web/chat by the build, never kept
/// in the repository), configured by a page this server writes with its WebSocket endpoint and domain, so a user opens
/// the page, logs in and chats with no other web server. <c>/chat?transport=bosh</c> connects over BOSH instead (for
/// networks that let no WebSocket through); so does <c>/chat</c> when WebSocket is disabled.
/// </summary>
public static partial class WebClientEndpoints
{
    private const string Dist = "node_modules/converse.js/dist";

    /// <summary>Maps /chat and its assets (when converse.js is installed).</summary>
    public static void Map(WebApplication app, ParleyOptions options, ILogger log)
    {
        var directory = Locate(options.WebClient.Directory);
        if (directory is null)
        {
            app.MapGet("/chat", () => Results.Text(
                "The web client is not installed: run 'npm ci' in web/chat (the build does this when npm is available), or set WebClient:Directory.\n",
                statusCode: StatusCodes.Status503ServiceUnavailable));
            LogNotInstalled(log);
            return;
        }
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(directory),
            RequestPath = "/chat/dist",
        });
        app.MapGet("/chat", (HttpContext http) => Results.Content(Page(http, options), "text/html; charset=utf-8"));
    }

    // WebClient:Directory, else web/chat's converse.js from the repository this binary was built in (dotnet run, tests).
    private static string? Locate(string? configured)
    {
        if (configured is not null) return File.Exists(Path.Combine(configured, "converse.min.js")) ? Path.GetFullPath(configured) : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "web", "chat", Dist);
            if (File.Exists(Path.Combine(candidate, "converse.min.js"))) return candidate;
        }
        return null;
    }

    private static string Page(HttpContext http, ParleyOptions options)
    {
        static string Js(string s) => System.Text.Json.JsonSerializer.Serialize(s);
        var bosh = options.Bosh.Enabled && (!options.WebSocket.Enabled || http.Request.Query["transport"] == "bosh");
        var transport = bosh
            ? "bosh_service_url: " + Js(BoshEndpoint.Url(http, options.Bosh))
            : "websocket_url: " + Js(HostMetaEndpoints.Url(http, options.WebSocket));
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>{{WebUtility.HtmlEncode(options.Domain)}} · Parley chat</title>
              <link rel="stylesheet" href="/chat/dist/converse.min.css">
              <script type="module" src="/chat/dist/converse.min.js" charset="utf-8"></script>
            </head>
            <body class="converse-fullscreen">
              <noscript>This chat runs in the browser and needs JavaScript. Any XMPP client works too: connect to {{WebUtility.HtmlEncode(options.Domain)}}.</noscript>
              <script type="module">
                converse.initialize({
                  assets_path: "/chat/dist/",
                  {{transport}},
                  discover_connection_methods: false,
                  locked_domain: {{Js(options.Domain)}},
                  view_mode: "fullscreen",
                  auto_reconnect: true,
                  allow_registration: false,
                  show_connection_url_input: false,
                  play_sounds: false,
                });
              </script>
            </body>
            </html>
            """;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The web client (converse.js) is not installed; /chat answers 503")]
    private static partial void LogNotInstalled(ILogger logger);
}
