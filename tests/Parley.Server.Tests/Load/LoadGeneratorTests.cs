using System.Globalization;
using System.Net;
using Parley.Load;
using Parley.Load.Scenarios;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Load;

/// <summary>The load generator (tools/Parley.Load) against the server in-process: a smoke test, not a measurement.</summary>
public sealed class LoadGeneratorTests
{
    [Fact]
    public async Task Twenty_users_register_log_in_and_chat_and_every_message_arrives_with_its_latency()
    {
        await using var server = await StartAsync();
        var o = Options(server) with
        {
            Users = 20,
            Rate = 200,
            Duration = TimeSpan.FromSeconds(2),
            Pid = Environment.ProcessId,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var registered = new Report(o with { Scenario = "register" });
        Assert.Equal(0, await RegisterScenario.RunAsync(o with { Scenario = "register" }, registered, timeout.Token));
        Assert.Equal("20", registered["register_ok"]);

        var chat = new Report(o with { Scenario = "chat" });
        Assert.Equal(0, await ChatScenario.RunAsync(o with { Scenario = "chat" }, chat, timeout.Token));
        Assert.Equal("20", chat["chat_sessions"]);
        Assert.Equal("SCRAM-SHA-256", chat["sasl_mechanism"]);
        var sent = long.Parse(chat["chat_sent"]!, CultureInfo.InvariantCulture);
        Assert.True(sent > 100, $"sent {sent}");
        Assert.Equal(chat["chat_sent"], chat["chat_delivered"]);
        Assert.Equal("0", chat["chat_misdelivered"]);
        Assert.True(double.Parse(chat["chat_p99_ms"]!, CultureInfo.InvariantCulture) > 0);
        Assert.NotNull(chat["chat_cpu_us_per_msg"]);
    }

    [Fact]
    public async Task Ten_users_make_mutual_rosters_and_each_presence_change_reaches_every_contact()
    {
        await using var server = await StartAsync();
        var o = Options(server) with
        {
            Users = 10,
            Contacts = 4,
            Rate = 50,
            Duration = TimeSpan.FromSeconds(1),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal(0, await RegisterScenario.RunAsync(o, new Report(o), timeout.Token));

        var roster = new Report(o);
        Assert.Equal(0, await RosterScenario.RunAsync(o, roster, timeout.Token));
        Assert.Equal("40", roster["roster_subscriptions"]);

        var presence = new Report(o);
        Assert.Equal(0, await PresenceScenario.RunAsync(o, presence, timeout.Token));
        Assert.Equal("4", presence["presence_mutual_contacts_avg"]);
        Assert.Equal(presence["presence_expected"], presence["presence_delivered"]);
        Assert.True(long.Parse(presence["presence_delivered"]!, CultureInfo.InvariantCulture) >= 100);
    }

    [Fact]
    public async Task Twenty_users_enter_two_rooms_of_ten_and_each_groupchat_message_reaches_the_other_nine()
    {
        await using var server = await StartAsync();
        var o = Options(server) with
        {
            Users = 20,
            RoomSize = 10,
            Rate = 40,
            Duration = TimeSpan.FromSeconds(1),
            Pid = Environment.ProcessId,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal(0, await RegisterScenario.RunAsync(o, new Report(o), timeout.Token));

        var muc = new Report(o with { Scenario = "muc" });
        Assert.Equal(0, await MucScenario.RunAsync(o with { Scenario = "muc" }, muc, timeout.Token));
        Assert.Equal("2", muc["muc_rooms"]);
        Assert.Equal("20", muc["muc_occupants"]);
        Assert.Equal("0", muc["muc_join_failures"]);
        // XEP-0045 §7.4: every occupant but the sender counts; the sender's own reflection does not.
        var sent = long.Parse(muc["muc_sent"]!, CultureInfo.InvariantCulture);
        Assert.True(sent >= 20, $"sent {sent}");
        Assert.Equal((sent * 9).ToString(CultureInfo.InvariantCulture), muc["muc_expected"]);
        Assert.Equal(muc["muc_expected"], muc["muc_delivered"]);
        Assert.NotNull(muc["muc_cpu_us_per_delivery"]);
    }

    [Fact]
    public async Task Rfc5802_5_1_registration_keeps_each_accounts_salted_password_and_the_storm_logs_in_with_it()
    {
        await using var server = await StartAsync();
        var directory = Directory.CreateTempSubdirectory("parley-load-keys");
        try
        {
            var file = Path.Combine(directory.FullName, "keys");
            var o = Options(server) with { Users = 5, Idle = TimeSpan.FromSeconds(0.1), ScramCache = new ScramKeyFile(file) };
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Assert.Equal(0, await RegisterScenario.RunAsync(o, new Report(o), timeout.Token));
            o.ScramCache!.Save();
            Assert.Equal(5, File.ReadAllLines(file).Length);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

            // A later run reads the keys back and logs in with them.
            var reloaded = new ScramKeyFile(file);
            Assert.Equal(5, reloaded.Count);
            var storm = new Report(o);
            Assert.Equal(0, await StormScenario.RunAsync(o with { Scenario = "storm", ScramCache = reloaded }, storm, timeout.Token));
            Assert.Equal("0", storm["conn_failures"]);
            Assert.Equal(5, reloaded.Count);

            // The kept key is what each login's proof is made from: spoilt keys fail although the password is right.
            var spoilt = File.ReadAllLines(file).Select(line => line[..(line.LastIndexOf('\t') + 1)] + Convert.ToBase64String(new byte[32]));
            File.WriteAllLines(file, spoilt);
            var failing = new Report(o);
            await StormScenario.RunAsync(o with { Scenario = "storm", ScramCache = new ScramKeyFile(file) }, failing, timeout.Token);
            Assert.Equal("5", failing["conn_failures"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    // In-band registration on, as the load generator creates its accounts that way on every server.
    private static Task<TestServer> StartAsync() => TestServer.StartAsync(new()
    {
        ["Registration:Enabled"] = "true",
        ["Registration:PerAddressPerHour"] = "1000",
        ["Muc:MessagesPerMinute"] = "100000",
    });

    private static LoadOptions Options(TestServer server) => new()
    {
        Server = new IPEndPoint(IPAddress.Loopback, server.StartTlsPort),
        Domain = TestServer.Domain,
        Warmup = TimeSpan.FromSeconds(0.2),
    };
}
