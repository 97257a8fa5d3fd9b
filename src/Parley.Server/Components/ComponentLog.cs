using Microsoft.Extensions.Logging;

namespace Parley.Server.Components;

/// <summary>External component log messages (event ids 2500–2599). Never secrets, never bodies.</summary>
internal static partial class ComponentLog
{
    [LoggerMessage(EventId = 2500, Level = LogLevel.Information, Message = "Component stream {StreamId} opened from {Remote}")]
    public static partial void Opened(ILogger logger, string streamId, string? remote);

    [LoggerMessage(EventId = 2501, Level = LogLevel.Information, Message = "Component stream {StreamId} connected {Domain}")]
    public static partial void Connected(ILogger logger, string streamId, string domain);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Warning, Message = "Component stream {StreamId} failed the handshake for {Domain}")]
    public static partial void HandshakeFailed(ILogger logger, string streamId, string domain);

    [LoggerMessage(EventId = 2503, Level = LogLevel.Information, Message = "Component stream {StreamId} error {Condition}: {Text}")]
    public static partial void StreamError(ILogger logger, string streamId, string condition, string? text);

    [LoggerMessage(EventId = 2504, Level = LogLevel.Information, Message = "Component stream {StreamId} closed ({Domain})")]
    public static partial void Closed(ILogger logger, string streamId, string? domain);

    [LoggerMessage(EventId = 2505, Level = LogLevel.Debug, Message = "Component stream {StreamId} dropped: {Reason}")]
    public static partial void Dropped(ILogger logger, string streamId, string reason);

    [LoggerMessage(EventId = 2506, Level = LogLevel.Error, Message = "Component stream {StreamId} failed")]
    public static partial void Failed(ILogger logger, string streamId, Exception exception);

    [LoggerMessage(EventId = 2507, Level = LogLevel.Trace, Message = "Component stream {StreamId} in: {Kind} id={Id}")]
    public static partial void StanzaIn(ILogger logger, string streamId, string kind, string? id);

    [LoggerMessage(EventId = 2508, Level = LogLevel.Debug, Message = "Component {Domain} is not connected: {Kind} id={Id} bounced")]
    public static partial void NotConnected(ILogger logger, string domain, string kind, string? id);
}
