using System.Diagnostics;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Interop.Tests;

/// <summary>
/// Parley's WebSocket endpoint (RFC 7395) against npm's @xmpp/client 0.14 (xmpp.js), a client we did not write: it
/// negotiates over wss (SASL2 where offered), binds, sends presence and a message, and gets an answer.
/// The test command installs the package (tests/Parley.Interop.Tests/xmppjs, `npm ci`).
/// </summary>
public sealed class XmppJsTests(InteropServer server) : IClassFixture<InteropServer>
{
    private static string Directory()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Parley.slnx"))) root = Path.GetDirectoryName(root.TrimEnd('/'))!;
        var dir = Path.Combine(root, "tests", "Parley.Interop.Tests", "xmppjs");
        Assert.True(System.IO.Directory.Exists(Path.Combine(dir, "node_modules", "@xmpp", "client")),
            "the test command installs @xmpp/client (npm ci in " + dir + ")");
        return dir;
    }

    [Fact]
    public async Task Rfc7395_xmpp_js_logs_in_over_websocket_and_exchanges_messages_with_a_tcp_client()
    {
        await using var bob = new XmppClient(new XmppClientOptions
        {
            Jid = Jid.Parse("bob@localhost/tcp"),
            Password = InteropServer.Password,
            Host = "127.0.0.1",
            Port = server.StartTlsPort,
            TrustedCertificates = [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(server.CertificatePath))],
        });
        await bob.ConnectAsync();
        await bob.SendPresenceAsync();
        var greeted = new TaskCompletionSource<Client.Model.ChatMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.MessageReceived += (_, m) =>
        {
            if (m.Body != "hello from xmpp.js") return;
            greeted.TrySetResult(m);
            _ = bob.SendMessageAsync(m.From!.Value, "hello back");
        };

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Directory(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "client.mjs", $"wss://localhost:{server.Server.Port("upload")}/xmpp-websocket", "localhost", "alice", InteropServer.Password, bob.BoundJid.ToString() })
            start.ArgumentList.Add(a);
        // The server's self-signed certificate, trusted for this process only.
        start.Environment["NODE_EXTRA_CA_CERTS"] = server.CertificatePath;
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
        }
        var output = await stdout + await stderr;
        Assert.True(node.HasExited && node.ExitCode == 0, output);
        Assert.True(output.Contains("\"event\":\"online\",\"jid\":\"alice@localhost/", StringComparison.Ordinal), output);
        Assert.True(output.Contains("\"event\":\"received\",\"from\":\"" + bob.BoundJid + "\"", StringComparison.Ordinal), output);
        var message = await greeted.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("alice@localhost", message.From?.Bare.ToString());
    }
}
