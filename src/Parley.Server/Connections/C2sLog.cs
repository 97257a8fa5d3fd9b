using Microsoft.Extensions.Logging;

namespace Parley.Server.Connections;

/// <summary>Client connection log messages (event ids 1000–1099). Never bodies, never credentials.</summary>
internal static partial class C2sLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Stream {StreamId} opened from {Remote} (direct TLS: {DirectTls})")]
    public static partial void Opened(ILogger logger, string streamId, string? remote, bool directTls);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Stream {StreamId} TLS established: {Protocol} {Cipher}")]
    public static partial void TlsEstablished(ILogger logger, string streamId, string protocol, string cipher);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Stream {StreamId} authenticated {Account} with {Mechanism}")]
    public static partial void Authenticated(ILogger logger, string streamId, string account, string mechanism);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Stream {StreamId} failed authentication as {Account} with {Mechanism}: {Condition}")]
    public static partial void AuthenticationFailed(ILogger logger, string streamId, string? account, string mechanism, string condition);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Stream {StreamId} bound {Jid}")]
    public static partial void Bound(ILogger logger, string streamId, string jid);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Stream {StreamId} closed ({Jid})")]
    public static partial void Closed(ILogger logger, string streamId, string? jid);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Stream {StreamId} error {Condition}: {Text}")]
    public static partial void StreamError(ILogger logger, string streamId, string condition, string? text);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Stream {StreamId} dropped: {Reason}")]
    public static partial void Dropped(ILogger logger, string streamId, string reason);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Stream {StreamId} failed")]
    public static partial void Failed(ILogger logger, string streamId, Exception exception);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Trace, Message = "Stream {StreamId} in: {Kind} id={Id}")]
    public static partial void StanzaIn(ILogger logger, string streamId, string kind, string? id);
}
