using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Admin;

/// <summary>
/// The server side of the admin socket: one JSON request line per connection, one JSON reply line, then close.
/// Requests: {"command":"online"}, {"command":"announce","subject":…,"body":…},
/// {"command":"end-sessions","account":…}. Replies carry "ok" and either the result or "error".
/// Only the server's own user can reach the socket (its directory is mode 0700), so requests are trusted as
/// the administrator's, but they are still parsed defensively and bounded in size and time.
/// </summary>
public sealed partial class AdminSocketListener(AdminOperations operations, Accounts accounts, ILogger<AdminSocketListener> log) : ConnectionHandler
{
    /// <summary>The longest request line accepted.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(RequestTimeout);
        JsonObject reply;
        try
        {
            var line = await ReadLineAsync(connection.Transport.Input, timeout.Token).ConfigureAwait(false);
            reply = line is null ? Error("the request is missing, too long or not UTF-8") : await HandleAsync(line, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(reply.ToJsonString() + "\n");
        await connection.Transport.Output.WriteAsync(bytes).ConfigureAwait(false);
        await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    internal async Task<JsonObject> HandleAsync(string line, CancellationToken ct)
    {
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            request = null;
        }
        if (request is null) return Error("the request is not a JSON object");
        var command = Text(request, "command");
        LogRequest(log, command);
        switch (command)
        {
            case "online":
                var online = new JsonArray();
                foreach (var a in operations.OnlineAccounts()) online.Add(a);
                return new JsonObject { ["ok"] = true, ["accounts"] = online, ["sessions"] = operations.SessionCount };
            case "announce":
                var body = Text(request, "body");
                if (string.IsNullOrEmpty(body)) return Error("the announcement is empty");
                return new JsonObject { ["ok"] = true, ["sessions"] = operations.Announce(Text(request, "subject"), body) };
            case "end-sessions":
                var text = Text(request, "account");
                if (text is null || !accounts.TryParseAccount(text, out var account)) return Error("account is not an account of this server");
                return new JsonObject { ["ok"] = true, ["sessions"] = await operations.EndSessionsAsync(account, "The account was deleted", ct).ConfigureAwait(false) };
            default:
                return Error($"unknown command '{command}'");
        }
    }

    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Admin socket request: {Command}")]
    private static partial void LogRequest(ILogger logger, string? command);

    private static string? Text(JsonObject o, string name) =>
        o.TryGetPropertyValue(name, out var v) && v is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    private static JsonObject Error(string message) => new() { ["ok"] = false, ["error"] = message };

    private static async Task<string?> ReadLineAsync(PipeReader input, CancellationToken ct)
    {
        while (true)
        {
            var result = await input.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is { } end)
            {
                var slice = buffer.Slice(0, end);
                if (slice.Length > MaxRequestBytes) return null;
                var text = Decode(slice);
                input.AdvanceTo(buffer.End);
                return text;
            }
            if (buffer.Length > MaxRequestBytes || result.IsCompleted) return null;
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static string? Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>
    /// Prepares the socket's path before Kestrel binds it: creates its directory with mode 0700 and removes a
    /// socket file left by a server that is gone. Throws when another server is answering on it.
    /// </summary>
    public static void PreparePath(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        if (!File.Exists(path)) return;
        if (AdminSocketClient.IsAnswering(path))
            throw new InvalidOperationException($"Another Parley server is running with the admin socket {path}");
        File.Delete(path);
    }
}

/// <summary>The CLI's side of the admin socket.</summary>
public static class AdminSocketClient
{
    /// <summary>Whether a server is accepting connections on the socket.</summary>
    public static bool IsAnswering(string path)
    {
        if (!File.Exists(path)) return false;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends one request and returns the reply; null when no server answers on the socket.</summary>
    public static async Task<JsonObject?> SendAsync(string path, JsonObject request, CancellationToken ct)
    {
        if (!File.Exists(path)) return null;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return null;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToJsonString() + "\n"), timeout.Token).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var line = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        return line is null ? null : JsonNode.Parse(line) as JsonObject;
    }
}
