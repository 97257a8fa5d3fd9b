using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Protocol;
using Parley.Server;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>Parley (the interop server: domain localhost, SQLite) with the suite's accounts.</summary>
public sealed class ParleyTarget : IXmppTarget, IAsyncLifetime
{
    // A short resumption window, so the suite can see a session outlive it (XEP-0198 §5).
    private readonly InteropServer _server = new(new Dictionary<string, string?> { ["StreamManagement:ResumeTimeoutSeconds"] = "3" });
    private byte[] _certificate = [];

    public string Name => "parley";

    public string Domain => InteropServer.Domain;

    public string Conference => "conference." + InteropServer.Domain;

    public HttpClient Http { get; private set; } = null!;

    public string CertificateFile => _server.CertificatePath;

    public int Port => _server.StartTlsPort;

    public XmppClientOptions Options(string user, string? resource = null, bool directTls = false, string? password = null) => new()
    {
        Jid = Jid.Create(user, Domain, resource),
        Password = password ?? InteropServer.Password,
        Host = "127.0.0.1",
        Port = directTls ? _server.DirectTlsPort : _server.StartTlsPort,
        DirectTls = directTls,
        CertificateValidation = (_, c, _, _) => c is not null && c.GetRawCertData().AsSpan().SequenceEqual(_certificate),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        IqTimeout = TimeSpan.FromSeconds(10),
    };

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(_server.CertificatePath)).RawData;
        var accounts = _server.Server.Services.GetRequiredService<Accounts>();
        foreach (var user in Users.All)
            await accounts.CreateAsync(Jid.Create(user, Domain), InteropServer.Password, CancellationToken.None);
        Http = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && c.RawData.AsSpan().SequenceEqual(_certificate),
        });
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _server.DisposeAsync();
    }
}
