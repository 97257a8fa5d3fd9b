using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>XEP-0198 bookkeeping on the client: acknowledgements, the 2^32 wrap of §4, and handing the queue over.</summary>
public sealed class StreamManagementStateTests
{
    private static Element Message(int i) => new Element("message", Ns.Client).SetAttribute("id", "m" + i);

    [Fact]
    public void Xep0198_4_acknowledgements_drop_what_was_handled_and_refuse_more_than_was_sent()
    {
        var sm = new StreamManagementState();
        sm.Enable("id");
        for (var i = 0; i < 5; i++) sm.Sent(Message(i));
        Assert.True(sm.Acknowledge(3));
        Assert.Equal(2, sm.UnackedCount);
        Assert.False(sm.Acknowledge(9));
        Assert.Equal(2, sm.UnackedCount);
        Assert.Equal(["m3", "m4"], sm.ForResend().Select(e => e.GetAttribute("id")));
    }

    [Fact]
    public void Xep0198_4_the_counter_wraps_at_2_pow_32()
    {
        // Two short of the wrap: four more stanzas take 'h' through 2^32 back to 2.
        var sm = new StreamManagementState(acknowledged: uint.MaxValue - 1);
        sm.Enable("id");
        for (var i = 0; i < 4; i++) sm.Sent(Message(i));
        Assert.True(sm.Acknowledge(uint.MaxValue));
        Assert.Equal(3, sm.UnackedCount);
        Assert.True(sm.Acknowledge(2));
        Assert.Equal(0, sm.UnackedCount);
        Assert.False(sm.Acknowledge(3));
    }

    [Fact]
    public void A_stanza_queued_before_the_queue_is_handed_over_is_not_written_again_by_its_sender()
    {
        var sm = new StreamManagementState();
        sm.Enable("id");
        var early = sm.Sent(Message(1));
        var resent = sm.ForResend();
        var late = sm.Sent(Message(2));
        Assert.Single(resent);
        Assert.False(sm.IsCurrent(early));
        Assert.True(sm.IsCurrent(late));
        var restarted = sm.Restart();
        Assert.Equal(["m1", "m2"], restarted.Select(e => e.GetAttribute("id")));
        Assert.False(sm.Enabled);
        Assert.Equal(0, sm.UnackedCount);
    }
}
