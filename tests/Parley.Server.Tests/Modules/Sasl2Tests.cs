using System.Text;
using System.Text.RegularExpressions;
using Parley.Protocol;
using Parley.Protocol.Sasl;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules;

/// <summary>XEP-0388 SASL2 with XEP-0386 Bind2 and XEP-0198 inline, over a raw connection.</summary>
public sealed partial class Sasl2Tests
{
    private const string Sasl2 = "urn:xmpp:sasl:2";

    private static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + user + "\0" + password));

    private static string Bind(string tag) =>
        $"<bind xmlns='urn:xmpp:bind:0'><tag>{tag}</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/><enable xmlns='urn:xmpp:carbons:2'/></bind>";

    [GeneratedRegex("<authorization-identifier>([^<]+)</authorization-identifier>")]
    private static partial Regex Identifier();

    [GeneratedRegex("<enabled xmlns='urn:xmpp:sm:3' id='([^']+)'")]
    private static partial Regex SmId();

    [Fact]
    public async Task Xep0388_is_offered_over_tls_with_bind2_and_sm_inline()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawNegotiation.SecureAsync(server);
        var features = raw.Received;
        Assert.Contains($"<authentication xmlns='{Sasl2}'>", features, StringComparison.Ordinal);
        Assert.Contains("<mechanism>SCRAM-SHA-256</mechanism>", features, StringComparison.Ordinal);
        Assert.Contains("<bind xmlns='urn:xmpp:bind:0'>", features, StringComparison.Ordinal);
        Assert.Contains("<sm xmlns='urn:xmpp:sm:3'/>", features, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0386_one_round_trip_authenticates_binds_and_enables_stream_management_and_carbons()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var raw = await RawNegotiation.SecureAsync(server);
        raw.ClearReceived();
        await raw.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='PLAIN'><initial-response>{Plain("alice", TestServer.Password)}</initial-response>"
            + "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>Test</software></user-agent>" + Bind("Tester") + "</authenticate>");
        var got = await raw.ReadUntilAsync("<stream:features");
        await raw.ReadUntilAsync("/>");
        var full = Identifier().Match(got).Groups[1].Value;
        Assert.StartsWith("alice@example.test/Tester.", full, StringComparison.Ordinal);
        Assert.Contains("<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='", got, StringComparison.Ordinal);
        Assert.True(got.IndexOf("</success>", StringComparison.Ordinal) < got.IndexOf("<stream:features", StringComparison.Ordinal));

        // Bound, managed and with carbons: a message to another resource comes as a carbon, and is counted.
        raw.ClearReceived();
        await using var bob = await server.LoginAsync("bob");
        await using var other = await server.LoginAsync("alice", "other");
        await bob.SendAsync(new Element("message", Ns.Client).SetAttribute("to", "alice@example.test/other").SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText("hi other")));
        var carbon = await raw.ReadUntilAsync("</message>");
        Assert.Contains("<received xmlns='urn:xmpp:carbons:2'>", carbon, StringComparison.Ordinal);
        await raw.SendAsync("<r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='1'/><r xmlns='urn:xmpp:sm:3'/>");
        Assert.Contains("<a xmlns='urn:xmpp:sm:3' h='0'/>", await raw.ReadUntilAsync("<a xmlns='urn:xmpp:sm:3' h='0'/>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0386_the_same_installation_gets_the_same_resource_again()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        var resources = new List<string>();
        foreach (var agent in new[] { "d4565fa7-4d72-4749-b3d3-740edbf87770", "d4565fa7-4d72-4749-b3d3-740edbf87770", "11111111-2222-4333-8444-555555555555" })
        {
            await using var raw = await RawNegotiation.SecureAsync(server);
            raw.ClearReceived();
            await raw.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='PLAIN'><initial-response>{Plain("alice", TestServer.Password)}</initial-response>"
                + $"<user-agent id='{agent}'/><bind xmlns='urn:xmpp:bind:0'><tag>Phone</tag></bind></authenticate>");
            resources.Add(Identifier().Match(await raw.ReadUntilAsync("</success>")).Groups[1].Value);
            await raw.SendAsync("</stream:stream>");
            await raw.ReadToEndAsync();
        }
        Assert.Equal(resources[0], resources[1]);
        Assert.NotEqual(resources[0], resources[2]);
    }

    [Fact]
    public async Task Xep0388_with_scram_and_an_inline_resumption_after_a_cut()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        var first = await RawNegotiation.SecureAsync(server);
        first.ClearReceived();
        await first.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='PLAIN'><initial-response>{Plain("alice", TestServer.Password)}</initial-response>{Bind("Phone")}</authenticate>");
        var got = await first.ReadUntilAsync("<stream:features");
        var full = Identifier().Match(got).Groups[1].Value;
        var id = SmId().Match(got).Groups[1].Value;
        first.Cut();
        await bob.SendAsync(new Element("message", Ns.Client).SetAttribute("to", full).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText("kept for you")));
        await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

        // SCRAM-SHA-256 in SASL2 (challenge, response), with the resumption request inline.
        await using var second = await RawNegotiation.SecureAsync(server);
        second.ClearReceived();
        var scram = new ScramClient(ScramHash.Sha256, plus: false, "alice", TestServer.Password, null, null, serverOffersPlus: false, offeredMechanisms: null);
        await second.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='SCRAM-SHA-256'><initial-response>{Convert.ToBase64String(scram.CreateClientFirst())}</initial-response>"
            + $"<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='0'/></authenticate>");
        var challenge = await second.ReadUntilAsync("</challenge>");
        var serverFirst = Convert.FromBase64String(Regex.Match(challenge, "<challenge xmlns='urn:xmpp:sasl:2'>([^<]+)</challenge>").Groups[1].Value);
        Assert.True(scram.TryCreateClientFinal(serverFirst, out var clientFinal, out var error), error);
        second.ClearReceived();
        await second.SendAsync($"<response xmlns='{Sasl2}'>{Convert.ToBase64String(clientFinal)}</response>");
        var resumed = await second.ReadUntilAsync(">kept for you<");
        Assert.Contains("<additional-data>", resumed, StringComparison.Ordinal);
        Assert.Contains("<authorization-identifier>alice@example.test</authorization-identifier>", resumed, StringComparison.Ordinal);
        Assert.Matches($"<resumed xmlns='urn:xmpp:sm:3' previd='{Regex.Escape(id)}' h='0'/></success>", resumed);
        Assert.True(resumed.IndexOf("<stream:features", StringComparison.Ordinal) < resumed.IndexOf(">kept for you<", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Xep0388_2_6_2_a_wrong_password_fails_in_the_sasl2_namespace_with_the_rfc6120_condition()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var raw = await RawNegotiation.SecureAsync(server);
        raw.ClearReceived();
        await raw.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='PLAIN'><initial-response>{Plain("alice", "wrong")}</initial-response>{Bind("X")}</authenticate>");
        var failure = await raw.ReadUntilAsync("</failure>");
        Assert.Contains($"<failure xmlns='{Sasl2}'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>", failure, StringComparison.Ordinal);
    }
}

/// <summary>XEP-0484 FAST tokens over SASL2.</summary>
public sealed partial class FastTests
{
    private const string Sasl2 = "urn:xmpp:sasl:2";
    private const string Agent = "<user-agent id='0a3b6f2e-5a1c-4b8e-9f7d-2c1e4d5f6a7b'><software>Test</software></user-agent>";

    [GeneratedRegex("<token xmlns='urn:xmpp:fast:0' token='([^']+)' expiry='([^']+)'/>")]
    private static partial Regex Token();

    private static string FastResponse(string user, string token, byte[] binding) =>
        Convert.ToBase64String([.. Encoding.UTF8.GetBytes(user + "\0"), .. Parley.Server.Modules.Sasl.FastTokens.Hmac(Encoding.UTF8.GetBytes(token), "Initiator", binding)]);

    private static async Task<string> RequestTokenAsync(TestServer server, string mechanism)
    {
        await server.EnsureAccountAsync("alice");
        await using var raw = await RawNegotiation.SecureAsync(server);
        Assert.Contains($"<mechanism>{mechanism}</mechanism>", raw.Received, StringComparison.Ordinal);
        raw.ClearReceived();
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0" + TestServer.Password));
        await raw.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='PLAIN'><initial-response>{plain}</initial-response>{Agent}"
            + $"<request-token xmlns='urn:xmpp:fast:0' mechanism='{mechanism}'/></authenticate>");
        var success = await raw.ReadUntilAsync("</success>");
        var match = Token().Match(success);
        Assert.True(match.Success, success);
        Assert.True(DateTimeOffset.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddDays(7));
        return match.Groups[1].Value;
    }

    private static async Task<string> FastAsync(TestServer server, string mechanism, string token, byte[] binding, string extra = "", string agent = Agent)
    {
        await using var raw = await RawNegotiation.SecureAsync(server);
        raw.ClearReceived();
        await raw.SendAsync($"<authenticate xmlns='{Sasl2}' mechanism='{mechanism}'><initial-response>{FastResponse("alice", token, binding)}</initial-response>{agent}"
            + $"<fast xmlns='urn:xmpp:fast:0' count='1'{extra}/><bind xmlns='urn:xmpp:bind:0'><tag>Fast</tag></bind></authenticate>");
        return await raw.ReadUntilAnyAsync("</success>", "</failure>");
    }

    [Fact]
    public async Task Xep0484_a_token_from_a_password_login_logs_in_in_one_round_trip_and_the_server_proves_it_knows_the_token()
    {
        await using var server = await TestServer.StartAsync();
        var token = await RequestTokenAsync(server, "HT-SHA-256-NONE");
        var success = await FastAsync(server, "HT-SHA-256-NONE", token, []);
        Assert.Contains("<authorization-identifier>alice@example.test/Fast.", success, StringComparison.Ordinal);
        var expected = Convert.ToBase64String(Parley.Server.Modules.Sasl.FastTokens.Hmac(Encoding.UTF8.GetBytes(token), "Responder", []));
        Assert.Contains($"<additional-data>{expected}</additional-data>", success, StringComparison.Ordinal);

        Assert.Contains("<not-authorized", await FastAsync(server, "HT-SHA-256-NONE", token + "x", []), StringComparison.Ordinal);
        Assert.Contains("<not-authorized", await FastAsync(server, "HT-SHA-256-NONE", token, [], agent: Agent.Replace("0a3b", "ffff", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0484_a_channel_bound_token_uses_tls_server_end_point_and_invalidation_ends_it()
    {
        await using var server = await TestServer.StartAsync();
        var token = await RequestTokenAsync(server, "HT-SHA-256-ENDP");
        var certificate = server.Services.GetRequiredService<Parley.Server.Connections.TlsCertificateProvider>().Certificate;
        var binding = Parley.Protocol.Sasl.ChannelBinding.ComputeTlsServerEndPoint(certificate);
        Assert.DoesNotContain("<success", await FastAsync(server, "HT-SHA-256-ENDP", token, []), StringComparison.Ordinal);   // the binding is part of the proof
        Assert.Contains("<success", await FastAsync(server, "HT-SHA-256-ENDP", token, binding), StringComparison.Ordinal);
        Assert.Contains("<invalid-mechanism", await FastAsync(server, "HT-SHA-256-NOPE", token, binding), StringComparison.Ordinal);
        Assert.Contains("<success", await FastAsync(server, "HT-SHA-256-ENDP", token, binding, " invalidate='true'"), StringComparison.Ordinal);
        Assert.Contains("<not-authorized", await FastAsync(server, "HT-SHA-256-ENDP", token, binding), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0484_a_password_change_revokes_the_tokens()
    {
        await using var server = await TestServer.StartAsync();
        var token = await RequestTokenAsync(server, "HT-SHA-256-NONE");
        await server.Services.GetRequiredService<Accounts>().SetPasswordAsync(server.Jid("alice"), "a new password", CancellationToken.None);
        Assert.Contains("<not-authorized", await FastAsync(server, "HT-SHA-256-NONE", token, []), StringComparison.Ordinal);
    }
}
