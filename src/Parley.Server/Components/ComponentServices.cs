using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Routing;

namespace Parley.Server.Components;

/// <summary>What every component stream needs from the server, gathered once.</summary>
public sealed class ComponentServices(IOptions<ParleyOptions> options, ExternalComponents components, Router router, TimeProvider time, ILoggerFactory loggers, Diagnostics.ParleyMetrics metrics)
{
    internal ParleyOptions Options { get; } = options.Value;
    internal ExternalComponents Components { get; } = components;
    internal Router Router { get; } = router;
    internal TimeProvider Time { get; } = time;
    internal Microsoft.Extensions.Logging.ILogger Log { get; } = loggers.CreateLogger("Parley.Components");
    internal Diagnostics.ParleyMetrics Metrics { get; } = metrics;
}
