using Parley.Client;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// XEP-0114 through the client library against Debian's prosody: the same XmppClient, in component mode, is a
/// gateway. (Parley's own component listener belongs to the federation issue; these run against prosody only.)
/// </summary>
public sealed class ComponentAgainstProsody(ProsodyTarget target) : IClassFixture<ProsodyTarget>
{
    [Fact]
    public async Task Xep0114_a_component_handshakes_receives_for_its_domain_and_answers_from_any_of_its_jids()
    {
        await using var gateway = new XmppClient(target.ComponentOptions());
        await gateway.ConnectAsync();
        Assert.Equal(Jid.Create(null, target.Gateway), gateway.BoundJid);
        gateway.Feature("urn:example:gateway");
        // An echo service: every chat message to anyone@gw comes back from that address.
        gateway.MessageReceived += (_, m) =>
        {
            if (m.Body is { } body && m.From is { } from && m.To is { } to)
                _ = gateway.SendAsync(new Element("message", Ns.Client).SetAttribute("from", to.ToString()).SetAttribute("to", from.ToString())
                    .SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText("echo: " + body)));
        };

        await using var user = new XmppClient(target.Options("iqa", "component"));
        await user.ConnectAsync();
        var echoed = new TaskCompletionSource<ChatMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        user.MessageReceived += (_, m) => { if (m.Body?.StartsWith("echo:", StringComparison.Ordinal) == true) echoed.TrySetResult(m); };
        var contact = Jid.Create("someone", target.Gateway);
        await user.SendMessageAsync(contact, "over the bridge");
        var reply = await echoed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("echo: over the bridge", reply.Body);
        Assert.Equal(contact, reply.From);

        // IQs to the component's JIDs are answered by the library's handlers, from the JID that was asked.
        var info = await user.Disco.GetInfoAsync(contact);
        Assert.True(info.Supports("urn:example:gateway"));
        Assert.Contains(info.Identities, i => i.Category == "component");
    }

    [Fact]
    public async Task Xep0114_a_wrong_secret_is_refused()
    {
        await using var gateway = new XmppClient(target.ComponentOptions("not the secret"));
        await Assert.ThrowsAsync<XmppNegotiationException>(() => gateway.ConnectAsync());
        // XEP-0114 §3.1: the server answers a bad handshake with the not-authorized stream error.
        Assert.Equal("not-authorized", gateway.RemoteStreamError?.ConditionName);
    }
}
