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
/// A request runs one command of the <see cref="AdminCommandRegistry"/>: {"command":"run","name":"user add",
/// "args":{"jid":…,"password":…}}; the reply is the command's result (<see cref="AdminResult.ToJson"/>), or
/// {"ok":false,"error":…} for a request that is not understood.
/// Only the server's own user can reach the socket (its directory is mode 0700), so requests are trusted as
/// the administrator's, but they are still parsed defensively and bounded in size and time.
/// </summary>
public sealed partial class AdminSocketListener(AdminCommandRegistry registry, ILogger<AdminSocketListener> log) : ConnectionHandler
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
        if (command != "run") return Error($"unknown request '{command}'");
        var name = Text(request, "name");
        if (name is null || AdminCommandRegistry.Find(name) is not { } found) return Error($"unknown command '{name}'");
        if (ReadArguments(request["args"]) is not { } arguments) return Error("args must be an object of strings, numbers and booleans");
        var result = await registry.ExecuteAsync(found, arguments, "cli", ct).ConfigureAwait(false);
        return result.ToJson();
    }

    /// <summary>Arguments from JSON: an object whose values are strings, numbers or booleans (null when not).</summary>
    public static AdminArguments? ReadArguments(JsonNode? node)
    {
        var arguments = new AdminArguments();
        if (node is null) return arguments;
        if (node is not JsonObject o) return null;
        foreach (var (key, value) in o)
        {
            if (value is null) continue;
            if (value is not JsonValue v) return null;
            switch (v.GetValueKind())
            {
                case JsonValueKind.String: arguments.Set(key, v.GetValue<string>()); break;
                case JsonValueKind.True: arguments.Set(key, "true"); break;
                case JsonValueKind.False: arguments.Set(key, "false"); break;
                case JsonValueKind.Number: arguments.Set(key, v.ToJsonString()); break;
                default: return null;
            }
        }
        return arguments;
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
