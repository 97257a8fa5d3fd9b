using System.Net;
using System.Net.Http.Headers;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Upload;

/// <summary>XEP-0363 HTTP file upload: slots over XMPP, PUT and GET over HTTPS.</summary>
public sealed class UploadTests
{
    private const string Ns363 = "urn:xmpp:http:upload:0";
    private const string Service = "upload.example.test";

    private static Element Request(string filename, long size, string? type = "image/png")
    {
        var request = new Element("request", Ns363).SetAttribute("filename", filename).SetAttribute("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (type is not null) request.SetAttribute("content-type", type);
        return new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Service).Add(request);
    }

    // The URLs name the domain; the test reaches the listener on 127.0.0.1 and trusts exactly the server's certificate.
    private static HttpClient Http(TestServer server)
    {
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && server.TrustServerCertificate()(null!, cert, null, System.Net.Security.SslPolicyErrors.None) };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }

    private static Uri Local(TestServer server, string url)
    {
        var uri = new UriBuilder(url) { Host = "127.0.0.1", Port = server.Server.Port("upload") };
        return uri.Uri;
    }

    [Fact]
    public async Task Xep0363_a_slot_is_granted_the_file_put_once_and_got_back_byte_for_byte_with_its_type()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var items = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("query", Ns.DiscoItems)));
        Assert.Contains($"jid='{Service}'", items.ToString(), StringComparison.Ordinal);
        var info = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Service).Add(new Element("query", Ns.DiscoInfo)));
        Assert.Contains("category='store' type='file'", info.ToString(), StringComparison.Ordinal);
        Assert.Contains("<value>104857600</value>", info.ToString(), StringComparison.Ordinal);

        var content = new byte[70_000];
        Random.Shared.NextBytes(content);
        var slot = (await alice.RequestAsync(Request("../../holiday photo.png", content.Length))).Child("slot", Ns363)!;
        var put = slot.Child("put", Ns363)!;
        var get = slot.Child("get", Ns363)!.GetAttribute("url")!;
        Assert.StartsWith("https://example.test:", put.GetAttribute("url"), StringComparison.Ordinal);
        Assert.EndsWith("/holiday_photo.png", get, StringComparison.Ordinal);

        using var http = Http(server);
        using (var body = new ByteArrayContent(content))
        {
            body.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            var noAuth = await http.PutAsync(Local(server, put.GetAttribute("url")!), body);
            Assert.Equal(HttpStatusCode.Forbidden, noAuth.StatusCode);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Put, Local(server, put.GetAttribute("url")!)) { Content = new ByteArrayContent(content) })
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            request.Headers.TryAddWithoutValidation("Authorization", put.ChildText("header", Ns363));
            Assert.Equal(HttpStatusCode.Created, (await http.SendAsync(request)).StatusCode);
        }
        using (var again = new HttpRequestMessage(HttpMethod.Put, Local(server, put.GetAttribute("url")!)) { Content = new ByteArrayContent(content) })
        {
            again.Headers.TryAddWithoutValidation("Authorization", put.ChildText("header", Ns363));
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(again)).StatusCode);   // a slot is used once
        }

        var response = await http.GetAsync(Local(server, get));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(Local(server, get + "x"))).StatusCode);
    }

    [Fact]
    public async Task Xep0363_4_1_a_file_too_large_is_refused_with_the_maximum_and_a_full_quota_with_resource_constraint()
    {
        await using var server = await TestServer.StartAsync(new() { ["Upload:MaxFileBytes"] = "1000", ["Upload:QuotaBytesPerAccount"] = "1500" });
        await using var alice = await server.LoginAsync("alice");
        var tooLarge = await alice.RequestAsync(Request("big.bin", 1001));
        var error = tooLarge.Child("error", Ns.Client)!;
        Assert.Equal("modify", error.GetAttribute("type"));
        Assert.NotNull(error.Child("not-acceptable", Ns.Stanzas));
        Assert.Equal("1000", error.Child("file-too-large", Ns363)!.ChildText("max-file-size", Ns363));

        Assert.NotNull((await alice.RequestAsync(Request("a.bin", 1000))).Child("slot", Ns363));
        var full = await alice.RequestAsync(Request("b.bin", 600));
        Assert.NotNull(full.Child("error", Ns.Client)?.Child("resource-constraint", Ns.Stanzas));
    }

    [Fact]
    public async Task Xep0363_a_body_of_another_size_or_type_than_announced_is_refused_and_nothing_is_kept()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        using var http = Http(server);
        foreach (var (bytes, type) in new[] { (new byte[10], "image/png"), (new byte[20], "text/html") })
        {
            var slot = (await alice.RequestAsync(Request("x.png", 20))).Child("slot", Ns363)!;
            var put = slot.Child("put", Ns363)!;
            using var request = new HttpRequestMessage(HttpMethod.Put, Local(server, put.GetAttribute("url")!)) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(type);
            request.Headers.TryAddWithoutValidation("Authorization", put.ChildText("header", Ns363));
            Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(request)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(Local(server, slot.Child("get", Ns363)!.GetAttribute("url")!))).StatusCode);
        }
    }
}
