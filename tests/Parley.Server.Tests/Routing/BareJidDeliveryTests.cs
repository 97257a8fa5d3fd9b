using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Infrastructure.Stanzas;

namespace Parley.Server.Tests.Routing;

/// <summary>RFC 6121 §8.5.2.1.1, option (b): with BareJidMessages=all every non-negative resource gets the message.</summary>
public sealed class BareJidDeliveryTests
{
    private static async Task<List<string>> MessagesSoFarAsync(XmppClient client)
    {
        var marker = "m" + Guid.NewGuid().ToString("N");
        await client.SendAsync(new Element("message", Ns.Client).SetAttribute("to", client.BoundJid.ToString()).SetAttribute("id", marker));
        using var timeout = new CancellationTokenSource(5000);
        var bodies = new List<string>();
        while (true)
        {
            var e = await client.ReceiveAsync(timeout.Token);
            if (e.GetAttribute("id") == marker) return bodies;
            if (e.LocalName == "message" && e.ChildText("body", Ns.Client) is { } body) bodies.Add(body);
        }
    }

    [Theory]
    [InlineData("highest", new[] { true, false, false })]
    [InlineData("all", new[] { true, true, false })]
    public async Task Chat_to_the_bare_jid_reaches_the_resources_the_policy_names_and_never_a_negative_one(string policy, bool[] expected)
    {
        await using var server = await TestServer.StartAsync(new() { ["BareJidMessages"] = policy });
        await using var high = await server.LoginAsync("bob", "high");
        await using var low = await server.LoginAsync("bob", "low");
        await using var negative = await server.LoginAsync("bob", "negative");
        XmppClient[] resources = [high, low, negative];
        var priorities = new[] { "5", "1", "-1" };
        for (var i = 0; i < resources.Length; i++)
            await resources[i].SendAsync(Presence().Add(new Element("priority", Ns.Client).AddText(priorities[i])));
        foreach (var r in resources) await MessagesSoFarAsync(r);

        await using var alice = await server.LoginAsync("alice");
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", "bob@example.test").SetAttribute("type", "chat")
            .Add(new Element("body", Ns.Client).AddText("hello bob")));
        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));
        for (var i = 0; i < resources.Length; i++)
            Assert.Equal(expected[i], (await MessagesSoFarAsync(resources[i])).Contains("hello bob"));
    }

    [Fact]
    public async Task An_unknown_policy_is_named_as_a_configuration_error()
    {
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestServer.StartAsync(new() { ["BareJidMessages"] = "random" }));
        Assert.Contains("BareJidMessages", e.Message, StringComparison.Ordinal);
    }
}
