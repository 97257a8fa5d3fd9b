using System.Security.Cryptography;
using System.Text;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules;

/// <summary>XEP-0215 external service discovery, with TURN REST credentials.</summary>
public sealed class ExternalServicesTests
{
    private const string Ns215 = "urn:xmpp:extdisco:2";

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(new()
    {
        ["ExternalServices:0:Type"] = "stun",
        ["ExternalServices:0:Host"] = "turn.example.test",
        ["ExternalServices:1:Type"] = "turn",
        ["ExternalServices:1:Host"] = "turn.example.test",
        ["ExternalServices:1:Transport"] = "tcp",
        ["ExternalServices:1:Secret"] = "s3cret",
        ["ExternalServices:1:CredentialSeconds"] = "3600",
    });

    [Fact]
    public async Task Xep0215_3_1_services_are_listed_and_turn_comes_with_credentials_a_turn_server_can_check()
    {
        await using var server = await StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var reply = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("services", Ns215)));
        var services = new List<Element>();
        foreach (var child in reply.Child("services", Ns215)!.Children) services.Add(child);
        Assert.Equal(2, services.Count);
        Assert.Equal(("stun", "3478", "udp"), (services[0].GetAttribute("type"), services[0].GetAttribute("port"), services[0].GetAttribute("transport")));
        Assert.Null(services[0].GetAttribute("password"));
        var turn = services[1];
        var username = turn.GetAttribute("username")!;
        Assert.EndsWith(":alice@example.test", username, StringComparison.Ordinal);
#pragma warning disable CA5350 // the TURN REST scheme is HMAC-SHA1
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes("s3cret"), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
        Assert.Equal(expected, turn.GetAttribute("password"));
        var expires = DateTimeOffset.Parse(turn.GetAttribute("expires")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));

        var onlyTurn = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("services", Ns215).SetAttribute("type", "turn")));
        Assert.Equal(1, onlyTurn.Child("services", Ns215)!.ChildCount);

        var credentials = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("credentials", Ns215).Add(new Element("service", Ns215).SetAttribute("host", "turn.example.test").SetAttribute("type", "turn"))));
        Assert.NotNull(credentials.Child("credentials", Ns215)?.Child("service", Ns215)?.GetAttribute("password"));
        var none = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("credentials", Ns215).Add(new Element("service", Ns215).SetAttribute("host", "turn.example.test").SetAttribute("type", "stun"))));
        Assert.NotNull(none.Child("error", Ns.Client)?.Child("item-not-found", Ns.Stanzas));
    }

    [Fact]
    public async Task Without_configured_services_nothing_is_advertised_or_answered()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var disco = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("query", Ns.DiscoInfo)));
        Assert.DoesNotContain(Ns215, disco.ToString(), StringComparison.Ordinal);
        var reply = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("services", Ns215)));
        Assert.NotNull(reply.Child("error", Ns.Client)?.Child("service-unavailable", Ns.Stanzas));
    }
}
