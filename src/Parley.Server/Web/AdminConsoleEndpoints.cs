using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Admin;
using Parley.Server.Connections;

namespace Parley.Server.Web;

/// <summary>
/// The admin web console at /admin: server-rendered pages over the <see cref="AdminCommandRegistry"/>, usable
/// without JavaScript (there is none). Login with the XMPP password of an account named in Admins; every form
/// carries the login's CSRF token and must come from this origin; failed logins are slowed down like failed SASL.
/// </summary>
public static partial class AdminConsoleEndpoints
{
    /// <summary>The console's root path.</summary>
    public const string Root = "/admin";

    private const string LoginCsrfCookie = "__Host-parley-login";
    private const int MaxFormBytes = 64 * 1024;

    /// <summary>Maps the console.</summary>
    public static void Map(WebApplication app)
    {
        app.MapGet(Root + "/console.css", (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "max-age=3600";
            return Results.Text(AdminConsolePages.Css, "text/css; charset=utf-8");
        });
        app.MapGet(Root + "/login", LoginPage);
        app.MapPost(Root + "/login", LoginAsync);
        app.MapPost(Root + "/logout", LogoutAsync);
        app.MapPost(Root + "/run/{**path}", RunAsync);
        app.MapGet(Root, (HttpContext http) => PageAsync(http, "dashboard"));
        app.MapGet(Root + "/{page}", (HttpContext http, string page) => PageAsync(http, page));
    }

    private static AdminConsoleSessions Sessions(HttpContext http) => http.RequestServices.GetRequiredService<AdminConsoleSessions>();

    private static AdminConsoleSessions.ConsoleSession? Current(HttpContext http) =>
        Sessions(http).Find(http.Request.Cookies[AdminConsoleSessions.Cookie]);

    // A login counts while its account exists and is still named in Admins.
    private static async Task<AdminConsoleSessions.ConsoleSession?> CurrentAsync(HttpContext http)
    {
        if (Current(http) is not { } session) return null;
        var options = http.RequestServices.GetRequiredService<IOptions<ParleyOptions>>().Value;
        var storage = http.RequestServices.GetRequiredService<Storage.IStorage>();
        if (IsAdmin(options, session.Admin) && await storage.Accounts.GetAsync(session.Admin, http.RequestAborted).ConfigureAwait(false) is not null) return session;
        Sessions(http).EndAll(session.Admin);
        return null;
    }

    // Security headers on every console response: no scripts at all, no framing, styles from here only.
    private static void Harden(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.CacheControl = "no-store";
    }

    private static Task HtmlAsync(HttpContext http, string html, int status = StatusCodes.Status200OK)
    {
        Harden(http.Response);
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        return http.Response.WriteAsync(html, http.RequestAborted);
    }

    private static void SeeOther(HttpContext http, string location)
    {
        Harden(http.Response);
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
        http.Response.Headers.Location = location;
    }

    // A form must come from a page of this server: browsers send Origin with every POST; a different one is refused.
    private static bool SameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || string.Equals(origin, "https://" + request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<IFormCollection?> ReadFormAsync(HttpRequest request)
    {
        if (!request.HasFormContentType || request.ContentLength is null or > MaxFormBytes) return null;
        return await request.ReadFormAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    private static Task LoginPage(HttpContext http)
    {
        if (Current(http) is not null)
        {
            SeeOther(http, Root);
            return Task.CompletedTask;
        }
        var token = AdminConsoleSessions.NewToken();
        http.Response.Cookies.Append(LoginCsrfCookie, token, CookieOptions(TimeSpan.FromMinutes(30)));
        return HtmlAsync(http, AdminConsolePages.Login(Domain(http), token, null));
    }

    private static async Task LoginAsync(HttpContext http)
    {
        var form = await ReadFormAsync(http.Request).ConfigureAwait(false);
        var cookieToken = http.Request.Cookies[LoginCsrfCookie];
        if (form is null || !SameOrigin(http.Request) || cookieToken is null || !AdminConsoleSessions.TokenMatches(form["_csrf"], cookieToken))
        {
            await HtmlAsync(http, AdminConsolePages.Login(Domain(http), cookieToken ?? "", "The form expired; try again."), StatusCodes.Status400BadRequest).ConfigureAwait(false);
            return;
        }
        var services = http.RequestServices;
        var accounts = services.GetRequiredService<Accounts>();
        var options = services.GetRequiredService<IOptions<ParleyOptions>>().Value;
        var user = form["username"].ToString();
        var password = form["password"].ToString();
        var ok = accounts.TryParseAccount(user, out var account)
                 && IsAdmin(options, account)
                 && await accounts.VerifyPasswordAsync(account, password, http.RequestAborted).ConfigureAwait(false);
        var throttle = services.GetRequiredService<AuthThrottle>();
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Web.AdminConsole");
        var address = http.Connection.RemoteIpAddress;
        if (!ok)
        {
            LogLoginFailed(log, user, address);
            // As for SASL: each recent failure from this address or for this name doubles the wait.
            await Task.Delay(throttle.Failed(address, user), http.RequestAborted).ConfigureAwait(false);
            await HtmlAsync(http, AdminConsolePages.Login(Domain(http), cookieToken, "Wrong name or password, or not an administrator."), StatusCodes.Status401Unauthorized).ConfigureAwait(false);
            return;
        }
        throttle.Succeeded(address, account.Local!);
        LogLoggedIn(log, account.ToString(), address);
        var id = Sessions(http).Start(account);
        http.Response.Cookies.Delete(LoginCsrfCookie, CookieOptions(TimeSpan.Zero));
        http.Response.Cookies.Append(AdminConsoleSessions.Cookie, id, CookieOptions(null));
        SeeOther(http, Root);
    }

    private static async Task LogoutAsync(HttpContext http)
    {
        var session = Current(http);
        var form = await ReadFormAsync(http.Request).ConfigureAwait(false);
        if (session is not null && form is not null && SameOrigin(http.Request) && AdminConsoleSessions.TokenMatches(form["_csrf"], session.Csrf))
            Sessions(http).End(http.Request.Cookies[AdminConsoleSessions.Cookie]);
        http.Response.Cookies.Delete(AdminConsoleSessions.Cookie, CookieOptions(TimeSpan.Zero));
        SeeOther(http, Root + "/login");
    }

    private static CookieOptions CookieOptions(TimeSpan? maxAge) => new()
    {
        Secure = true,
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        MaxAge = maxAge,
        IsEssential = true,
    };

    private static bool IsAdmin(ParleyOptions options, Jid account) => options.AdminJids().Contains(account.Bare);

    private static string Domain(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<ParleyOptions>>().Value.Domain;

    // The pages: each runs registry commands and renders their results.
    private static async Task PageAsync(HttpContext http, string page)
    {
        if (await CurrentAsync(http).ConfigureAwait(false) is not { } session)
        {
            SeeOther(http, Root + "/login");
            return;
        }
        var registry = http.RequestServices.GetRequiredService<AdminCommandRegistry>();
        var actor = "web " + session.Admin;
        var ct = http.RequestAborted;
        Task<AdminResult> Run(string name, AdminArguments? args = null) =>
            registry.ExecuteAsync(AdminCommandRegistry.Find(name)!, args ?? new AdminArguments(), actor, ct);
        var flash = session.Flash;
        session.Flash = null;
        var view = new AdminConsolePages.View(session.Admin.ToString(), session.Csrf, Domain(http), flash);
        string? html = page switch
        {
            "dashboard" => AdminConsolePages.Dashboard(view, await Run("stats").ConfigureAwait(false)),
            "users" => AdminConsolePages.Users(view, await Run("user list").ConfigureAwait(false)),
            "sessions" => AdminConsolePages.SessionsPage(view, await Run("session list").ConfigureAwait(false)),
            "rooms" => AdminConsolePages.Rooms(view, await Run("room list").ConfigureAwait(false)),
            "log" => AdminConsolePages.Log(view, await Run("log tail", new AdminArguments().Set("lines", "200")).ConfigureAwait(false)),
            "config" => AdminConsolePages.Config(view, await Run("config show").ConfigureAwait(false), await Run("cert status").ConfigureAwait(false)),
            "commands" => AdminConsolePages.Commands(view),
            _ => null,
        };
        if (html is null) await HtmlAsync(http, AdminConsolePages.NotFound(view), StatusCodes.Status404NotFound).ConfigureAwait(false);
        else await HtmlAsync(http, html).ConfigureAwait(false);
    }

    // A form of any page runs its registry command; with _return it goes back there with the result shown, without
    // it the result gets a page of its own (a new token must be seen once).
    private static async Task RunAsync(HttpContext http, string path)
    {
        if (await CurrentAsync(http).ConfigureAwait(false) is not { } session)
        {
            SeeOther(http, Root + "/login");
            return;
        }
        var form = await ReadFormAsync(http.Request).ConfigureAwait(false);
        if (form is null || !SameOrigin(http.Request) || !AdminConsoleSessions.TokenMatches(form["_csrf"], session.Csrf))
        {
            Harden(http.Response);
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            await http.Response.WriteAsync("The form did not come from this console (CSRF check failed).\n", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var command = AdminCommandRegistry.FindByPath(path);
        var view = new AdminConsolePages.View(session.Admin.ToString(), session.Csrf, Domain(http), null);
        if (command is null)
        {
            await HtmlAsync(http, AdminConsolePages.NotFound(view), StatusCodes.Status404NotFound).ConfigureAwait(false);
            return;
        }
        var args = new AdminArguments();
        foreach (var p in command.Parameters)
        {
            var value = form[p.Name].ToString();
            if (p.Kind == AdminParameterKind.Flag) args.Set(p.Name, value.Length > 0 ? "true" : null);
            else if (value.Length > 0) args.Set(p.Name, value);
        }
        var registry = http.RequestServices.GetRequiredService<AdminCommandRegistry>();
        var result = await registry.ExecuteAsync(command, args, "web " + session.Admin, http.RequestAborted).ConfigureAwait(false);
        var back = form["_return"].ToString();
        if (back.StartsWith(Root, StringComparison.Ordinal) && !back.Contains("//", StringComparison.Ordinal) && !back.Contains('\\', StringComparison.Ordinal))
        {
            session.Flash = (result.Ok, result.Message);
            SeeOther(http, back);
            return;
        }
        await HtmlAsync(http, AdminConsolePages.Result(view, command, result), result.Ok ? StatusCodes.Status200OK : AdminApiEndpoints.Status(result.Outcome)).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1420, Level = LogLevel.Warning, Message = "Admin console login failed for '{User}' from {Address}")]
    private static partial void LogLoginFailed(ILogger logger, string user, IPAddress? address);

    [LoggerMessage(EventId = 1421, Level = LogLevel.Information, Message = "Admin console login by {Admin} from {Address}")]
    private static partial void LogLoggedIn(ILogger logger, string admin, IPAddress? address);
}
