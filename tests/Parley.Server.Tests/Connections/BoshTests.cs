using System.Diagnostics;
using System.Net;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Connections;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Connections;

/// <summary>XEP-0124 BOSH and XEP-0206 XMPP over BOSH at /http-bind, driven with a plain HttpClient.</summary>
public sealed class BoshTests
{
    private const string HttpBind = "http://jabber.org/protocol/httpbind";
    private const string XBosh = "urn:xmpp:xbosh";

    private static XName N(string ns, string local) => XName.Get(local, ns);

    private sealed record Response(HttpStatusCode Status, string Text, XElement Body, string? ContentType)
    {
        public string? Attr(string name) => (string?)Body.Attribute(name);

        public bool IsEmpty => !Body.HasElements;
    }

    /// <summary>A BOSH client that says exactly what a test tells it to, with one rid counter per session.</summary>
    private sealed class Bosh : IDisposable
    {
        private readonly HttpClient _http;
        private readonly string _url;

        public Bosh(TestServer server)
        {
            _http = Https(server);
            _url = $"https://127.0.0.1:{server.Server.Port("upload")}{BoshEndpoint.Path}";
        }

        // §14.1: a large random initial rid.
        public long Rid { get; set; } = Random.Shared.NextInt64(1_000_000_000, 4_000_000_000);

        public string? Sid { get; set; }

        public async Task<Response> PostAsync(string xml, HttpMethod? method = null, string? origin = null)
        {
            using var request = new HttpRequestMessage(method ?? HttpMethod.Post, _url);
            if (method is null || method == HttpMethod.Post) request.Content = new StringContent(xml, Encoding.UTF8, "text/xml");
            if (origin is not null) request.Headers.Add("Origin", origin);
            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var body = text.StartsWith("<body", StringComparison.Ordinal) ? XElement.Parse(text) : new XElement("none");
            return new Response(response.StatusCode, text, body, response.Content.Headers.ContentType?.ToString());
        }

        public async Task<Response> CreateAsync(int wait = 10, string extra = "ver='1.11'")
        {
            var r = await PostAsync($"<body rid='{Rid}' to='{TestServer.Domain}' wait='{wait}' hold='1' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='{XBosh}' xmlns='{HttpBind}' {extra}/>");
            Sid = r.Attr("sid");
            return r;
        }

        /// <summary>The next request (or one with the given rid), carrying payloads and attributes.</summary>
        public Task<Response> SendAsync(string payloads = "", string attributes = "", long? rid = null) =>
            PostAsync($"<body rid='{rid ?? ++Rid}' sid='{Sid}' xmlns='{HttpBind}' xmlns:xmpp='{XBosh}' {attributes}>{payloads}</body>");

        public void Dispose() => _http.Dispose();
    }

    private static HttpClient Https(TestServer server)
    {
        var trust = server.TrustServerCertificate();
        return new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (m, c, _, _) => c is not null && trust(m, c, null, System.Net.Security.SslPolicyErrors.None),
        }, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(30) };
    }

    // RFC 6120 §6.4.2 with PLAIN (RFC 4616): the SASL exchange in one element.
    private static string Auth(string user) =>
        $"<auth xmlns='{Ns.Sasl}' mechanism='PLAIN'>{Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + user + "\0" + TestServer.Password))}</auth>";

    // XEP-0124 §17.2: the session is over, for this reason.
    private static void AssertTerminated(Response r, HttpStatusCode status, string? condition) =>
        Assert.Equal((status, "terminate", condition), (r.Status, r.Attr("type"), r.Attr("condition")));

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        for (var i = 0; i < 50 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition());
    }

    // XEP-0206 §3–§5: session, SASL PLAIN, restart, bind. Returns the bound JID.
    private static async Task<string> LoginAsync(Bosh bosh, string user, string resource)
    {
        var created = await bosh.CreateAsync();
        Assert.NotNull(bosh.Sid);
        Assert.NotNull(created.Body.Element(N(Ns.Streams, "features")));
        Assert.NotNull((await bosh.SendAsync(Auth(user))).Body.Element(N(Ns.Sasl, "success")));
        Assert.NotNull((await bosh.SendAsync(attributes: $"to='{TestServer.Domain}' xml:lang='en' xmpp:restart='true'")).Body
            .Element(N(Ns.Streams, "features"))!.Element(N(Ns.Bind, "bind")));
        var bound = await bosh.SendAsync($"<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='{Ns.Bind}'><resource>{resource}</resource></bind></iq>");
        return bound.Body.Element(N(Ns.Client, "iq"))!.Element(N(Ns.Bind, "bind"))!.Element(N(Ns.Bind, "jid"))!.Value;
    }

    [Fact]
    public async Task Xep0206_a_session_is_created_authenticates_restarts_binds_chats_through_held_requests_and_terminates()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var bob = await server.LoginAsync("bob", "desk");
        using var bosh = new Bosh(server);

        // XEP-0124 §7.2 and XEP-0206 §4: the creation response carries the session's terms and the stream features.
        var created = await bosh.CreateAsync();
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal("text/xml; charset=utf-8", created.ContentType);
        Assert.Equal(32, bosh.Sid!.Length);
        Assert.Equal(("10", "2", "1", "60", "1.11", "example.test"), (created.Attr("wait"), created.Attr("requests"), created.Attr("hold"), created.Attr("inactivity"), created.Attr("ver"), created.Attr("from")));
        Assert.Equal(("1.0", "true"), ((string?)created.Body.Attribute(N(XBosh, "version")), (string?)created.Body.Attribute(N(XBosh, "restartlogic"))));
        Assert.Equal(bosh.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture), created.Attr("ack"));
        Assert.NotNull(created.Attr("polling"));
        Assert.Equal("120", created.Attr("maxpause"));
        var features = created.Body.Element(N(Ns.Streams, "features"))!;
        Assert.Null(features.Element(N(Ns.Tls, "starttls")));            // HTTPS is the TLS (XEP-0206 §4)
        Assert.Contains(features.Element(N(Ns.Sasl, "mechanisms"))!.Elements(), m => m.Value == "PLAIN");
        Assert.DoesNotContain(created.Body.Elements(), e => e.Name.LocalName == "open");

        // §5: SASL through bodies, then the restart request gets the new stream's features.
        var success = await bosh.SendAsync(Auth("alice"));
        Assert.NotNull(success.Body.Element(N(Ns.Sasl, "success")));
        var restarted = await bosh.SendAsync(attributes: "to='example.test' xml:lang='en' xmpp:restart='true'");
        Assert.NotNull(restarted.Body.Element(N(Ns.Streams, "features"))!.Element(N(Ns.Bind, "bind")));

        // §2 note: a stanza without a namespace of its own is jabber:client (it inherits httpbind's).
        var bound = await bosh.SendAsync($"<iq type='set' id='b1'><bind xmlns='{Ns.Bind}'><resource>web</resource></bind></iq>");
        var iq = bound.Body.Element(N(Ns.Client, "iq"))!;
        Assert.Equal(("result", "alice@example.test/web"), ((string?)iq.Attribute("type"), iq.Element(N(Ns.Bind, "bind"))!.Element(N(Ns.Bind, "jid"))!.Value));

        // XEP-0124 §4, §8: an empty request is held; the next request releases it (empty, acknowledging the later
        // rid, §9.1) and is held in its place until the reply arrives.
        var poll = bosh.SendAsync();
        await Task.Delay(300);
        var sending = bosh.SendAsync("<message xmlns='jabber:client' to='bob@example.test/desk' type='chat' id='m1'><body>over BOSH</body></message>");
        var released = await poll;
        Assert.True(released.IsEmpty, released.Text);
        Assert.Equal(bosh.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture), released.Attr("ack"));
        var got = await Stanzas.NextAsync(bob, "message");
        Assert.Equal(("alice@example.test/web", "over BOSH"), (got.GetAttribute("from"), got.ChildText("body", Ns.Client)));
        await bob.SendAsync(Stanzas.Chat("alice@example.test/web", "back over TCP"));
        var reply = await sending;
        var message = reply.Body.Element(N(Ns.Client, "message"));
        Assert.True(message is not null, reply.Text);
        Assert.Equal(("bob@example.test/desk", "back over TCP"), ((string?)message.Attribute("from"), message.Element(N(Ns.Client, "body"))!.Value));

        // §13: terminate, with a last payload for the server; the session is gone afterwards.
        var ended = await bosh.SendAsync("<presence xmlns='jabber:client' type='unavailable'/>", "type='terminate'");
        AssertTerminated(ended, HttpStatusCode.OK, null);
        await EventuallyAsync(() => server.Services.GetRequiredService<Parley.Server.Routing.SessionRegistry>().Resources(server.Jid("alice")).Length == 0);
        var after = await bosh.SendAsync();
        AssertTerminated(after, HttpStatusCode.NotFound, "item-not-found");
    }

    [Fact]
    public async Task Xep0124_17_1_an_unknown_sid_is_http_404_with_item_not_found()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server) { Sid = "0123456789abcdef0123456789abcdef" };
        var r = await bosh.SendAsync();
        AssertTerminated(r, HttpStatusCode.NotFound, "item-not-found");
    }

    [Fact]
    public async Task Xep0124_14_3_a_repeated_rid_is_answered_with_the_buffered_response_and_not_processed_again()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        var auth = Auth("alice");
        var first = await bosh.SendAsync(auth);
        Assert.NotNull(first.Body.Element(N(Ns.Sasl, "success")));
        // Sent again as if the first response had been lost: the same bytes, and no second <auth/> reaches the stream
        // (after success that would be a stream error).
        var again = await bosh.SendAsync(auth, rid: bosh.Rid);
        Assert.Equal((HttpStatusCode.OK, first.Text), (again.Status, again.Text));
        var restarted = await bosh.SendAsync(attributes: "xmpp:restart='true'");
        Assert.NotNull(restarted.Body.Element(N(Ns.Streams, "features"))!.Element(N(Ns.Bind, "bind")));
        // The creation request's rid is out of the buffer by now (it keeps 'requests' answers): beyond recovery.
        var old = await bosh.SendAsync(rid: bosh.Rid - 2);
        AssertTerminated(old, HttpStatusCode.OK, "item-not-found");
    }

    [Fact]
    public async Task Xep0124_14_2_a_rid_beyond_the_window_terminates_the_session_with_item_not_found()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        // 'requests' is 2: the next rid may be one or two ahead, not three.
        var r = await bosh.SendAsync(rid: bosh.Rid + 3);
        AssertTerminated(r, HttpStatusCode.OK, "item-not-found");
        Assert.Equal(HttpStatusCode.NotFound, (await bosh.SendAsync(rid: bosh.Rid + 1)).Status);

        // §17.1: a client that sent no 'ver' gets the HTTP status code instead.
        using var legacy = new Bosh(server);
        var created = await legacy.CreateAsync(extra: "");
        Assert.Null(created.Attr("ver"));
        var l = await legacy.SendAsync(rid: legacy.Rid + 3);
        AssertTerminated(l, HttpStatusCode.NotFound, "item-not-found");
        Assert.Equal(0, server.Services.GetRequiredService<BoshSessions>().Count);
    }

    [Fact]
    public async Task Xep0124_11_more_simultaneous_requests_than_requests_allows_is_a_policy_violation()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        var start = bosh.Rid;
        // hold='1' and requests='2': one request held, one waiting for the rid before it, and a third is one too many.
        var held = bosh.SendAsync(rid: start + 1);
        await Task.Delay(300);
        var early = bosh.SendAsync(rid: start + 3);
        await Task.Delay(300);
        Assert.False(held.IsCompleted || early.IsCompleted);
        var third = await bosh.SendAsync(rid: start + 2);
        foreach (var r in new[] { third, await held, await early })
            AssertTerminated(r, HttpStatusCode.OK, "policy-violation");
    }

    [Fact]
    public async Task Xep0124_14_2_requests_that_arrive_out_of_order_are_processed_in_rid_order()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        var start = bosh.Rid;
        // The restart (rid+2) arrives before the authentication (rid+1); the stream still sees auth first.
        var restart = bosh.SendAsync(attributes: "xmpp:restart='true'", rid: start + 2);
        await Task.Delay(300);
        Assert.False(restart.IsCompleted);
        var auth = await bosh.SendAsync(Auth("alice"), rid: start + 1);
        var restarted = await restart;
        var all = auth.Body.Elements().Concat(restarted.Body.Elements()).Select(e => e.Name).ToList();
        // With hold=1 the server may answer a held request before the restart's features are written (§11); they
        // then come with the next request. Either way the stream saw auth, then the restart.
        if (all.Count < 2) all.AddRange((await bosh.SendAsync(rid: start + 3)).Body.Elements().Select(e => e.Name));
        Assert.Equal([N(Ns.Sasl, "success"), N(Ns.Streams, "features")], all);
    }

    [Fact]
    public async Task Xep0124_8_a_request_held_for_wait_seconds_without_output_is_answered_with_an_empty_body()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        var created = await bosh.CreateAsync(wait: 1);
        Assert.Equal("1", created.Attr("wait"));
        var clock = Stopwatch.StartNew();
        var r = await bosh.SendAsync();
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 5);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.True(r.IsEmpty && r.Attr("type") is null, r.Text);

        // The server's maximum caps what a client asks for.
        using var greedy = new Bosh(server);
        Assert.Equal("60", (await greedy.CreateAsync(wait: 3600)).Attr("wait"));
    }

    [Fact]
    public async Task Xep0124_10_an_inactive_session_ends_like_a_dropped_connection_and_its_stream_can_be_resumed()
    {
        await using var server = await TestServer.StartAsync(new() { ["Bosh:InactivitySeconds"] = "2" });
        await server.EnsureAccountAsync("alice");
        using var bosh = new Bosh(server);
        Assert.Equal("alice@example.test/web", await LoginAsync(bosh, "alice", "web"));
        var enabled = (await bosh.SendAsync($"<enable xmlns='{Ns.StreamManagement}' resume='true'/>")).Body.Element(N(Ns.StreamManagement, "enabled"))!;
        var previd = (string)enabled.Attribute("id")!;

        // No request for longer than 'inactivity': the session is gone, as if its TCP connection had dropped.
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        Assert.Equal(HttpStatusCode.NotFound, (await bosh.SendAsync()).Status);
        Assert.Equal(0, server.Services.GetRequiredService<BoshSessions>().Count);

        // XEP-0198 §5: like a TCP session, it waits to be resumed, here from a new BOSH session.
        using var again = new Bosh(server);
        await again.CreateAsync();
        await again.SendAsync(Auth("alice"));
        await again.SendAsync(attributes: "xmpp:restart='true'");
        var resumed = await again.SendAsync($"<resume xmlns='{Ns.StreamManagement}' previd='{previd}' h='0'/>");
        Assert.Equal(previd, (string?)resumed.Body.Element(N(Ns.StreamManagement, "resumed"))?.Attribute("previd"));
    }

    [Fact]
    public async Task Xep0124_10_a_pause_answers_the_held_request_at_once()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        var clock = Stopwatch.StartNew();
        var held = bosh.SendAsync();
        await Task.Delay(300);
        var paused = await bosh.SendAsync(attributes: "pause='60'");
        Assert.True((await held).IsEmpty);
        Assert.True(paused.IsEmpty);
        Assert.True(clock.Elapsed.TotalSeconds < 5);
        Assert.Equal(HttpStatusCode.OK, (await bosh.SendAsync(attributes: "type='terminate'")).Status);
    }

    [Fact]
    public async Task Xep0124_7_1_the_content_attribute_sets_the_content_type_of_every_response_of_the_session()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        var created = await bosh.CreateAsync(wait: 1, extra: "ver='1.6' content='text/html; charset=utf-8'");
        Assert.Equal(("text/html; charset=utf-8", "1.6"), (created.ContentType, created.Attr("ver")));
        Assert.Equal("text/html; charset=utf-8", (await bosh.SendAsync()).ContentType);
        // A value that could split the header is a bad request.
        using var evil = new Bosh(server);
        AssertTerminated(await evil.CreateAsync(extra: "ver='1.6' content='text/html&#xA;Set-Cookie: x=y'"), HttpStatusCode.OK, "bad-request");
    }

    [Fact]
    public async Task Xep0206_6_a_stream_error_terminates_with_remote_stream_error_carrying_it()
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        // RFC 6120 §6.4.1: no stanzas before authentication.
        var r = await bosh.SendAsync("<message xmlns='jabber:client' to='example.test'><body>too early</body></message>");
        AssertTerminated(r, HttpStatusCode.OK, "remote-stream-error");
        Assert.NotNull(r.Body.Element(N(Ns.Streams, "error"))!.Element(N(Ns.StreamErrors, "not-authorized")));
    }

    [Theory]
    [InlineData("<body rid='1' xmlns='http://jabber.org/protocol/httpbind'>")]
    [InlineData("<!DOCTYPE body [<!ENTITY x 'y'>]><body rid='1' xmlns='http://jabber.org/protocol/httpbind'/>")]
    [InlineData("<?xml-stylesheet href='x'?><body rid='1' xmlns='http://jabber.org/protocol/httpbind'/>")]
    [InlineData("<body rid='1' xmlns='http://jabber.org/protocol/httpbind'><!-- hello --></body>")]
    [InlineData("<body rid='1' xmlns='urn:example:other'/>")]
    [InlineData("<body rid='1' xmlns='http://jabber.org/protocol/httpbind'>text</body>")]
    [InlineData("<body rid='0' xmlns='http://jabber.org/protocol/httpbind'/>")]
    [InlineData("<body xmlns='http://jabber.org/protocol/httpbind'/>")]
    public async Task Xep0124_17_a_body_that_is_not_a_well_formed_restricted_wrapper_is_a_bad_request(string xml)
    {
        await using var server = await TestServer.StartAsync();
        using var bosh = new Bosh(server);
        var r = await bosh.PostAsync(xml);
        AssertTerminated(r, HttpStatusCode.BadRequest, "bad-request");
        Assert.Equal(0, server.Services.GetRequiredService<BoshSessions>().Count);
    }

    [Fact]
    public async Task Bodies_and_sessions_are_bounded()
    {
        await using var server = await TestServer.StartAsync(new() { ["Bosh:MaxBodyBytes"] = "10000", ["Bosh:MaxSessions"] = "1" });
        using var bosh = new Bosh(server);
        await bosh.CreateAsync();
        var big = await bosh.SendAsync($"<message xmlns='jabber:client' to='a@example.test'><body>{new string('x', 12000)}</body></message>");
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "policy-violation"), (big.Status, big.Attr("condition")));

        using var second = new Bosh(server);
        var refused = await second.CreateAsync();
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "terminate"), (refused.Status, refused.Attr("type")));
        Assert.Null(second.Sid);
    }

    [Fact]
    public async Task Browsers_get_cors_answers_and_other_origins_are_refused_when_origins_are_listed()
    {
        await using (var server = await TestServer.StartAsync())
        {
            using var bosh = new Bosh(server);
            var preflight = await bosh.PostAsync("", HttpMethod.Options, origin: "https://chat.example.org");
            Assert.Equal(HttpStatusCode.NoContent, preflight.Status);
            var created = await bosh.CreateAsync();
            Assert.Equal(HttpStatusCode.OK, created.Status);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, (await bosh.PostAsync("", HttpMethod.Get)).Status);
        }
        await using (var server = await TestServer.StartAsync(new() { ["Bosh:AllowedOrigins:0"] = "https://chat.example.org" }))
        {
            var port = server.Server.Port("upload");
            using var http = Https(server);
            using var allowed = new HttpRequestMessage(HttpMethod.Options, $"https://127.0.0.1:{port}/http-bind");
            allowed.Headers.Add("Origin", "https://chat.example.org");
            allowed.Headers.Add("Access-Control-Request-Method", "POST");
            using var ok = await http.SendAsync(allowed);
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
            Assert.Equal("https://chat.example.org", ok.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("POST", ok.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
            Assert.Equal("Content-Type", ok.Headers.GetValues("Access-Control-Allow-Headers").Single());

            using var other = new HttpRequestMessage(HttpMethod.Post, $"https://127.0.0.1:{port}/http-bind")
            {
                Content = new StringContent($"<body rid='5' to='example.test' wait='5' hold='1' xmlns='{HttpBind}'/>", Encoding.UTF8, "text/xml"),
            };
            other.Headers.Add("Origin", "https://evil.example.net");
            using var refused = await http.SendAsync(other);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal(0, server.Services.GetRequiredService<BoshSessions>().Count);
        }
    }

    [Fact]
    public async Task Xep0156_host_meta_names_the_bosh_url_beside_the_websocket_one()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Https(server);
        var port = server.Server.Port("upload");
        var expected = $"https://127.0.0.1:{port}/http-bind";

        var xrd = XElement.Parse(await http.GetStringAsync($"https://127.0.0.1:{port}/.well-known/host-meta"));
        var links = xrd.Elements(N("http://docs.oasis-open.org/ns/xri/xrd-1.0", "Link")).ToDictionary(l => (string)l.Attribute("rel")!, l => (string)l.Attribute("href")!);
        Assert.Equal(expected, links["urn:xmpp:alt-connections:xbosh"]);
        Assert.Equal($"wss://127.0.0.1:{port}/xmpp-websocket", links["urn:xmpp:alt-connections:websocket"]);

        using var json = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"https://127.0.0.1:{port}/.well-known/host-meta.json"));
        Assert.Contains(json.RootElement.GetProperty("links").EnumerateArray(),
            l => l.GetProperty("rel").GetString() == "urn:xmpp:alt-connections:xbosh" && l.GetProperty("href").GetString() == expected);

        // With WebSocket off, BOSH alone is announced.
        await using var boshOnly = await TestServer.StartAsync(new() { ["WebSocket:Enabled"] = "false" });
        using var onlyHttp = Https(boshOnly);
        var only = XElement.Parse(await onlyHttp.GetStringAsync($"https://127.0.0.1:{boshOnly.Server.Port("upload")}/.well-known/host-meta"));
        Assert.Equal(["urn:xmpp:alt-connections:xbosh"], only.Elements().Select(l => (string)l.Attribute("rel")!));
    }
}
