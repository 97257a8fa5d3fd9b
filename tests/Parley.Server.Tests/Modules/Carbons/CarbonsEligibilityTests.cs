using Parley.Protocol;
using Parley.Server.Modules.Carbons;

namespace Parley.Server.Tests.Modules.Carbons;

/// <summary>XEP-0280 §6.1: which messages are copied.</summary>
public sealed class CarbonsEligibilityTests
{
    [Theory]
    [InlineData("<message xmlns='jabber:client' type='chat'><body>x</body></message>", true)]
    [InlineData("<message xmlns='jabber:client' type='chat'/>", true)]
    [InlineData("<message xmlns='jabber:client'><body>x</body></message>", true)]
    [InlineData("<message xmlns='jabber:client' type='normal'/>", false)]
    [InlineData("<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='1'/></message>", true)]
    [InlineData("<message xmlns='jabber:client'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>", true)]
    [InlineData("<message xmlns='jabber:client'><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/></message>", true)]
    [InlineData("<message xmlns='jabber:client' type='groupchat'><body>x</body></message>", false)]
    [InlineData("<message xmlns='jabber:client' type='headline'><body>x</body></message>", false)]
    [InlineData("<message xmlns='jabber:client' type='error'><body>x</body></message>", false)]
    [InlineData("<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>", false)]
    [InlineData("<message xmlns='jabber:client' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>", false)]
    [InlineData("<message xmlns='jabber:client' type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>", false)]
    public void Xep0280_6_1_eligibility(string xml, bool eligible)
    {
        var element = Infrastructure.XmlAssert.ParseSnippets(xml)[0];
        Assert.Equal(eligible, CarbonsModule.Eligible(Stanza.Create(element)));
    }
}
