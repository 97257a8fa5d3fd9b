using Microsoft.Playwright;

namespace Parley.Interop.Tests.Web;

/// <summary>
/// The bundled web client end to end: Debian's chromium (headless, driven by Playwright) opens /chat twice, two users
/// log in to converse.js over Parley's WebSocket endpoint and exchange a message.
/// </summary>
public sealed class ConverseTests(InteropServer server) : IClassFixture<InteropServer>
{
    private const string Chromium = "/usr/bin/chromium";

    private static async Task LoginAsync(IPage page, string url, string user)
    {
        await page.GotoAsync(url);
        var form = page.Locator("converse-login-form");
        await form.Locator("input[name=\"jid\"]").FillAsync(user);
        await form.Locator("input[name=\"password\"]").FillAsync(InteropServer.Password);
        await form.Locator("[type=\"submit\"]").First.ClickAsync();
        // Logged in: the control box shows the roster's heading instead of the form.
        await page.Locator("converse-roster, .controlbox-pane converse-roster").First.WaitForAsync(new() { Timeout = 30_000, State = WaitForSelectorState.Attached });
    }

    [Fact]
    public async Task Two_users_log_in_to_the_bundled_converse_js_page_and_exchange_a_message()
    {
        Assert.True(File.Exists(Chromium), "the test command installs Debian's chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var url = $"https://localhost:{server.Server.Port("upload")}/chat";
        // The server's certificate is self-signed: this browser accepts it, as a user would after checking it.
        await using var aliceContext = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        await using var bobContext = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        var alice = await aliceContext.NewPageAsync();
        var bob = await bobContext.NewPageAsync();
        await LoginAsync(alice, url, "alice");
        await LoginAsync(bob, url, "bob");

        // converse.js opens a conversation from the URL fragment. Bob's is open before Alice writes, so the message
        // lands in a conversation on screen however quickly it arrives.
        await bob.GotoAsync(url + "#converse/chat?jid=alice@localhost");
        await bob.Locator("textarea.chat-textarea").First.WaitForAsync(new() { Timeout = 30_000 });
        await alice.GotoAsync(url + "#converse/chat?jid=bob@localhost");
        var textarea = alice.Locator("textarea.chat-textarea").First;
        await textarea.WaitForAsync(new() { Timeout = 30_000 });
        await textarea.FillAsync("hello from the browser");
        await textarea.PressAsync("Enter");
        // Sent: converse shows its own message once it went out on the WebSocket.
        await alice.Locator(".chat-msg__text", new() { HasText = "hello from the browser" }).First.WaitForAsync(new() { Timeout = 30_000 });

        await bob.Locator(".chat-msg__text", new() { HasText = "hello from the browser" }).First.WaitForAsync(new() { Timeout = 30_000 });
    }
}
