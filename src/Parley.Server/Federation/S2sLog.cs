using Microsoft.Extensions.Logging;

namespace Parley.Server.Federation;

/// <summary>Federation log messages (event ids 2500–2599). Never bodies, dialback keys or secrets.</summary>
internal static partial class S2sLog
{
    [LoggerMessage(EventId = 2600, Level = LogLevel.Information, Message = "Outgoing s2s {Local} -> {Remote}: connecting to {Host}:{Port} (direct TLS: {DirectTls})")]
    public static partial void Connecting(ILogger logger, string local, string remote, string host, int port, bool directTls);

    [LoggerMessage(EventId = 2601, Level = LogLevel.Information, Message = "Outgoing s2s {Local} -> {Remote}: authenticated with {Mechanism}")]
    public static partial void OutgoingReady(ILogger logger, string local, string remote, string mechanism);

    [LoggerMessage(EventId = 2602, Level = LogLevel.Warning, Message = "Outgoing s2s {Local} -> {Remote} failed ({Condition}): {Reason}; {Count} queued stanzas bounced")]
    public static partial void OutgoingFailed(ILogger logger, string local, string remote, string condition, string reason, int count);

    [LoggerMessage(EventId = 2603, Level = LogLevel.Information, Message = "Incoming s2s stream {StreamId} opened from {Address}")]
    public static partial void IncomingOpened(ILogger logger, string streamId, string? address);

    [LoggerMessage(EventId = 2604, Level = LogLevel.Information, Message = "Incoming s2s stream {StreamId}: {Remote} authenticated for {Local} with {Mechanism}")]
    public static partial void IncomingAuthenticated(ILogger logger, string streamId, string remote, string local, string mechanism);

    [LoggerMessage(EventId = 2605, Level = LogLevel.Warning, Message = "Incoming s2s stream {StreamId}: {Remote} failed {Mechanism} for {Local}")]
    public static partial void IncomingRefused(ILogger logger, string streamId, string remote, string local, string mechanism);

    [LoggerMessage(EventId = 2606, Level = LogLevel.Information, Message = "S2s stream {StreamId} error {Condition}: {Text}")]
    public static partial void StreamError(ILogger logger, string streamId, string condition, string? text);

    [LoggerMessage(EventId = 2607, Level = LogLevel.Information, Message = "S2s stream {StreamId} closed")]
    public static partial void Closed(ILogger logger, string streamId);

    [LoggerMessage(EventId = 2608, Level = LogLevel.Debug, Message = "S2s stream {StreamId} dropped: {Reason}")]
    public static partial void Dropped(ILogger logger, string streamId, string reason);

    [LoggerMessage(EventId = 2609, Level = LogLevel.Error, Message = "S2s stream {StreamId} failed")]
    public static partial void Failed(ILogger logger, string streamId, Exception exception);

    [LoggerMessage(EventId = 2610, Level = LogLevel.Information, Message = "Refused federation with {Remote}: {Reason}")]
    public static partial void Refused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 2611, Level = LogLevel.Warning, Message = "Generated a dialback secret at {Path}")]
    public static partial void SecretGenerated(ILogger logger, string path);

    [LoggerMessage(EventId = 2612, Level = LogLevel.Debug, Message = "Dialback verification for {Remote} -> {Local}: {Result}")]
    public static partial void Verified(ILogger logger, string remote, string local, string result);

    [LoggerMessage(EventId = 2613, Level = LogLevel.Debug, Message = "Outgoing s2s {Local} -> {Remote}: certificate does not validate ({Errors}); relying on dialback")]
    public static partial void UntrustedPeer(ILogger logger, string local, string remote, string errors);

    [LoggerMessage(EventId = 2614, Level = LogLevel.Trace, Message = "S2s stream {StreamId} in: {Kind} id={Id}")]
    public static partial void StanzaIn(ILogger logger, string streamId, string kind, string? id);

    [LoggerMessage(EventId = 2615, Level = LogLevel.Information, Message = "S2s stream {StreamId} is bidirectional (XEP-0288): {Local} -> {Remote} goes out on it")]
    public static partial void Bidirectional(ILogger logger, string streamId, string local, string remote);
}
