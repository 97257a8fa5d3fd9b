using System.Net.WebSockets;
using System.Text;
using System.Xml.Linq;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Connections;

/// <summary>RFC 7395 XMPP over WebSocket at /xmpp-websocket, driven with a raw ClientWebSocket.</summary>
public sealed class WebSocketTests
{
    private const string Framing = "urn:ietf:params:xml:ns:xmpp-framing";

    private static async Task<ClientWebSocket> OpenAsync(TestServer server, bool xmppProtocol = true)
    {
        var socket = new ClientWebSocket();
        if (xmppProtocol) socket.Options.AddSubProtocol("xmpp");
        socket.Options.RemoteCertificateValidationCallback = server.TrustServerCertificate();
        using var timeout = new CancellationTokenSource(10_000);
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Server.Port("upload")}/xmpp-websocket"), timeout.Token);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string xml) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(xml), WebSocketMessageType.Text, true, CancellationToken.None);

    // One WebSocket message, which must be exactly one well-formed element (§3.3.3): XElement.Parse refuses anything else.
    private static async Task<XElement> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(10_000);
        var buffer = new byte[65536];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage) break;
        }
        return XElement.Parse(Encoding.UTF8.GetString(buffer, 0, length));
    }

    private static XName N(string ns, string local) => XName.Get(local, ns);

    [Fact]
    public async Task Rfc7395_3_a_browser_style_session_opens_authenticates_restarts_binds_chats_and_closes()
    {
        await using var server = await TestServer.StartAsync();
        await server.EnsureAccountAsync("alice");
        await using var bob = await server.LoginAsync("bob", "desk");
        await bob.SendAsync(new Element("presence", Ns.Client));
        using var socket = await OpenAsync(server);
        Assert.Equal("xmpp", socket.SubProtocol);

        // §3.3.1 and §3.3.2: <open/> in, <open/> back, then the features as a standalone element.
        await SendAsync(socket, $"<open xmlns='{Framing}' to='example.test' version='1.0'/>");
        var open = await ReceiveAsync(socket);
        Assert.Equal(N(Framing, "open"), open.Name);
        Assert.Equal("example.test", (string?)open.Attribute("from"));
        Assert.False(string.IsNullOrEmpty((string?)open.Attribute("id")));
        var features = await ReceiveAsync(socket);
        Assert.Equal(N(Ns.Streams, "features"), features.Name);
        Assert.Null(features.Element(N(Ns.Tls, "starttls")));             // HTTPS is the TLS
        Assert.Contains(features.Element(N(Ns.Sasl, "mechanisms"))!.Elements(), m => m.Value == "PLAIN");

        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0" + TestServer.Password));
        await SendAsync(socket, $"<auth xmlns='{Ns.Sasl}' mechanism='PLAIN'>{plain}</auth>");
        Assert.Equal(N(Ns.Sasl, "success"), (await ReceiveAsync(socket)).Name);

        // §3.3.3: the restart is a new <open/>.
        await SendAsync(socket, $"<open xmlns='{Framing}' to='example.test' version='1.0'/>");
        Assert.Equal(N(Framing, "open"), (await ReceiveAsync(socket)).Name);
        Assert.NotNull((await ReceiveAsync(socket)).Element(N(Ns.Bind, "bind")));
        await SendAsync(socket, $"<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='{Ns.Bind}'><resource>web</resource></bind></iq>");
        var bound = await ReceiveAsync(socket);
        Assert.Equal("alice@example.test/web", bound.Element(N(Ns.Bind, "bind"))!.Element(N(Ns.Bind, "jid"))!.Value);

        // Stanzas both ways, each in its own message with its namespace.
        await SendAsync(socket, "<message xmlns='jabber:client' to='bob@example.test/desk' type='chat' id='w1'><body>from the browser</body></message>");
        var got = await Stanzas.NextAsync(bob, "message");
        Assert.Equal(("alice@example.test/web", "from the browser"), (got.GetAttribute("from"), got.ChildText("body", Ns.Client)));
        await bob.SendAsync(Stanzas.Chat("alice@example.test/web", "to the browser"));
        var message = await ReceiveAsync(socket);
        Assert.Equal(N(Ns.Client, "message"), message.Name);
        Assert.Equal("to the browser", message.Element(N(Ns.Client, "body"))!.Value);

        // §3.6: <close/> is answered with <close/>, then the server closes the WebSocket.
        await SendAsync(socket, $"<close xmlns='{Framing}'/>");
        Assert.Equal(N(Framing, "close"), (await ReceiveAsync(socket)).Name);
        using var end = new CancellationTokenSource(5000);
        var last = await socket.ReceiveAsync(new byte[16], end.Token);
        Assert.Equal(WebSocketMessageType.Close, last.MessageType);
    }

    [Fact]
    public async Task Rfc7395_3_1_a_websocket_without_the_xmpp_subprotocol_is_refused_and_bad_framing_is_a_stream_error()
    {
        await using var server = await TestServer.StartAsync();
        await Assert.ThrowsAsync<WebSocketException>(() => OpenAsync(server, xmppProtocol: false));

        // §3.3.2: the first message must be <open/>; a stanza before it is a stream error, framed and closed.
        using var socket = await OpenAsync(server);
        await SendAsync(socket, "<message xmlns='jabber:client' to='example.test'><body>too early</body></message>");
        XElement error;
        do error = await ReceiveAsync(socket);
        while (error.Name == N(Framing, "open"));
        Assert.Equal(N(Ns.Streams, "error"), error.Name);
        Assert.Equal(N(Framing, "close"), (await ReceiveAsync(socket)).Name);
    }

    [Fact]
    public async Task Xep0156_host_meta_names_the_websocket_endpoint_in_xrd_and_json_for_any_origin()
    {
        await using var server = await TestServer.StartAsync();
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && server.TrustServerCertificate()(this, c, null, System.Net.Security.SslPolicyErrors.None),
        };
        using var http = new HttpClient(handler);
        var port = server.Server.Port("upload");
        var expected = $"wss://127.0.0.1:{port}/xmpp-websocket";

        using var xrd = await http.GetAsync($"https://127.0.0.1:{port}/.well-known/host-meta");
        Assert.Equal("*", xrd.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var link = XElement.Parse(await xrd.Content.ReadAsStringAsync()).Element(N("http://docs.oasis-open.org/ns/xri/xrd-1.0", "Link"))!;
        Assert.Equal(("urn:xmpp:alt-connections:websocket", expected), ((string?)link.Attribute("rel"), (string?)link.Attribute("href")));

        using var jrd = await http.GetAsync($"https://127.0.0.1:{port}/.well-known/host-meta.json");
        using var json = System.Text.Json.JsonDocument.Parse(await jrd.Content.ReadAsStringAsync());
        var first = json.RootElement.GetProperty("links")[0];
        Assert.Equal(expected, first.GetProperty("href").GetString());
        Assert.Equal("urn:xmpp:alt-connections:websocket", first.GetProperty("rel").GetString());
    }

    [Fact]
    public async Task The_chat_page_points_converse_at_this_servers_websocket_or_bosh_endpoint_and_domain_and_says_when_it_is_not_installed()
    {
        // A converse.js stand-in: /chat needs only that dist/converse.min.js exists in WebClient:Directory.
        var dist = Path.Combine(Path.GetTempPath(), "parley-chat-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dist);
        await File.WriteAllTextAsync(Path.Combine(dist, "converse.min.js"), "window.converse = {};");
        try
        {
            await using (var server = await TestServer.StartAsync(new() { ["WebClient:Directory"] = dist }))
            {
                using var http = Https(server);
                var port = server.Server.Port("upload");
                var page = await http.GetStringAsync($"https://127.0.0.1:{port}/chat");
                Assert.Contains($"websocket_url: \"wss://127.0.0.1:{port}/xmpp-websocket\"", page);
                Assert.Contains($"locked_domain: \"{TestServer.Domain}\"", page);
                Assert.Equal("window.converse = {};", await http.GetStringAsync($"https://127.0.0.1:{port}/chat/dist/converse.min.js"));
                // ?transport=bosh: XEP-0206 instead, for networks that let no WebSocket through.
                var bosh = await http.GetStringAsync($"https://127.0.0.1:{port}/chat?transport=bosh");
                Assert.Contains($"bosh_service_url: \"https://127.0.0.1:{port}/http-bind\"", bosh);
                Assert.DoesNotContain("websocket_url", bosh);
            }
            await using (var server = await TestServer.StartAsync(new() { ["WebClient:Directory"] = dist, ["WebSocket:Enabled"] = "false" }))
            {
                using var http = Https(server);
                var port = server.Server.Port("upload");
                Assert.Contains($"bosh_service_url: \"https://127.0.0.1:{port}/http-bind\"", await http.GetStringAsync($"https://127.0.0.1:{port}/chat"));
            }
            await using (var server = await TestServer.StartAsync(new() { ["WebClient:Directory"] = Path.Combine(dist, "missing") }))
            {
                using var http = Https(server);
                using var response = await http.GetAsync($"https://127.0.0.1:{server.Server.Port("upload")}/chat");
                Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Contains("npm ci", await response.Content.ReadAsStringAsync());
            }
        }
        finally
        {
            Directory.Delete(dist, recursive: true);
        }
    }

    private HttpClient Https(TestServer server) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && server.TrustServerCertificate()(this, c, null, System.Net.Security.SslPolicyErrors.None),
    }, disposeHandler: true);
}
