using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Mam;

/// <summary>Deletes archived messages older than Archive:RetentionDays, at start-up and then every hour.</summary>
public sealed partial class ArchiveRetention(IStorage storage, TimeProvider time, IOptions<ParleyOptions> options, ILogger<ArchiveRetention> log) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var days = options.Value.Archive.RetentionDays;
        if (days <= 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        try
        {
            do
            {
                var removed = await storage.Archive.DeleteOlderThanAsync(time.GetUtcNow().AddDays(-days), stoppingToken).ConfigureAwait(false);
                if (removed > 0) LogExpired(log, removed, days);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Archive retention removed {Count} messages older than {Days} days")]
    private static partial void LogExpired(ILogger logger, int count, int days);
}
