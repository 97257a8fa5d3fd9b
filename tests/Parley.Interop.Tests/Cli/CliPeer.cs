using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Interop.Tests.Cli;

/// <summary>What the client-command tests share: the server's address and certificate, and receivers made with Parley.Client.</summary>
internal static class CliPeer
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public static string[] Server(InteropServer server) =>
        ["--host", "127.0.0.1", "--port", server.StartTlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cert-file", server.CertificatePath];

    public static async Task<XmppClient> LoginAsync(InteropServer server, string user)
    {
        var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(server.CertificatePath));
        var client = new XmppClient(new XmppClientOptions
        {
            Jid = Jid.Create(user, InteropServer.Domain, "receiver"),
            Password = InteropServer.Password,
            Host = "127.0.0.1",
            Port = server.StartTlsPort,
            TrustedCertificates = [certificate],
            ConnectTimeout = Wait,
            IqTimeout = Wait,
        });
        await client.ConnectAsync();
        await client.SendPresenceAsync();
        return client;
    }

    /// <summary>The first message that matches, from the moment of the call.</summary>
    public static Task<ChatMessage> NextMessageAsync(Action<EventHandler<ChatMessage>> subscribe, Func<ChatMessage, bool> match)
    {
        var tcs = new TaskCompletionSource<ChatMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscribe((_, m) =>
        {
            if (match(m)) tcs.TrySetResult(m);
        });
        return tcs.Task.WaitAsync(Wait);
    }
}
