using System.Buffers;
using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Framing;

public sealed class XmlFramerMemoryTests
{
    // What a mobile client sends from connecting to being online (RFC 6120 §5, §6, §7; RFC 6121 §2.2, §4.2), one
    // read each; null is a stream restart.
    private static readonly string?[] Negotiation =
    [
        "<?xml version='1.0'?><stream:stream to='example.test' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        null,
        "<stream:stream to='example.test' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1hbGljZSxyPWZ5a28rZDJsYmJGZ09OUnY5cWt4ZGF3TA==</auth>",
        "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdldWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBDK0hRc2lZPQ==</response>",
        null,
        "<stream:stream to='example.test' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
        "<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind></iq>",
        "<iq type='set' id='sess-1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
        "<presence><priority>0</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='PDH7CGVPRERS2WUqBD18PHGEzaY='/></presence>",
        "<iq type='get' id='roster-1'><query xmlns='jabber:iq:roster' ver='ver7'/></iq>",
    ];

    private static int Negotiate(XmlFramer framer)
    {
        var frames = 0;
        foreach (var read in Negotiation)
        {
            if (read is null)
            {
                framer.Reset();
                continue;
            }
            var buffer = new ReadOnlySequence<byte>(Utf8(read));
            while (framer.TryRead(ref buffer, out _)) frames++;
            Assert.Equal(0, buffer.Length);
        }
        return frames;
    }

    [Fact]
    public void A_framer_that_has_seen_only_a_client_negotiation_holds_little_memory()
    {
        Negotiate(new XmlFramer()); // JIT and static tables out of the way

        // The first pass allocates the framer, its caches and the frames; a second pass over the same framer allocates
        // the frames alone, so the difference is what the framer keeps for an idle session (and any garbage its
        // caches made while growing).
        var start = GC.GetAllocatedBytesForCurrentThread();
        var framer = new XmlFramer();
        Assert.Equal(10, Negotiate(framer));
        var first = GC.GetAllocatedBytesForCurrentThread() - start;
        framer.Reset();
        start = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(10, Negotiate(framer));
        var frames = GC.GetAllocatedBytesForCurrentThread() - start;
        var framerBytes = first - frames;

        // With its caches sized for a busy stream up front the framer took 14,696 bytes here; started small and grown
        // on demand, 4,040 (of which some 600 are arrays outgrown on the way).
        Assert.True(framerBytes <= 4352, $"The framer kept {framerBytes} bytes");
    }
}
