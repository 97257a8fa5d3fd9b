using System.Diagnostics;

namespace Parley.Load.Scenarios;

/// <summary>Creates the accounts in bulk by in-band registration (XEP-0077), the same way on every server.</summary>
internal static class RegisterScenario
{
    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        var next = -1;
        var ok = 0;
        var failed = 0;
        var start = Stopwatch.GetTimestamp();
        var workers = new Task[Math.Min(o.Concurrency, o.Users)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < o.Users && !ct.IsCancellationRequested)
                {
                    try
                    {
                        if (await LoadConnection.RegisterAsync(o, i, o.UserName(i), ct)) Interlocked.Increment(ref ok);
                        else Interlocked.Increment(ref failed);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        if (Interlocked.Increment(ref failed) <= 5) Console.Error.WriteLine($"register {o.UserName(i)}: {e.Message}");
                    }
                }
            }, ct);
        }
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        report.Add("register_ok", ok);
        report.Add("register_failures", failed);
        report.Add("register_per_s", ok / seconds);
        return failed == 0 ? 0 : 1;
    }
}
