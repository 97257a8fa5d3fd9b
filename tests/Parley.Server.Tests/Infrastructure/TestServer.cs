using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// The server in-process on 127.0.0.1 with free ports, memory storage and a certificate generated into a
/// temporary data directory; accounts are created on demand.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Domain = "example.test";
    public const string Password = "correct horse battery staple";

    /// <summary>The shared secret of every component configured with <see cref="ComponentSettings"/>.</summary>
    public const string ComponentSecret = "component secret";

    private readonly string _dataDirectory;

    private TestServer(ParleyServer server, string dataDirectory)
    {
        Server = server;
        _dataDirectory = dataDirectory;
        Host = server.Options.Domain;
    }

    /// <summary>This instance's domain (<see cref="Domain"/> unless the settings chose another, as federation tests do).</summary>
    public string Host { get; }

    /// <summary>The port of the server-to-server listener.</summary>
    public int S2sPort => Server.Port("s2s");

    public ParleyServer Server { get; }

    /// <summary>The server's temporary data directory.</summary>
    public string DataDirectory => _dataDirectory;

    public int StartTlsPort => Server.Port("c2s");

    public int DirectTlsPort => Server.Port("c2s-direct-tls");

    /// <summary>The XEP-0114 listener's port (only when components are configured).</summary>
    public int ComponentPort => Server.Port("components");

    public IServiceProvider Services => Server.Services;

    public static async Task<TestServer> StartAsync(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var data = Path.Combine(Path.GetTempPath(), "parley-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var values = new Dictionary<string, string?>
        {
            ["Domain"] = Domain,
            ["DataDirectory"] = data,
            ["Storage"] = "memory",
            ["C2s:Address"] = "127.0.0.1",
            ["C2s:Port"] = "0",
            ["C2sDirectTls:Address"] = "127.0.0.1",
            ["C2sDirectTls:Port"] = "0",
            ["Components:Address"] = "127.0.0.1",
            ["Components:Port"] = "0",
            // Federation only where a test asks for it: no test reaches DNS or other servers by accident.
            ["S2s:Enabled"] = "false",
            ["S2s:Address"] = "127.0.0.1",
            ["S2s:Port"] = "0",
            ["Upload:Address"] = "127.0.0.1",
            ["Upload:Port"] = "0",
            ["Auth:ScramIterations"] = "4096",
            ["Auth:FailureDelayMilliseconds"] = "10",
            ["Auth:MaxFailureDelayMilliseconds"] = "40",
        };
        if (settings is not null)
            foreach (var (k, v) in settings) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var server = ParleyServer.Create(configuration, configureServices: services);
        await server.StartAsync();
        return new TestServer(server, data);
    }

    /// <summary>Settings that configure external components (XEP-0114) for these domains, all with <see cref="ComponentSecret"/>.</summary>
    public static Dictionary<string, string?> ComponentSettings(params string[] domains)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < domains.Length; i++)
        {
            settings[$"Components:List:{i}:Domain"] = domains[i];
            settings[$"Components:List:{i}:Secret"] = ComponentSecret;
        }
        return settings;
    }

    /// <summary>Connects a configured component (XEP-0114) with Parley.Client's component mode.</summary>
    public async Task<XmppClient> ConnectComponentAsync(string domain, string secret = ComponentSecret)
    {
        var client = new XmppClient(new XmppClientOptions
        {
            Jid = Protocol.Jid.Create(null, domain),
            Password = secret,
            Component = true,
            Host = "127.0.0.1",
            Port = ComponentPort,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            IqTimeout = TimeSpan.FromSeconds(10),
            Raw = true,
        });
        try
        {
            await client.ConnectAsync();
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
        return client;
    }

    public Jid Jid(string user, string? resource = null) => Protocol.Jid.Create(user, Host, resource);

    public async Task EnsureAccountAsync(string user, string password = Password)
    {
        var accounts = Services.GetRequiredService<Accounts>();
        await accounts.CreateAsync(Jid(user), password, CancellationToken.None);
    }

    /// <summary>Accepts exactly this server's certificate.</summary>
    public RemoteCertificateValidationCallback TrustServerCertificate()
    {
        var expected = Services.GetRequiredService<Parley.Server.Connections.TlsCertificateProvider>().Certificate.RawData;
        return (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expected);
    }

    public XmppClientOptions ClientOptions(string user, string? resource = null, string password = Password, bool directTls = false) => new()
    {
        Jid = Jid(user, resource),
        Password = password,
        Host = "127.0.0.1",
        Port = directTls ? DirectTlsPort : StartTlsPort,
        DirectTls = directTls,
        CertificateValidation = TrustServerCertificate(),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(10),
        // Scripted conversations: every stanza goes to ReceiveAsync, nothing is answered automatically.
        Raw = true,
    };

    /// <summary>Creates the account if needed and returns a bound client.</summary>
    public async Task<XmppClient> LoginAsync(string user, string? resource = null, bool directTls = false)
    {
        await EnsureAccountAsync(user);
        var client = new XmppClient(ClientOptions(user, resource, directTls: directTls));
        await client.ConnectAsync();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await Server.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
