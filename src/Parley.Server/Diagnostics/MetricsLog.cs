using Microsoft.Extensions.Logging;

namespace Parley.Server.Diagnostics;

/// <summary>Metrics log messages (event ids 1700–1799). Never the bearer token.</summary>
internal static partial class MetricsLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Counting the offline queue and archive for metrics failed; the last figures stay")]
    public static partial void StorageCountFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "Instrument {Instrument} of meter {Meter} is not exported: another instrument already has the name {Name}")]
    public static partial void NameTaken(ILogger logger, string meter, string instrument, string name);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "An observable instrument failed while metrics were collected")]
    public static partial void ObservableFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Debug, Message = "Metrics refused to {Remote}: {Reason}")]
    public static partial void Refused(ILogger logger, string? remote, string reason);
}
