using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Web;

/// <summary>The admin console's protections, checked at the HTTP level (the browser test drives the pages).</summary>
public sealed partial class AdminConsoleTests
{
    private static (HttpClient Http, CookieContainer Cookies) Browser(TestServer server)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new HttpClientHandler
        {
            CookieContainer = cookies,
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && server.TrustServerCertificate()(new object(), c, null, System.Net.Security.SslPolicyErrors.None),
        }, disposeHandler: true)
        {
            BaseAddress = new Uri($"https://localhost:{server.Server.Port("upload")}/admin/"),
        };
        return (http, cookies);
    }

    [GeneratedRegex("name=\"_csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    private static async Task<string> CsrfAsync(HttpClient http, string page)
    {
        var html = await http.GetStringAsync(page);
        return CsrfField().Match(html).Groups[1].Value;
    }

    private static FormUrlEncodedContent Form(params (string, string)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));

    private static async Task LoginAsync(HttpClient http, string user)
    {
        var token = await CsrfAsync(http, "login");
        using var response = await http.PostAsync("login", Form(("_csrf", token), ("username", user), ("password", TestServer.Password)));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/admin", response.Headers.Location?.OriginalString);
    }

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(new() { ["Admins:0"] = "admin@example.test", ["Auth:FailureDelayMilliseconds"] = "1" });

    [Fact]
    public async Task Pages_need_a_login_that_only_an_admin_with_the_right_password_gets_and_carry_strict_headers()
    {
        await using var server = await StartAsync();
        await server.EnsureAccountAsync("admin");
        await server.EnsureAccountAsync("user");
        var (http, cookies) = Browser(server);
        using (http)
        {
            using var anonymous = await http.GetAsync("users");
            Assert.Equal(HttpStatusCode.SeeOther, anonymous.StatusCode);
            Assert.Equal("/admin/login", anonymous.Headers.Location?.OriginalString);

            // A login form posted without the cookie the form page set (another site's form) is refused.
            using (var bare = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }) { BaseAddress = http.BaseAddress })
            using (var forged = await bare.PostAsync("login", Form(("_csrf", "guess"), ("username", "admin"), ("password", TestServer.Password))))
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

            // A user who is not in Admins cannot log in even with the right password.
            var token = await CsrfAsync(http, "login");
            using (var notAdmin = await http.PostAsync("login", Form(("_csrf", token), ("username", "user"), ("password", TestServer.Password))))
                Assert.Equal(HttpStatusCode.Unauthorized, notAdmin.StatusCode);

            await LoginAsync(http, "admin");
            var login = cookies.GetCookies(http.BaseAddress!).Single(c => c.Name == "__Host-parley-admin");
            Assert.True(login.Secure && login.HttpOnly);
            using var page = await http.GetAsync("users");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            // No script may run (default-src 'none' covers scripts) and no other site may frame the console.
            var csp = page.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.DoesNotContain("<script", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task A_form_without_the_logins_csrf_token_or_from_another_origin_changes_nothing()
    {
        await using var server = await StartAsync();
        await server.EnsureAccountAsync("admin");
        var (http, _) = Browser(server);
        using (http)
        {
            await LoginAsync(http, "admin");
            var token = await CsrfAsync(http, "users");

            using (var missing = await http.PostAsync("run/user/add", Form(("jid", "forged1"), ("password", "x"))))
                Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
            using (var wrong = await http.PostAsync("run/user/add", Form(("_csrf", token + "x"), ("jid", "forged2"), ("password", "x"))))
                Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
            using (var request = new HttpRequestMessage(HttpMethod.Post, "run/user/add") { Content = Form(("_csrf", token), ("jid", "forged3"), ("password", "x")) })
            {
                request.Headers.Add("Origin", "https://evil.example");
                using var foreign = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
            }
            var accounts = await server.Services.GetRequiredService<Accounts>().ListAsync(CancellationToken.None);
            Assert.DoesNotContain(accounts, a => a.Local!.StartsWith("forged", StringComparison.Ordinal));

            // With the token, the form works and goes back to its page with the result shown once.
            using var done = await http.PostAsync("run/user/add", Form(("_csrf", token), ("_return", "/admin/users"), ("jid", "real"), ("password", "a password")));
            Assert.Equal(HttpStatusCode.SeeOther, done.StatusCode);
            Assert.Contains("Created real@example.test", await http.GetStringAsync("users"), StringComparison.Ordinal);
            Assert.DoesNotContain("Created real@example.test", await http.GetStringAsync("users"), StringComparison.Ordinal);

            // A _return that leaves the console is not followed.
            using var away = await http.PostAsync("run/user/list", Form(("_csrf", token), ("_return", "//evil.example/")));
            Assert.Equal(HttpStatusCode.OK, away.StatusCode);
        }
    }
}
