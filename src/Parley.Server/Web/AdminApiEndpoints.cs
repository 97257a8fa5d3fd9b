using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Admin;

namespace Parley.Server.Web;

/// <summary>
/// The REST API under /api/admin: every command of the <see cref="AdminCommandRegistry"/> at its path
/// (<c>POST /api/admin/user/add</c> with a JSON object of arguments; read-only commands also answer GET with query
/// arguments), authorised by a bearer token from <c>parley token create</c>, answering with the command's result
/// ({"ok","outcome","message","data"}) and an HTTP status of its outcome. /api/admin/openapi.json describes it all.
/// </summary>
public static class AdminApiEndpoints
{
    /// <summary>The API's root path.</summary>
    public const string Root = "/api/admin";

    /// <summary>The largest request body accepted.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Maps the API and its OpenAPI description.</summary>
    public static void Map(WebApplication app)
    {
        app.MapGet(Root + "/openapi.json", () => Results.Text(OpenApi().ToJsonString(), "application/json; charset=utf-8"));
        app.MapMethods(Root + "/{**path}", [HttpMethods.Get, HttpMethods.Post], HandleAsync);
    }

    private static async Task HandleAsync(HttpContext http, string? path)
    {
        http.Response.Headers.CacheControl = "no-store";
        var ct = http.RequestAborted;
        var token = BearerToken(http.Request);
        var tokens = http.RequestServices.GetRequiredService<AdminTokens>();
        if (await tokens.ValidateAsync(token, ct).ConfigureAwait(false) is not { } info)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"parley-admin\"";
            await WriteAsync(http, StatusCodes.Status401Unauthorized, Refusal("unauthorized", "A valid bearer token is required (parley token create)")).ConfigureAwait(false);
            return;
        }
        if (AdminCommandRegistry.FindByPath(path) is not { } command)
        {
            await WriteAsync(http, StatusCodes.Status404NotFound, Refusal("not-found", $"No command at {Root}/{path}; see {Root}/openapi.json")).ConfigureAwait(false);
            return;
        }
        if (HttpMethods.IsGet(http.Request.Method) && !command.ReadOnly)
        {
            http.Response.Headers.Allow = "POST";
            await WriteAsync(http, StatusCodes.Status405MethodNotAllowed, Refusal("bad-request", $"'{command.Name}' changes the server: use POST")).ConfigureAwait(false);
            return;
        }
        var (arguments, problem) = HttpMethods.IsGet(http.Request.Method) ? (FromQuery(http.Request.Query), null) : await FromBodyAsync(http.Request, ct).ConfigureAwait(false);
        if (arguments is null)
        {
            await WriteAsync(http, problem == "too large" ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                Refusal("bad-request", problem == "too large" ? $"The body exceeds {MaxBodyBytes} bytes" : "The body must be a JSON object of strings, numbers and booleans")).ConfigureAwait(false);
            return;
        }
        var registry = http.RequestServices.GetRequiredService<AdminCommandRegistry>();
        var result = await registry.ExecuteAsync(command, arguments, "api token " + info.Name, ct).ConfigureAwait(false);
        await WriteAsync(http, Status(result.Outcome), result.ToJson()).ConfigureAwait(false);
    }

    /// <summary>The HTTP status of an outcome.</summary>
    public static int Status(AdminOutcome outcome) => outcome switch
    {
        AdminOutcome.Ok => StatusCodes.Status200OK,
        AdminOutcome.BadRequest => StatusCodes.Status400BadRequest,
        AdminOutcome.NotFound => StatusCodes.Status404NotFound,
        AdminOutcome.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    private static AdminArguments FromQuery(IQueryCollection query)
    {
        var arguments = new AdminArguments();
        foreach (var (key, value) in query) arguments.Set(key, value.ToString());
        return arguments;
    }

    private static async Task<(AdminArguments?, string?)> FromBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return (null, "too large");
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            var n = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false);
            if (n == 0) break;
            if (buffer.Length + n > MaxBodyBytes) return (null, "too large");
            buffer.Write(chunk, 0, n);
        }
        if (buffer.Length == 0) return (new AdminArguments(), null);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(buffer.ToArray(), documentOptions: new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException)
        {
            return (null, "not JSON");
        }
        return (AdminSocketListener.ReadArguments(node), "not an object");
    }

    private static JsonObject Refusal(string outcome, string message) => new() { ["ok"] = false, ["outcome"] = outcome, ["message"] = message, ["data"] = null };

    private static Task WriteAsync(HttpContext http, int status, JsonObject body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsync(body.ToJsonString(), http.RequestAborted);
    }

    /// <summary>The OpenAPI 3.1 description of every command: its path, arguments and result.</summary>
    public static JsonObject OpenApi()
    {
        var paths = new JsonObject();
        foreach (var c in AdminCommandRegistry.All)
        {
            var properties = new JsonObject();
            var required = new JsonArray();
            var query = new JsonArray();
            foreach (var p in c.Parameters)
            {
                var schema = Schema(p);
                properties[p.Name] = schema;
                if (p.Required) required.Add(p.Name);
                query.Add(new JsonObject { ["name"] = p.Name, ["in"] = "query", ["required"] = p.Required, ["description"] = p.Description, ["schema"] = Schema(p) });
            }
            var operations = new JsonObject
            {
                ["post"] = Operation(c, "post", new JsonObject
                {
                    ["required"] = false,
                    ["content"] = new JsonObject
                    {
                        ["application/json"] = new JsonObject
                        {
                            ["schema"] = new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required, ["additionalProperties"] = false },
                        },
                    },
                }, null),
            };
            if (c.ReadOnly) operations["get"] = Operation(c, "get", null, query);
            paths["/" + c.Path] = operations;
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Parley administration API",
                ["version"] = "1",
                ["description"] = "The commands of the parley CLI, the XEP-0133/XEP-0050 admin commands and the web console. Authorise with a bearer token from 'parley token create'.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = Root }),
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }),
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject { ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" } },
                ["schemas"] = new JsonObject
                {
                    ["Result"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["required"] = new JsonArray("ok", "outcome", "message"),
                        ["properties"] = new JsonObject
                        {
                            ["ok"] = new JsonObject { ["type"] = "boolean" },
                            ["outcome"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("ok", "bad-request", "not-found", "conflict", "unavailable", "unauthorized") },
                            ["message"] = new JsonObject { ["type"] = "string" },
                            ["data"] = new JsonObject { ["type"] = new JsonArray("object", "null") },
                        },
                    },
                },
            },
            ["paths"] = paths,
        };
    }

    private static JsonObject Schema(AdminParameter p) => p.Kind switch
    {
        AdminParameterKind.Number => new JsonObject { ["type"] = new JsonArray("integer", "string"), ["minimum"] = 0, ["description"] = p.Description },
        AdminParameterKind.Flag => new JsonObject { ["type"] = new JsonArray("boolean", "string"), ["description"] = p.Description },
        AdminParameterKind.Secret => new JsonObject { ["type"] = "string", ["format"] = "password", ["description"] = p.Description },
        _ => new JsonObject { ["type"] = "string", ["description"] = p.Description },
    };

    private static JsonObject Operation(AdminCommand c, string method, JsonObject? body, JsonArray? query)
    {
        var responses = new JsonObject();
        foreach (var (code, what) in new[] { ("200", "Done"), ("400", "Bad arguments"), ("401", "No valid bearer token"), ("404", "What it acts on does not exist"), ("409", "What it creates exists"), ("503", "A module it needs is disabled") })
            responses[code] = new JsonObject
            {
                ["description"] = what,
                ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/Result" } } },
            };
        var operation = new JsonObject
        {
            ["operationId"] = c.Name.Replace(' ', '_') + (method == "get" ? "_get" : ""),
            ["summary"] = c.Description,
            ["tags"] = new JsonArray(c.Name.Split(' ')[0]),
            ["responses"] = responses,
        };
        if (body is not null) operation["requestBody"] = body;
        if (query is { Count: > 0 }) operation["parameters"] = query;
        return operation;
    }
}
