using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Admin;
using Parley.Server.Components;
using Parley.Server.Connections;
using Parley.Server.Diagnostics;
using Parley.Server.Hooks;
using Parley.Server.Modules;
using Parley.Server.Routing;
using Parley.Server.Storage;

namespace Parley.Server;

/// <summary>Builds and runs the server on Kestrel from configuration.</summary>
public sealed class ParleyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(string Name, ListenOptions Listen)> _listeners;

    private ParleyServer(WebApplication app, List<(string, ListenOptions)> listeners)
    {
        _app = app;
        _listeners = listeners;
    }

    /// <summary>The service provider (for tests and the CLI).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The validated options.</summary>
    public ParleyOptions Options => _app.Services.GetRequiredService<IOptions<ParleyOptions>>().Value;

    /// <summary>Reads and validates options; throws <see cref="OptionsValidationException"/> naming every bad key.</summary>
    public static ParleyOptions BindOptions(IConfiguration configuration)
    {
        var options = new ParleyOptions();
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // ConfigurationBinder names the key and the value it could not convert.
            throw new OptionsValidationException(nameof(ParleyOptions), typeof(ParleyOptions), [e.Message]);
        }
        var errors = options.Validate();
        if (errors.Count > 0) throw new OptionsValidationException(nameof(ParleyOptions), typeof(ParleyOptions), errors);
        return options;
    }

    /// <summary>Builds the server. <paramref name="configureServices"/> may replace services (tests).</summary>
    public static ParleyServer Create(IConfiguration configuration, Action<ILoggingBuilder>? logging = null, Action<IServiceCollection>? configureServices = null)
    {
        var options = BindOptions(configuration);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        // The last log lines, for "log tail" in the CLI, the REST API and the web console.
        var recent = new RecentLog(options.Admin.LogLines, TimeProvider.System);
        builder.Logging.AddProvider(recent);
        builder.Services.AddSingleton(recent);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        AddServices(builder.Services, options);
        configureServices?.Invoke(builder.Services);

        var listeners = new List<(string, ListenOptions)>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxConcurrentConnections = options.Limits.MaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = options.Limits.MaxConnections;
            if (options.C2s.Enabled) Listen(k, "c2s", options.C2s, l => l.UseConnectionHandler<C2sListener>(), listeners);
            if (options.C2sDirectTls.Enabled) Listen(k, "c2s-direct-tls", options.C2sDirectTls, l => l.UseConnectionHandler<DirectTlsC2sListener>(), listeners);
            if (ComponentsOn(options))
            {
                var components = new ListenerOptions { Address = options.Components.Address, Port = options.Components.Port };
                Listen(k, "components", components, l => l.UseConnectionHandler<ComponentListener>(), listeners);
            }
            if (options.S2s.Enabled) Listen(k, "s2s", options.S2s.Listener, l => l.UseConnectionHandler<Federation.S2sListener>(), listeners);
            if (options.S2s.Enabled && options.S2s.DirectTlsListener is { } s2sDirect)
                Listen(k, "s2s-direct-tls", s2sDirect, l => l.UseConnectionHandler<Federation.DirectTlsS2sListener>(), listeners);
            if (HttpsOn(options))
            {
                var upload = new ListenerOptions { Address = options.Upload.Address, Port = options.Upload.Port };
                Listen(k, "upload", upload, l => l.UseHttps(https => https.ServerCertificateSelector = (_, _) =>
                    l.ApplicationServices.GetRequiredService<TlsCertificateProvider>().Certificate), listeners);
            }
            if (options.AdminSocket.Enabled)
            {
                var path = options.AdminSocket.ResolvePath(options.DataDirectory);
                AdminSocketListener.PreparePath(path);
                k.ListenUnixSocket(path, l => l.UseConnectionHandler<AdminSocketListener>());
            }
        });
        var app = builder.Build();
        if (options.WebSocket.Enabled) WebSocketEndpoint.Map(app, options.WebSocket);
        if (options.Bosh.Enabled) BoshEndpoint.Map(app, options.Bosh);
        if (options.WebSocket.Enabled || options.Bosh.Enabled)
        {
            HostMetaEndpoints.Map(app, options);
            if (options.WebClient.Enabled)
                Web.WebClientEndpoints.Map(app, options, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Web"));
        }
        if (UploadOn(options)) Modules.Upload.UploadEndpoints.Map(app);
        if (HttpsOn(options) && options.Admin.ApiEnabled) Web.AdminApiEndpoints.Map(app);
        if (HttpsOn(options) && options.Admin.ConsoleEnabled) Web.AdminConsoleEndpoints.Map(app);
        if (MetricsOn(options)) MetricsEndpoint.Map(app, options.Metrics);
        return new ParleyServer(app, listeners);
    }

    /// <summary>
    /// The server's services without listeners, for offline administration (the CLI's user and cert commands).
    /// </summary>
    public static ServiceProvider CreateServices(IConfiguration configuration, Action<ILoggingBuilder>? logging = null)
    {
        var options = BindOptions(configuration);
        var services = new ServiceCollection();
        services.AddLogging(l => logging?.Invoke(l));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        AddServices(services, options);
        return services.BuildServiceProvider();
    }

    internal static void AddServices(IServiceCollection services, ParleyOptions options)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<ParleyMetrics>();
        services.AddSingleton<MetricsCollector>();
        services.AddSingleton<HookBus>();
        services.AddSingleton<IStorage>(sp => StorageFactory.Create(options, sp));
        services.AddSingleton<Accounts>();
        services.AddSingleton<AuthThrottle>();
        services.AddSingleton<TlsCertificateProvider>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<StreamRegistry>();
        services.AddSingleton<ResumableSessions>();
        services.AddSingleton<ComponentRegistry>();
        services.AddSingleton<IComponentRouter>(sp => sp.GetRequiredService<ComponentRegistry>());
        services.AddSingleton<Federation.DialbackKeys>();
        services.AddSingleton<Federation.S2sTrust>();
        services.AddSingleton<Federation.S2sPool>();
        if (options.S2s.Enabled)
        {
            services.AddSingleton<IRemoteRouter>(sp => sp.GetRequiredService<Federation.S2sPool>());
            services.AddHostedService(sp => sp.GetRequiredService<Federation.S2sPool>());
        }
        else
        {
            services.AddSingleton<IRemoteRouter, NoFederation>();
        }
        services.AddSingleton<Addresses>();
        services.AddSingleton<ServerOrigin>();
        services.AddSingleton<IqTracker>();
        services.AddSingleton<IqDispatcher>();
        services.AddSingleton<LocalDelivery>();
        services.AddSingleton<Router>();
        services.AddSingleton<C2sServices>();
        services.AddSingleton<ExternalComponents>();
        services.AddSingleton<ComponentServices>();
        services.AddSingleton<Modules.Roster.RosterStore>();
        services.AddSingleton<Modules.Blocking.Blocklists>();
        services.AddSingleton<AdminOperations>();
        services.AddSingleton<AdminTokens>();
        services.AddSingleton<AdminCommandRegistry>();
        services.AddSingleton<Web.AdminConsoleSessions>();
        services.AddSingleton<Modules.Upload.UploadStore>();
        services.AddSingleton(sp =>
        {
            var registry = new ModuleRegistry(sp.GetRequiredService<HookBus>());
            foreach (var entry in ModuleCatalog.All)
                if (!options.DisabledModules.Contains(entry.Info.Name))
                    registry.Register((IModule)ActivatorUtilities.CreateInstance(sp, entry.Type), entry.Info);
            return registry;
        });
        services.AddHostedService<StreamHeartbeat>();
        if (options.Bosh.Enabled)
        {
            services.AddSingleton<BoshSessions>();
            services.AddHostedService(sp => sp.GetRequiredService<BoshSessions>());
        }
        if (!options.DisabledModules.Contains(Modules.Mam.MamModule.Info.Name)) services.AddHostedService<Modules.Mam.ArchiveRetention>();
        if (UploadOn(options)) services.AddHostedService<Modules.Upload.UploadCleanup>();
    }

    /// <summary>Whether the HTTPS listener (Upload:Address, Upload:Port) runs: it serves upload, WebSocket and BOSH.</summary>
    public static bool HttpsOn(ParleyOptions options) => UploadOn(options) || options.WebSocket.Enabled || options.Bosh.Enabled;

    // Metrics ride on the HTTPS listener when it runs for upload or WebSocket; they never open it on their own.
    private static bool MetricsOn(ParleyOptions options) => options.Metrics.Enabled && HttpsOn(options);

    // XEP-0114: the component listener runs only when components are configured (and their module is on).
    private static bool ComponentsOn(ParleyOptions options) =>
        options.Components.List.Count > 0 && !options.DisabledModules.Contains(ComponentsModule.Info.Name);

    private static bool UploadOn(ParleyOptions options) =>
        options.Upload.Enabled && !options.DisabledModules.Contains(Modules.Upload.UploadModule.Info.Name);

    private static void Listen(KestrelServerOptions k, string name, ListenerOptions o, Action<ListenOptions> configure, List<(string, ListenOptions)> listeners)
    {
        void Add(ListenOptions l)
        {
            configure(l);
            listeners.Add((name, l));
        }
        switch (o.Address)
        {
            case "any":
                k.ListenAnyIP(o.Port, Add);
                break;
            case "loopback":
                k.Listen(IPAddress.Loopback, o.Port, Add);
                break;
            default:
                k.Listen(IPAddress.Parse(o.Address), o.Port, Add);
                break;
        }
    }

    /// <summary>Opens storage, loads the certificate and starts listening.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        // The certificate loads beside everything else: SslStreamCertificateContext builds its chain, which reads the
        // system trust store (~150 ms), and the listeners need it only at the first TLS handshake. A bad certificate
        // still fails the start, as the task is awaited before StartAsync returns.
        var certificates = _app.Services.GetRequiredService<TlsCertificateProvider>();
        var certificate = Task.Run(() => certificates.Certificate, ct);
        await _app.Services.GetRequiredService<IStorage>().InitializeAsync(ct).ConfigureAwait(false);
        // The collector listens before anything is counted: a MeterListener sees only what comes after it.
        if (MetricsOn(Options)) _ = _app.Services.GetRequiredService<MetricsCollector>();
        _ = _app.Services.GetRequiredService<ModuleRegistry>();
        try
        {
            await _app.StartAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            // Observed on every path, so that a failed start never leaves the certificate's exception unobserved.
            await certificate.ConfigureAwait(false);
        }
        var o = Options;
        if (UploadOn(o) && o.Upload.PublicUrl is null)
            _app.Services.GetRequiredService<Modules.Upload.UploadStore>().BaseUrl = $"https://{o.Domain}:{Port("upload")}";
        if (o.AdminSocket.Enabled && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(o.AdminSocket.ResolvePath(o.DataDirectory), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The port a listener is bound to ("c2s", "c2s-direct-tls", "s2s", "s2s-direct-tls", "components" or "upload"), after start.</summary>
    public int Port(string listener)
    {
        foreach (var (name, l) in _listeners)
            if (name == listener && l.EndPoint is IPEndPoint ep) return ep.Port;
        throw new InvalidOperationException("No listener " + listener);
    }

    /// <summary>Runs until shutdown (SIGTERM, Ctrl+C).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    /// <summary>Stops gracefully: every stream gets &lt;system-shutdown/&gt;.</summary>
    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
