using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Parley.Load.Scenarios;

/// <summary>
/// N users online enter rooms of --room-size occupants (users i·n … i·n+n−1 share room i), then groupchat messages go
/// to the rooms at a fixed offered rate from random occupants. Every message is reflected to each occupant of its room
/// (XEP-0045 §7.4); the deliveries to the others are the fan-out. Reports the join time, the fan-out per second, its
/// latency and the server's CPU time per delivered message.
/// </summary>
internal static class MucScenario
{
    private static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(LoadOptions o, Report report, CancellationToken ct)
    {
        var traffic = new MarkedTraffic(o, broadcast: true);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var pool = new SessionPool(o.Users);
        // Readers start once a session is in its room: until then the join reads the session's input itself.
        await pool.OpenAsync(o, 0, o.Users, static (_, _) => { }, ct);
        Console.Error.WriteLine($"muc: {pool.Opened} sessions in {pool.Elapsed.TotalSeconds:0.00} s, {pool.Failures} failed");

        var service = o.MucService ?? "conference." + o.Domain;
        var rooms = (o.Users + o.RoomSize - 1) / o.RoomSize;
        var roomJids = new string[rooms];
        var roomBytes = new byte[rooms][];
        for (var r = 0; r < rooms; r++)
        {
            // The size is in the name, so that runs with other sizes never meet a room being torn down.
            roomJids[r] = string.Create(CultureInfo.InvariantCulture, $"{o.UserPrefix}-{o.RoomSize}-{r}@{service}");
            roomBytes[r] = Encoding.UTF8.GetBytes(roomJids[r]);
        }
        var occupants = new int[rooms];
        var joinFailures = 0;
        var joinMicros = new LatencyHistogram();
        var joinStart = Stopwatch.GetTimestamp();
        var nextRoom = -1;
        var workers = new Task[Math.Min(o.Concurrency, rooms)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int r;
                while ((r = Interlocked.Increment(ref nextRoom)) < rooms && !ct.IsCancellationRequested)
                {
                    // One room's members enter one after another, the first creating the room.
                    for (var i = r * o.RoomSize; i < Math.Min(o.Users, (r + 1) * o.RoomSize); i++)
                    {
                        if (pool.Connections[i] is not { } c) continue;
                        var t0 = Stopwatch.GetTimestamp();
                        try
                        {
                            await c.JoinRoomAsync(roomJids[r], "u" + i.ToString(CultureInfo.InvariantCulture), o.RoomSize, ct);
                        }
                        catch (Exception e) when (e is LoadException or IOException)
                        {
                            if (Interlocked.Increment(ref joinFailures) <= 5) Console.Error.WriteLine($"join {o.UserName(i)}: {e.Message}");
                            continue;
                        }
                        joinMicros.Record((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                        occupants[r]++;
                        _ = traffic.ReceiveAsync(c.Reader, i, stop.Token);
                    }
                }
            }, ct);
        }
        await Task.WhenAll(workers);
        var joined = new List<int>();
        for (var i = 0; i < o.Users; i++)
            if (pool.Connections[i] is not null && occupants[i / o.RoomSize] > 1) joined.Add(i);
        Console.Error.WriteLine($"muc: {joined.Count} occupants in {rooms} rooms in {Stopwatch.GetElapsedTime(joinStart).TotalSeconds:0.00} s, {joinFailures} joins failed");
        if (joined.Count < 2) { Console.Error.WriteLine("muc: no room with two occupants"); return 1; }
        await Task.Delay(1000, ct);   // let the presence flurry of the joins settle

        var cost = await Pacer.MeasureAsync(o, pool, joined,
            (_, from, writer) => MarkedTraffic.WriteGroupchat(writer, roomBytes[from / o.RoomSize], from),
            traffic, from => occupants[from / o.RoomSize] - 1, MaxDrain, ct);

        var delivered = Interlocked.Read(ref traffic.DeliveredInWindow);
        var expected = Interlocked.Read(ref traffic.ExpectedInWindow);
        var sent = Interlocked.Read(ref traffic.SentInWindow);
        var seconds = o.Duration.TotalSeconds;
        report.Add("muc_sessions", pool.Opened);
        report.Add("conn_failures", pool.Failures);
        report.Add("muc_rooms", rooms);
        report.Add("muc_room_size", o.RoomSize);
        report.Add("muc_occupants", joined.Count);
        report.Add("muc_join_failures", joinFailures);
        report.Add("muc_join_p50_ms", joinMicros.Percentile(0.50) / 1000.0);
        report.Add("muc_join_p99_ms", joinMicros.Percentile(0.99) / 1000.0);
        report.Add("muc_offered_per_s", o.Rate);
        report.Add("muc_msgs_per_s", sent / seconds);
        report.Add("muc_fanout_per_s", delivered / seconds);
        report.Add("muc_sent", sent);
        report.Add("muc_expected", expected);
        report.Add("muc_delivered", delivered);
        report.Add("muc_lost", expected - delivered);
        report.AddLatency("muc", traffic.Latency);
        report.AddCost(cost, delivered, seconds, "muc_cpu_us_per_delivery", "load_cpu_us_per_delivery");
        await stop.CancelAsync();
        return pool.Failures == 0 && joinFailures == 0 && delivered > 0 ? 0 : 1;
    }
}
