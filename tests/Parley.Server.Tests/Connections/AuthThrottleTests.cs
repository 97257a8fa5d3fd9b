using System.Net;
using Microsoft.Extensions.Options;
using Parley.Server.Connections;

namespace Parley.Server.Tests.Connections;

public sealed class AuthThrottleTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static AuthThrottle Create(ManualTime time) => new(Options.Create(new ParleyOptions
    {
        Auth = new AuthOptions { FailureDelayMilliseconds = 100, MaxFailureDelayMilliseconds = 500 },
    }), time);

    [Fact]
    public void The_delay_doubles_with_each_failure_up_to_the_ceiling()
    {
        var throttle = Create(new ManualTime());
        var ip = IPAddress.Parse("192.0.2.1");
        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.Failed(ip, "alice"));
        Assert.Equal(TimeSpan.FromMilliseconds(200), throttle.Failed(ip, "alice"));
        Assert.Equal(TimeSpan.FromMilliseconds(400), throttle.Failed(ip, "alice"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), throttle.Failed(ip, "alice"));
    }

    [Fact]
    public void Failures_for_one_account_from_many_addresses_still_add_up()
    {
        var throttle = Create(new ManualTime());
        throttle.Failed(IPAddress.Parse("192.0.2.1"), "alice");
        throttle.Failed(IPAddress.Parse("192.0.2.2"), "alice");
        Assert.Equal(TimeSpan.FromMilliseconds(400), throttle.Failed(IPAddress.Parse("192.0.2.3"), "alice"));
    }

    [Fact]
    public void A_success_and_a_quiet_period_forget_failures()
    {
        var time = new ManualTime();
        var throttle = Create(time);
        var ip = IPAddress.Parse("192.0.2.1");
        throttle.Failed(ip, "alice");
        throttle.Failed(ip, "alice");
        throttle.Succeeded(ip, "alice");
        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.Failed(ip, "alice"));
        time.Now += TimeSpan.FromHours(1);
        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.Failed(ip, "alice"));
    }
}
