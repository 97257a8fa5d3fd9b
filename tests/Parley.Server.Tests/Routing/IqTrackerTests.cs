using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Tests.Routing;

public sealed class IqTrackerTests
{
    private static Stanza Reply(string id, string from) =>
        Stanza.Create(new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", id).SetAttribute("from", from));

    [Fact]
    public async Task Rfc6120_8_2_3_only_the_addressee_can_answer_a_request()
    {
        var tracker = new IqTracker();
        var pending = tracker.Expect("q1", Jid.Parse("bob@example.test/phone"), CancellationToken.None);
        tracker.Complete(Reply("q1", "mallory@example.test/x"));
        Assert.False(pending.IsCompleted);
        tracker.Complete(Reply("q1", "bob@example.test/phone"));
        Assert.Equal("bob@example.test/phone", (await pending).From.ToString());
    }

    [Fact]
    public async Task A_cancelled_request_stops_waiting()
    {
        var tracker = new IqTracker();
        using var cts = new CancellationTokenSource();
        var pending = tracker.Expect("q2", Jid.Parse("example.test"), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }
}
