using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Storage;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Diagnostics;

/// <summary>/metrics on the HTTPS listener: what a Prometheus scrape sees after real XMPP traffic, and who may scrape.</summary>
public sealed class MetricsTests
{
    private const string PrometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    private sealed record Scrape(HttpStatusCode Status, string? ContentType, string Body, HttpResponseMessage Response);

    private static async Task<Scrape> ScrapeAsync(TestServer server, string? accept = null, string? authorization = null)
    {
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && server.TrustServerCertificate()(server, c, null, System.Net.Security.SslPolicyErrors.None),
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{server.Server.Port("upload")}/metrics");
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        var response = await http.SendAsync(request);
        return new Scrape(response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync(), response);
    }

    // Parses every scrape strictly; polls until the condition holds (some figures are recorded just after delivery).
    private static async Task<PrometheusTextParser> ScrapeUntilAsync(TestServer server, Func<PrometheusTextParser, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var scrape = await ScrapeAsync(server);
            Assert.Equal(HttpStatusCode.OK, scrape.Status);
            var parsed = PrometheusTextParser.Parse(scrape.Body, openMetrics: false);
            if (condition(parsed) || DateTime.UtcNow > deadline) return parsed;
            await Task.Delay(50);
        }
    }

    private static async Task<XmppClient> LoginAsync(TestServer server, string user, string mechanism, bool directTls = false)
    {
        await server.EnsureAccountAsync(user);
        var client = new XmppClient(server.ClientOptions(user, directTls: directTls) with { Mechanisms = [mechanism] });
        await client.ConnectAsync();
        return client;
    }

    private static Element Chat(Jid to, string body) =>
        new Element("message", Ns.Client).SetAttribute("to", to.ToString()).SetAttribute("type", "chat").SetAttribute("id", "m1")
            .Add(new Element("body", Ns.Client).AddText(body));

    [Fact]
    public async Task A_scrape_after_two_logins_and_a_message_shows_connections_stanzas_auth_sessions_and_routing_time()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await LoginAsync(server, "alice", "SCRAM-SHA-256");
        await using var bob = await LoginAsync(server, "bob", "PLAIN", directTls: true);
        await alice.SendAsync(Chat(bob.BoundJid, "hello"));
        using (var timeout = new CancellationTokenSource(5000))
            Assert.Equal("message", (await bob.ReceiveAsync(timeout.Token)).LocalName);

        var scrape = await ScrapeAsync(server);
        Assert.Equal(HttpStatusCode.OK, scrape.Status);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scrape.ContentType);
        Assert.DoesNotContain("# EOF", scrape.Body);
        var m = await ScrapeUntilAsync(server, p => p.Value("parley_routing_duration_seconds_count", ("kind", "message")) >= 1);

        Assert.Equal(1, m.Value("parley_connections", ("kind", "c2s-tcp")));
        Assert.Equal(1, m.Value("parley_connections", ("kind", "c2s-tls")));
        Assert.Equal(0, m.Value("parley_connections", ("kind", "websocket")));
        Assert.Equal(2, m.Value("parley_sessions"));
        Assert.Equal(1, m.Value("parley_stanzas_in_total", ("kind", "message")));
        Assert.Equal(1, m.Value("parley_stanzas_out_total", ("kind", "message")));
        Assert.Equal(1, m.Value("parley_auth_successes_total", ("mechanism", "SCRAM-SHA-256")));
        Assert.Equal(1, m.Value("parley_auth_successes_total", ("mechanism", "PLAIN")));
        Assert.Equal(0, m.Sum("parley_auth_failures_total"));
        Assert.Equal("histogram", m.FamilyTypes["parley_routing_duration_seconds"]);
        Assert.Equal(1, m.Value("parley_routing_duration_seconds_count", ("kind", "message")));
        Assert.True(m.Value("parley_routing_duration_seconds_sum", ("kind", "message")) > 0);

        // The process and the runtime.
        Assert.True(m.Value("process_resident_memory_bytes") > 1_000_000);
        Assert.True(m.Value("process_cpu_seconds_total") > 0);
        Assert.True(m.Value("process_start_time_seconds") > 1.6e9);
        Assert.True(m.Value("parley_uptime_seconds") >= 0);
        Assert.True(m.Value("dotnet_total_memory_bytes") > 0);
        Assert.NotNull(m.Value("dotnet_collection_count_total", ("generation", "0")));
        Assert.Equal("counter", m.FamilyTypes["dotnet_gc_collections_total"]);       // System.Runtime's own meter
        Assert.True(m.Value("dotnet_assembly_count") > 10);
        // The runtime publishes this snapshot as a counter by mistake; it is exported as the gauge it is.
        Assert.Equal("gauge", m.FamilyTypes["dotnet_thread_pool_thread_count"]);
        Assert.True(m.Value("dotnet_thread_pool_thread_count") >= 1);
    }

    [Fact]
    public async Task Connections_of_each_transport_are_counted_while_open_and_not_after()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await LoginAsync(server, "alice", "SCRAM-SHA-1");
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("xmpp");
        socket.Options.RemoteCertificateValidationCallback = server.TrustServerCertificate();
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Server.Port("upload")}/xmpp-websocket"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.test' version='1.0'/>"), WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.ReceiveAsync(new byte[4096], CancellationToken.None);

        // A BOSH session counts once, however many HTTP requests carry it.
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && server.TrustServerCertificate()(this, c, null, System.Net.Security.SslPolicyErrors.None) });
        using var created = await http.PostAsync($"https://127.0.0.1:{server.Server.Port("upload")}/http-bind", new StringContent(
            "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' to='example.test' wait='5' hold='1' ver='1.11' xmpp:version='1.0'/>", Encoding.UTF8, "text/xml"));
        Assert.True(created.IsSuccessStatusCode);
        var sid = System.Xml.Linq.XElement.Parse(await created.Content.ReadAsStringAsync()).Attribute("sid")!.Value;

        var open = await ScrapeUntilAsync(server, p => p.Value("parley_connections", ("kind", "websocket")) == 1 && p.Value("parley_connections", ("kind", "bosh")) == 1);
        Assert.Equal(1, open.Value("parley_connections", ("kind", "websocket")));
        Assert.Equal(1, open.Value("parley_connections", ("kind", "bosh")));
        Assert.Equal(1, open.Value("parley_connections", ("kind", "c2s-tcp")));
        using (await http.PostAsync($"https://127.0.0.1:{server.Server.Port("upload")}/http-bind", new StringContent(
            $"<body xmlns='http://jabber.org/protocol/httpbind' rid='1001' sid='{sid}' type='terminate'/>", Encoding.UTF8, "text/xml")))
        {
        }

        await alice.DisposeAsync();
        socket.Abort();
        var closed = await ScrapeUntilAsync(server, p => p.Sum("parley_connections") == 0);
        Assert.Equal(0, closed.Value("parley_connections", ("kind", "c2s-tcp")));
        Assert.Equal(0, closed.Value("parley_connections", ("kind", "websocket")));
        Assert.Equal(0, closed.Value("parley_connections", ("kind", "bosh")));
        Assert.Equal(0, closed.Value("parley_sessions"));
    }

    [Fact]
    public async Task A_failed_login_counts_as_a_failure_of_its_mechanism()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        var before = await ScrapeUntilAsync(server, _ => true);
        Assert.Equal(0, before.Sum("parley_auth_failures_total"));

        await using var wrong = new XmppClient(server.ClientOptions("alice", password: "not the password") with { Mechanisms = ["SCRAM-SHA-512"] });
        Assert.Equal("not-authorized", (await Assert.ThrowsAsync<XmppAuthenticationException>(() => wrong.ConnectAsync())).Condition);

        var after = await ScrapeUntilAsync(server, p => p.Sum("parley_auth_failures_total") > 0);
        Assert.Equal(1, after.Value("parley_auth_failures_total", ("mechanism", "SCRAM-SHA-512")));
        Assert.Equal(0, after.Sum("parley_auth_successes_total"));
    }

    [Fact]
    public async Task Offline_and_archived_messages_are_counted_from_storage()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("bob");
        await using var alice = await LoginAsync(server, "alice", "SCRAM-SHA-256");
        await alice.SendAsync(Chat(server.Jid("bob"), "while you were out"));

        // Storage is counted at most every 30 seconds, so the one scrape comes after the message is stored. Both
        // sides of a chat message are archived (alice's copy and bob's); offline storage holds bob's.
        var storage = server.Services.GetRequiredService<IStorage>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && (await storage.Map("offline").CountAllAsync(CancellationToken.None) < 1
                                              || await storage.Archive.CountAllAsync(CancellationToken.None) < 2))
            await Task.Delay(20);
        var m = PrometheusTextParser.Parse((await ScrapeAsync(server)).Body, openMetrics: false);
        Assert.Equal(1, m.Value("parley_offline_messages"));
        Assert.Equal(2, m.Value("parley_archive_messages"));
    }

    [Fact]
    public async Task OpenMetrics_is_served_to_a_client_that_asks_for_it_and_ends_with_EOF()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await LoginAsync(server, "alice", "SCRAM-SHA-256");
        var scrape = await ScrapeAsync(server, PrometheusAccept);
        Assert.Equal(HttpStatusCode.OK, scrape.Status);
        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", scrape.ContentType);
        Assert.EndsWith("\n# EOF\n", scrape.Body);
        var m = PrometheusTextParser.Parse(scrape.Body, openMetrics: true);
        Assert.Equal("counter", m.FamilyTypes["parley_auth_successes"]);
        Assert.Equal(1, m.Value("parley_auth_successes_total", ("mechanism", "SCRAM-SHA-256")));
        Assert.Contains("# UNIT parley_routing_duration_seconds seconds\n", scrape.Body);

        // A client that prefers the classic text format gets it.
        var text = await ScrapeAsync(server, "text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", text.ContentType);
        Assert.Equal("counter", PrometheusTextParser.Parse(text.Body, openMetrics: false).FamilyTypes["parley_auth_successes_total"]);
    }

    [Fact]
    public async Task A_scrape_from_outside_the_allowed_networks_is_forbidden()
    {
        await using var server = await TestServer.StartAsync(new() { ["Metrics:AllowedNetworks:0"] = "10.0.0.0/8", ["Metrics:AllowedNetworks:1"] = "fd00::/8" });
        var scrape = await ScrapeAsync(server);
        Assert.Equal(HttpStatusCode.Forbidden, scrape.Status);
        Assert.DoesNotContain("parley_", scrape.Body);
    }

    [Fact]
    public async Task With_a_bearer_token_configured_a_scrape_needs_exactly_that_token()
    {
        const string token = "s3cret-scrape-token-0123456789";
        await using var server = await TestServer.StartAsync(new() { ["Metrics:BearerToken"] = token });

        var none = await ScrapeAsync(server);
        Assert.Equal(HttpStatusCode.Unauthorized, none.Status);
        Assert.Equal("Bearer", none.Response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.DoesNotContain("parley_", none.Body);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ScrapeAsync(server, authorization: "Bearer " + token[..^1])).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ScrapeAsync(server, authorization: "Bearer " + token + "x")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ScrapeAsync(server, authorization: "Basic " + token)).Status);

        var good = await ScrapeAsync(server, authorization: "Bearer " + token);
        Assert.Equal(HttpStatusCode.OK, good.Status);
        Assert.Contains("parley_connections", good.Body);
    }

    [Fact]
    public async Task The_token_does_not_open_the_door_to_a_network_that_is_not_allowed()
    {
        const string token = "s3cret-scrape-token-0123456789";
        await using var server = await TestServer.StartAsync(new() { ["Metrics:BearerToken"] = token, ["Metrics:AllowedNetworks:0"] = "192.0.2.0/24" });
        Assert.Equal(HttpStatusCode.Forbidden, (await ScrapeAsync(server, authorization: "Bearer " + token)).Status);
    }

    [Fact]
    public async Task Metrics_switched_off_are_not_served()
    {
        await using var server = await TestServer.StartAsync(new() { ["Metrics:Enabled"] = "false" });
        Assert.Equal(HttpStatusCode.NotFound, (await ScrapeAsync(server)).Status);
    }

    [Theory]
    [InlineData("Metrics:AllowedNetworks:0", "10.0.0.0/33")]
    [InlineData("Metrics:AllowedNetworks:0", "10.1.2.3")]
    [InlineData("Metrics:AllowedNetworks:0", "loopback")]
    [InlineData("Metrics:BearerToken", "short")]
    [InlineData("Metrics:BearerToken", "a token with spaces in it")]
    public void A_bad_metrics_setting_stops_the_start_naming_its_key_but_never_the_token(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();
        var e = Assert.Throws<OptionsValidationException>(() => ParleyServer.BindOptions(configuration));
        var failure = Assert.Single(e.Failures);
        Assert.StartsWith(key.Split(':')[0] + ":" + key.Split(':')[1], failure);
        if (key.EndsWith("BearerToken", StringComparison.Ordinal)) Assert.DoesNotContain(value, failure);
    }

    [Fact]
    public void The_allowed_networks_default_to_loopback_and_match_ipv4_mapped_addresses()
    {
        var networks = new MetricsOptions().Networks();
        Assert.True(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, IPAddress.Loopback));
        Assert.True(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, IPAddress.Parse("127.8.9.10")));
        Assert.True(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, IPAddress.IPv6Loopback));
        Assert.True(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, IPAddress.Parse("10.1.2.3")));
        Assert.False(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, IPAddress.Parse("::2")));
        Assert.False(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(networks, null));
        var configured = new MetricsOptions { AllowedNetworks = ["10.0.0.0/8"] }.Networks();
        Assert.True(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(configured, IPAddress.Parse("::ffff:10.200.0.1")));
        Assert.False(Parley.Server.Diagnostics.MetricsEndpoint.Allowed(configured, IPAddress.Loopback));
    }
}
