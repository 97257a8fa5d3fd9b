using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Diagnostics;
using Parley.Server.Hooks;
using Parley.Server.Modules;
using Parley.Server.Routing;

namespace Parley.Server.Connections;

/// <summary>What every client stream needs from the server, gathered once.</summary>
public sealed class C2sServices(
    IOptions<ParleyOptions> options,
    ModuleRegistry modules,
    Router router,
    SessionRegistry sessions,
    StreamRegistry streams,
    ResumableSessions resumable,
    ServerOrigin serverOrigin,
    TlsCertificateProvider certificates,
    HookBus hooks,
    Addresses addresses,
    TimeProvider time,
    ParleyMetrics metrics,
    ILoggerFactory loggers)
{
    internal ParleyOptions Options { get; } = options.Value;
    internal ModuleRegistry Modules { get; } = modules;
    internal Router Router { get; } = router;
    internal SessionRegistry Sessions { get; } = sessions;
    internal StreamRegistry Streams { get; } = streams;
    internal ResumableSessions Resumable { get; } = resumable;
    internal ServerOrigin ServerOrigin { get; } = serverOrigin;
    internal TlsCertificateProvider Certificates { get; } = certificates;
    internal HookBus Hooks { get; } = hooks;
    internal Addresses Addresses { get; } = addresses;
    internal TimeProvider Time { get; } = time;
    internal ParleyMetrics Metrics { get; } = metrics;
    internal ILogger Log { get; } = loggers.CreateLogger("Parley.C2s");
}
