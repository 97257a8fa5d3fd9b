using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Interop.Tests.Web;

/// <summary>The server of the console test: the shared interop set-up with alice as an administrator.</summary>
public sealed class ConsoleServer : IAsyncLifetime
{
    public InteropServer Inner { get; } = new(new Dictionary<string, string?> { ["Admins:0"] = "alice@localhost" });

    public Task InitializeAsync() => Inner.InitializeAsync();

    public Task DisposeAsync() => Inner.DisposeAsync();
}

/// <summary>
/// The admin web console in a real browser: Debian's chromium (headless, driven by Playwright, with JavaScript off to
/// prove the console needs none) logs in as an administrator, reads the dashboard, adds a user, kicks a session and
/// creates a room, all through the server-rendered forms.
/// </summary>
public sealed class AdminConsoleTests(ConsoleServer fixture) : IClassFixture<ConsoleServer>
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task An_admin_logs_in_sees_the_dashboard_adds_a_user_kicks_a_session_and_creates_a_room_without_javascript()
    {
        var server = fixture.Inner.Server;
        Assert.True(File.Exists(Chromium), "the test command installs Debian's chromium");
        // A session to see on the dashboard and to kick.
        await using var bob = new XmppClient(new XmppClientOptions
        {
            Jid = Jid.Parse("bob@localhost/desk"),
            Password = InteropServer.Password,
            Host = "127.0.0.1",
            Port = fixture.Inner.StartTlsPort,
            TrustedCertificates = [System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(fixture.Inner.CertificatePath)],
        });
        await bob.ConnectAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        await using var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true, JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        var root = $"https://localhost:{server.Port("upload")}/admin";

        // Not logged in: the console sends the browser to its login form; a wrong password is refused.
        await page.GotoAsync(root);
        Assert.EndsWith("/admin/login", page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=username]", "alice");
        await page.FillAsync("input[name=password]", "wrong");
        await page.ClickAsync("button:has-text('Log in')");
        Assert.Contains("Wrong name or password", await page.ContentAsync(), StringComparison.Ordinal);
        // bob's password is right, but bob is not an administrator.
        await page.GotoAsync(root + "/login");
        await page.FillAsync("input[name=username]", "bob");
        await page.FillAsync("input[name=password]", InteropServer.Password);
        await page.ClickAsync("button:has-text('Log in')");
        Assert.Contains("not an administrator", await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync(root + "/login");
        await page.FillAsync("input[name=username]", "alice@localhost");
        await page.FillAsync("input[name=password]", InteropServer.Password);
        await page.ClickAsync("button:has-text('Log in')");
        Assert.EndsWith("/admin", page.Url, StringComparison.Ordinal);
        var sessions = await page.Locator(".card[data-stat='Online sessions'] b").InnerTextAsync();
        Assert.True(int.Parse(sessions, System.Globalization.CultureInfo.InvariantCulture) >= 1, sessions);
        Assert.Contains("MiB", await page.Locator(".card[data-stat='Memory (resident)'] b").InnerTextAsync(), StringComparison.Ordinal);

        // Users: add one through the form; the list shows it, and the new account logs in over XMPP.
        await page.ClickAsync("header a:has-text('Users')");
        await page.FillAsync("form[action='/admin/run/user/add'] input[name=jid]", "webuser");
        await page.FillAsync("form[action='/admin/run/user/add'] input[name=password]", "made in the browser");
        await page.ClickAsync("form[action='/admin/run/user/add'] button");
        Assert.Equal("Created webuser@localhost", await page.Locator("p.ok").InnerTextAsync());
        Assert.Equal(1, await page.Locator("td", new() { HasTextString = "webuser@localhost" }).CountAsync());
        await using (var webuser = new XmppClient(new XmppClientOptions
        {
            Jid = Jid.Parse("webuser@localhost"),
            Password = "made in the browser",
            Host = "127.0.0.1",
            Port = fixture.Inner.StartTlsPort,
            TrustedCertificates = [System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(fixture.Inner.CertificatePath)],
        }))
        {
            await webuser.ConnectAsync();
        }

        // Sessions: kick bob's; his client hears a stream error.
        await page.ClickAsync("header a:has-text('Sessions')");
        await page.ClickAsync($"button[aria-label='Kick {bob.BoundJid}']");
        Assert.Contains($"Ended 1 session(s) of {bob.BoundJid}", await page.Locator("p.ok").InnerTextAsync(), StringComparison.Ordinal);
        await bob.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("policy-violation", bob.RemoteStreamError?.ConditionName);

        // Rooms: create one with the form's checkboxes; the table lists it as persistent.
        await page.ClickAsync("header a:has-text('Rooms')");
        await page.FillAsync("form[action='/admin/run/room/create'] input[name=room]", "webroom");
        await page.CheckAsync("form[action='/admin/run/room/create'] input[name=persistent]");
        await page.ClickAsync("form[action='/admin/run/room/create'] button");
        Assert.Equal("Created webroom@conference.localhost", await page.Locator("p.ok").InnerTextAsync());
        var row = page.Locator("tr", new() { HasTextString = "webroom@conference.localhost" });
        Assert.Contains("yes", await row.InnerTextAsync(), StringComparison.Ordinal);

        // The log and the configuration pages render what the registry returns.
        await page.ClickAsync("header a:has-text('Log')");
        Assert.Contains("Admin command 'room create' by web alice@localhost", await page.Locator("pre").InnerTextAsync(), StringComparison.Ordinal);
        await page.ClickAsync("header a:has-text('Configuration')");
        Assert.Contains("Domain", await page.ContentAsync(), StringComparison.Ordinal);

        // Logging out ends the login: the console asks for it again.
        await page.ClickAsync("header button:has-text('Log out')");
        await page.GotoAsync(root + "/users");
        Assert.EndsWith("/admin/login", page.Url, StringComparison.Ordinal);
    }
}
