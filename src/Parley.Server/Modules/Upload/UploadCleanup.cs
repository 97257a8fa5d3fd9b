using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Modules.Upload;

/// <summary>Every ten minutes: forgets expired slots and deletes files older than Upload:RetentionDays.</summary>
public sealed partial class UploadCleanup(UploadStore store, TimeProvider time, ILogger<UploadCleanup> log) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10), time);
        try
        {
            do
            {
                var removed = await store.CleanUpAsync(stoppingToken).ConfigureAwait(false);
                if (removed > 0) LogRemoved(log, removed);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Upload cleanup removed {Count} expired files")]
    private static partial void LogRemoved(ILogger logger, int count);
}
