using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server;
using Parley.Server.Connections;

namespace Parley.Interop.Tests;

/// <summary>
/// A Parley server for interop tests: domain localhost, SQLite in a temporary data directory, the generated
/// self-signed certificate (exported for the peer to trust), listening on 127.0.0.1 with free ports.
/// </summary>
public sealed class InteropServer : IAsyncLifetime
{
    public const string Domain = "localhost";
    public const string Password = "interop-secret";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "parley-interop-" + Guid.NewGuid().ToString("N"));
    private readonly IReadOnlyDictionary<string, string?> _extra;

    public InteropServer() : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>With extra configuration over the defaults (e.g. a short stream-management resumption window).</summary>
    internal InteropServer(IReadOnlyDictionary<string, string?> extra) => _extra = extra;

    public ParleyServer Server { get; private set; } = null!;

    public string CertificatePath => TlsCertificateProvider.GeneratedPaths(_data, Domain).Certificate;

    public int StartTlsPort => Server.Port("c2s");

    public int DirectTlsPort => Server.Port("c2s-direct-tls");

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Domain"] = Domain,
            ["DataDirectory"] = _data,
            ["C2s:Address"] = "127.0.0.1",
            ["C2s:Port"] = "0",
            ["C2sDirectTls:Address"] = "127.0.0.1",
            ["C2sDirectTls:Port"] = "0",
            ["S2s:Address"] = "127.0.0.1",
            ["S2s:Port"] = "0",
            ["Upload:Address"] = "127.0.0.1",
            ["Upload:Port"] = "0",
            ["Auth:FailureDelayMilliseconds"] = "50",
            ["Auth:MaxFailureDelayMilliseconds"] = "200",
            ["Registration:Enabled"] = "true",
            ["Registration:PerAddressPerHour"] = "20",
        };
        foreach (var (key, value) in _extra) settings[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        Server = ParleyServer.Create(configuration);
        await Server.StartAsync();
        var accounts = Server.Services.GetRequiredService<Accounts>();
        foreach (var user in new[] { "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "victor", "trent", "walter", "yvonne", "zed", "nina", "otto", "ownerm", "bobm", "carolm", "davem" })
            await accounts.CreateAsync(Protocol.Jid.Create(user, Domain), Password, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Server.StopAsync();
        await Server.DisposeAsync();
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
