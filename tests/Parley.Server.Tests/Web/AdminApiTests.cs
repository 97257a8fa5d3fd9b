using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Admin;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Web;

/// <summary>The REST API under /api/admin: the registry's commands behind bearer tokens, described by OpenAPI.</summary>
public sealed class AdminApiTests
{
    private static HttpClient Https(TestServer server) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && server.TrustServerCertificate()(new object(), c, null, System.Net.Security.SslPolicyErrors.None),
    }, disposeHandler: true)
    {
        BaseAddress = new Uri($"https://127.0.0.1:{server.Server.Port("upload")}/api/admin/"),
    };

    private static async Task<string> TokenAsync(TestServer server, string name = "tests", string? days = null)
    {
        var args = new AdminArguments().Set("name", name).Set("days", days);
        var result = await server.Services.GetRequiredService<AdminCommandRegistry>().ExecuteAsync(AdminCommandRegistry.Find("token create")!, args, "test", CancellationToken.None);
        Assert.True(result.Ok, result.Message);
        return result.Data!["token"]!.GetValue<string>();
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Without_a_valid_bearer_token_every_command_is_refused_with_401()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Https(server);
        using var none = await http.GetAsync("user/list");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "parley_guessed");
        using var guessed = await http.GetAsync("user/list");
        Assert.Equal(HttpStatusCode.Unauthorized, guessed.StatusCode);

        // A revoked token stops working at once; only its hash was ever stored.
        var token = await TokenAsync(server, "short-lived");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using (var ok = await http.GetAsync("user/list")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var (status, _) = await PostAsync(http, "token/revoke", """{"token":"short-lived"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        using var revoked = await http.GetAsync("user/list");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
    }

    [Fact]
    public async Task Commands_run_with_json_arguments_and_answer_with_the_status_of_their_outcome()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Https(server);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(server));

        var (created, body) = await PostAsync(http, "user/add", """{"jid":"rest@example.test","password":"from the api"}""");
        Assert.Equal(HttpStatusCode.OK, created);
        Assert.Equal("Created rest@example.test", body["message"]!.GetValue<string>());
        await using (var client = new Parley.Client.XmppClient(server.ClientOptions("rest", password: "from the api"))) await client.ConnectAsync();

        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, "user/add", """{"jid":"rest","password":"again"}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, "user/add", """{"jid":"rest@other.test","password":"x"}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, "user/add", """{"jid":"x","password":"y","admin":true}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, "user/add", """["not","an","object"]""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(http, "user/delete", """{"jid":"nobody"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(http, "no/such/command", "{}")).Status);

        // Read-only commands answer GET with query arguments; the others only POST.
        var list = (JsonObject)JsonNode.Parse(await http.GetStringAsync("user/list"))!;
        Assert.Contains("rest@example.test", list["data"]!["accounts"]!.AsArray().Select(a => a!.GetValue<string>()));
        using var get = await http.GetAsync("user/add?jid=x&password=y");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        var tail = (JsonObject)JsonNode.Parse(await http.GetStringAsync("log/tail?lines=5"))!;
        Assert.True(tail["data"]!["lines"]!.AsArray().Count <= 5);

        using var huge = await http.PostAsync("announce", new StringContent("{\"body\":\"" + new string('a', AdminApiEndpointsLimit) + "\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
    }

    private const int AdminApiEndpointsLimit = Parley.Server.Web.AdminApiEndpoints.MaxBodyBytes;

    [Fact]
    public async Task The_openapi_description_has_a_path_for_every_registry_command_with_its_arguments()
    {
        await using var server = await TestServer.StartAsync();
        using var http = Https(server);
        var doc = (JsonObject)JsonNode.Parse(await http.GetStringAsync("openapi.json"))!;
        Assert.Equal("3.1.0", doc["openapi"]!.GetValue<string>());
        var paths = doc["paths"]!.AsObject();
        Assert.Equal(AdminCommandRegistry.All.Count, paths.Count);
        var add = paths["/user/add"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(["jid", "password"], add["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("password", add["properties"]!["password"]!["format"]!.GetValue<string>());
        Assert.NotNull(paths["/session/list"]!["get"]);
        Assert.Null(paths["/session/kick"]!["get"]);
    }
}
