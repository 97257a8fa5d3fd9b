using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Parley.Cli;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Interop.Tests.Cli;

/// <summary>
/// `parley send`, run in-process through its entry point against a Parley server on 127.0.0.1, with a Parley.Client
/// receiver checking what arrived. Exit codes: 0 sent, 2 bad arguments, 3 connection/TLS, 4 authentication, 5 refused.
/// </summary>
public sealed class SendCommandTests(InteropServer server) : IClassFixture<InteropServer>, IAsyncLifetime
{
    private readonly string _passwordFile = Path.Combine(Path.GetTempPath(), "parley-send-" + Guid.NewGuid().ToString("N"));
    private readonly List<XmppClient> _clients = [];

    public async Task InitializeAsync() => await File.WriteAllTextAsync(_passwordFile, InteropServer.Password + "\n");

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        File.Delete(_passwordFile);
    }

    private static Jid User(string user) => Jid.Create(user, InteropServer.Domain);

    private async Task<XmppClient> ReceiverAsync(string user)
    {
        var client = await CliPeer.LoginAsync(server, user);
        _clients.Add(client);
        return client;
    }

    private async Task<(int Code, string Out, string Err)> SendAsync(string from, string[] args, IReadOnlyDictionary<string, string>? environment = null, bool passwordFile = true)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] all = ["send", .. args, "--jid", User(from).ToString(), .. CliPeer.Server(server), .. passwordFile ? ["--password-file", _passwordFile] : Array.Empty<string>()];
        var code = await ParleyCli.RunAsync(all, output, error, environment: environment ?? new Dictionary<string, string>());
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Send_delivers_a_chat_message_to_the_recipient()
    {
        var bob = await ReceiverAsync("bob");
        var arrived = CliPeer.NextMessageAsync(h => bob.MessageReceived += h, m => m.Body == "hello from a script");
        var r = await SendAsync("alice", ["bob@localhost", "hello from a script"]);
        Assert.True(r.Code == 0, r.Err);
        var message = await arrived;
        Assert.Equal("chat", message.Type);
        Assert.Equal(User("alice"), message.From?.Bare);
    }

    [Fact]
    public async Task Send_takes_the_password_from_the_environment_and_insecure_warns_on_stderr()
    {
        var dave = await ReceiverAsync("dave");
        var arrived = CliPeer.NextMessageAsync(h => dave.MessageReceived += h, m => m.Body == "from the environment");
        string[] args = ["send", "dave@localhost", "from the environment", "--jid", "carol@localhost", "--host", "127.0.0.1",
            "--port", server.StartTlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--insecure"];
        var error = new StringWriter();
        var code = await ParleyCli.RunAsync(args, new StringWriter(), error, environment: new Dictionary<string, string> { ["PARLEY_PASSWORD"] = InteropServer.Password });
        Assert.True(code == 0, error.ToString());
        Assert.Contains("warning: --insecure", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(User("carol"), (await arrived).From?.Bare);
    }

    [Fact]
    public async Task Send_with_room_enters_the_room_and_delivers_to_an_occupant()
    {
        var erin = await ReceiverAsync("erin");
        var room = Jid.Create("cli-" + Guid.NewGuid().ToString("N")[..8], "conference." + InteropServer.Domain);
        var created = await erin.Muc.JoinAsync(room, "Erin");
        Assert.True(created.Created);
        await erin.Muc.ConfigureAsync(room, []);
        var arrived = CliPeer.NextMessageAsync(h => erin.MessageReceived += h, m => m.Type == "groupchat" && m.Body == "hello, room");
        var r = await SendAsync("frank", [room.ToString(), "hello, room", "--room", "--nick", "Frank"]);
        Assert.True(r.Code == 0, r.Err);
        var message = await arrived;
        Assert.Equal("groupchat", message.Type);
        Assert.Equal(Jid.Create(room.Local, room.Domain, "Frank"), message.From);
    }

    [Fact]
    public async Task Send_to_a_room_that_does_not_exist_is_refused_and_leaves_no_room_behind()
    {
        var room = Jid.Create("missing-" + Guid.NewGuid().ToString("N")[..8], "conference." + InteropServer.Domain);
        var r = await SendAsync("grace", [room.ToString(), "anyone?", "--room"]);
        Assert.Equal(5, r.Code);
        Assert.Contains("does not exist", r.Err, StringComparison.Ordinal);
        // Entering again creates the room anew: the attempt above destroyed the one it created.
        var heidi = await ReceiverAsync("heidi");
        Assert.True((await heidi.Muc.JoinAsync(room, "Heidi")).Created);
    }

    [Fact]
    public async Task Send_with_file_uploads_it_and_sends_a_url_whose_download_is_the_file()
    {
        var ivan = await ReceiverAsync("ivan");
        var file = Path.Combine(Path.GetTempPath(), "parley-send-" + Guid.NewGuid().ToString("N") + ".txt");
        var bytes = System.Text.Encoding.UTF8.GetBytes("a file sent with parley send --file\n");
        await File.WriteAllBytesAsync(file, bytes);
        try
        {
            var arrived = CliPeer.NextMessageAsync(h => ivan.MessageReceived += h, m => m.Body?.StartsWith("https://", StringComparison.Ordinal) == true);
            var r = await SendAsync("judy", ["ivan@localhost", "--file", file]);
            Assert.True(r.Code == 0, r.Err);
            var message = await arrived;
            // XEP-0066: the same URL out of band, which clients show inline.
            Assert.Equal(message.Body, message.Element.Child("x", "jabber:x:oob")?.ChildText("url", "jabber:x:oob"));
            Assert.Equal(message.Body, r.Out.Trim());
            var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(server.CertificatePath));
            using var http = new HttpClient(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && c.RawData.AsSpan().SequenceEqual(certificate.RawData),
            });
            Assert.Equal(bytes, await http.GetByteArrayAsync(new Uri(message.Body!)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_wrong_password_exits_with_the_authentication_code()
    {
        await File.WriteAllTextAsync(_passwordFile, "not the password\n");
        var r = await SendAsync("mallory", ["bob@localhost", "let me in"]);
        Assert.Equal(4, r.Code);
        Assert.Contains("not-authorized", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_password_on_the_command_line_is_refused_before_connecting()
    {
        var r = await SendAsync("oscar", ["bob@localhost", "hi", "--password", InteropServer.Password], passwordFile: false);
        Assert.Equal(2, r.Code);
        Assert.Contains("never taken from the command line", r.Err, StringComparison.Ordinal);

        var none = await SendAsync("oscar", ["bob@localhost", "hi"], passwordFile: false);
        Assert.Equal(2, none.Code);
        Assert.Contains("PARLEY_PASSWORD", none.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_server_and_an_untrusted_certificate_exit_with_the_connection_code()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new Dictionary<string, string> { ["PARLEY_PASSWORD"] = InteropServer.Password };
        var closed = await ParleyCli.RunAsync(["send", "bob@localhost", "hi", "--jid", "peggy@localhost", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            output, error, environment: environment);
        Assert.Equal(3, closed);

        // The generated certificate is self-signed: without --cert-file or --insecure it is not trusted.
        var untrusted = await ParleyCli.RunAsync(["send", "bob@localhost", "hi", "--jid", "peggy@localhost", "--host", "127.0.0.1", "--port", server.StartTlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            output, error, environment: environment);
        Assert.Equal(3, untrusted);
        Assert.Contains("TLS", error.ToString(), StringComparison.Ordinal);
    }
}
