using System.Diagnostics;

namespace Parley.Load;

/// <summary>Opens many sessions with at most --concurrency negotiating at once, counting setup times and failures.</summary>
internal sealed class SessionPool : IAsyncDisposable
{
    private const int ErrorsShown = 5;
    private int _errorsShown;

    public SessionPool(int count) => Connections = new LoadConnection?[count];

    public LoadConnection?[] Connections { get; }
    public LatencyHistogram SetupMicros { get; } = new();
    public int Failures;
    public TimeSpan Elapsed { get; private set; }
    public string Mechanism { get; private set; } = "";

    public int Opened => Connections.Length - Failures;

    /// <summary>Opens sessions <paramref name="from"/>..<paramref name="to"/> (exclusive); <paramref name="onOpened"/> starts each one's reader.</summary>
    public async Task OpenAsync(LoadOptions o, int from, int to, Action<int, LoadConnection> onOpened, CancellationToken ct, bool fetchRoster = false)
    {
        var next = from - 1;
        var start = Stopwatch.GetTimestamp();
        var workers = new Task[Math.Min(o.Concurrency, to - from)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < to && !ct.IsCancellationRequested)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        var c = await LoadConnection.OpenAsync(o, i, o.UserName(i), fetchRoster, ct);
                        SetupMicros.Record((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                        Connections[i] = c;
                        Mechanism = c.Mechanism;
                        onOpened(i, c);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Interlocked.Increment(ref Failures);
                        if (Interlocked.Increment(ref _errorsShown) <= ErrorsShown)
                            Console.Error.WriteLine($"session {o.UserName(i)}: {e.GetType().Name}: {e.Message}");
                    }
                }
            }, ct);
        }
        await Task.WhenAll(workers);
        Elapsed = Stopwatch.GetElapsedTime(start);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Connections)
        {
            if (c is null) continue;
            await c.CloseAsync();
            await c.DisposeAsync();
        }
    }
}
