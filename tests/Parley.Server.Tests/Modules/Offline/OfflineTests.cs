using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Offline;

public sealed class OfflineTests
{
    private static Element Chat(string to, string body) =>
        new Element("message", Ns.Client).SetAttribute("to", to).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText(body));

    [Fact]
    public async Task A_stored_message_survives_a_server_restart()
    {
        var data = Path.Combine(Path.GetTempPath(), "parley-offline-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["Storage"] = "sqlite", ["DataDirectory"] = data };
        try
        {
            await using (var server = await TestServer.StartAsync(settings))
            {
                await server.EnsureAccountAsync("bob");
                await using var alice = await server.LoginAsync("alice");
                await alice.SendAsync(Chat("bob@example.test", "kept across a restart"));
                // The ping's reply proves the message was handled (stored) before the server stops.
                await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));
            }
            await using (var server = await TestServer.StartAsync(settings))
            {
                await using var bob = await server.LoginAsync("bob");
                await bob.SendAsync(new Element("presence", Ns.Client));
                using var timeout = new CancellationTokenSource(5000);
                var message = await bob.ReceiveAsync(timeout.Token);
                Assert.Equal("kept across a restart", message.ChildText("body", Ns.Client));
                Assert.NotNull(message.Child("delay", Ns.Delay));
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Beyond_the_quota_the_sender_gets_resource_constraint()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:MaxOfflineMessages"] = "2" });
        await server.EnsureAccountAsync("bob");
        await using var alice = await server.LoginAsync("alice");
        for (var i = 0; i < 3; i++) await alice.SendAsync(Chat("bob@example.test", "n" + i));
        using var timeout = new CancellationTokenSource(5000);
        var bounced = await alice.ReceiveAsync(timeout.Token);
        Assert.Equal("error", bounced.GetAttribute("type"));
        Assert.Equal("n2", bounced.ChildText("body", Ns.Client));
        Assert.NotNull(bounced.Child("error", Ns.Client)?.Child("resource-constraint", Ns.Stanzas));
    }

    [Fact]
    public async Task A_negative_priority_session_does_not_take_offline_messages()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("bob");
        await using var alice = await server.LoginAsync("alice");
        await alice.SendAsync(Chat("bob@example.test", "waiting"));
        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));
        await using var shy = await server.LoginAsync("bob", "shy");
        await shy.SendAsync(new Element("presence", Ns.Client).Add(new Element("priority", Ns.Client).AddText("-5")));
        await using var keen = await server.LoginAsync("bob", "keen");
        await keen.SendAsync(new Element("presence", Ns.Client));
        using var timeout = new CancellationTokenSource(5000);
        Assert.Equal("waiting", (await keen.ReceiveAsync(timeout.Token)).ChildText("body", Ns.Client));
        // The shy session heard only the keen one's presence.
        var heard = await shy.ReceiveAsync(timeout.Token);
        Assert.Equal("presence", heard.LocalName);
    }

    [Fact]
    public async Task Xep0160_two_resources_coming_online_together_share_the_stored_messages_once_in_order()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("bob");
        await using var alice = await server.LoginAsync("alice");
        const int count = 50;
        for (var i = 0; i < count; i++) await alice.SendAsync(Chat("bob@example.test", "m" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)));
        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

        await using var phone = await server.LoginAsync("bob", "phone");
        await using var laptop = await server.LoginAsync("bob", "laptop");
        await Task.WhenAll(phone.SendAsync(new Element("presence", Ns.Client)), laptop.SendAsync(new Element("presence", Ns.Client)));

        // Each message arrives exactly once in all, and in the order it was sent.
        var bodies = new List<string>();
        foreach (var client in new[] { phone, laptop })
        {
            var marker = "end-" + client.BoundJid.Resource;
            await client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", client.BoundJid.ToString()).SetAttribute("id", marker));
            using var timeout = new CancellationTokenSource(5000);
            var mine = new List<string>();
            while (true)
            {
                var e = await client.ReceiveAsync(timeout.Token);
                if (e.GetAttribute("id") == marker) break;
                if (e.LocalName == "message" && e.ChildText("body", Ns.Client) is { } body) mine.Add(body);
            }
            Assert.Equal([.. mine.Order(StringComparer.Ordinal)], mine);
            bodies.AddRange(mine);
        }
        Assert.Equal(count, bodies.Count);
        Assert.Equal(count, bodies.Distinct().Count());
    }
}
