using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Routing;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Push;

/// <summary>XEP-0357 push notifications to an app server (here a component of the test server).</summary>
public sealed class PushTests
{
    private const string Ns357 = "urn:xmpp:push:0";
    private const string AppServer = "push.example.test";

    /// <summary>An app server's push service: records each publish and answers with a result or an error.</summary>
    private sealed class AppServerComponent(bool fail) : IComponent
    {
        public ConcurrentQueue<Element> Published { get; } = new();

        public ValueTask HandleAsync(Stanza stanza, ISession origin, CancellationToken ct)
        {
            if (stanza.IqType != IqType.Set) return ValueTask.CompletedTask;
            Published.Enqueue(stanza.Element.Clone());
            var reply = fail
                ? stanza.CreateErrorReply(StanzaError.ItemNotFound())
                : new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", stanza.Id).SetAttribute("from", AppServer).SetAttribute("to", stanza.From?.ToString());
            origin.TryDeliver(reply);
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<(TestServer, AppServerComponent)> StartAsync(bool fail = false, Dictionary<string, string?>? settings = null)
    {
        var server = await TestServer.StartAsync(settings);
        var component = new AppServerComponent(fail);
        server.Services.GetRequiredService<ComponentRegistry>().TryAdd(AppServer, component);
        return (server, component);
    }

    private static Element Enable(string node, string? secret = null)
    {
        var enable = new Element("enable", Ns357).SetAttribute("jid", AppServer).SetAttribute("node", node);
        if (secret is not null)
            enable.Add(new Element("x", Ns.DataForms).SetAttribute("type", "submit")
                .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText("http://jabber.org/protocol/pubsub#publish-options")))
                .Add(new Element("field", Ns.DataForms).SetAttribute("var", "secret").Add(new Element("value", Ns.DataForms).AddText(secret))));
        return new Element("iq", Ns.Client).SetAttribute("type", "set").Add(enable);
    }

    private static Element Chat(string to, string body) =>
        new Element("message", Ns.Client).SetAttribute("to", to).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText(body));

    private static async Task<Element?> WaitAsync(AppServerComponent app, int count)
    {
        for (var i = 0; i < 100 && app.Published.Count < count; i++) await Task.Delay(50);
        return app.Published.Count >= count ? app.Published.ToArray()[count - 1] : null;
    }

    [Fact]
    public async Task Xep0357_7_a_message_stored_offline_is_pushed_minimally_with_the_publish_options()
    {
        var (server, app) = await StartAsync();
        await using var _ = server;
        await using (var alice = await server.LoginAsync("alice"))
            Assert.Equal("result", (await alice.RequestAsync(Enable("node-1", "s3cret"))).GetAttribute("type"));
        await using var bob = await server.LoginAsync("bob");
        await bob.SendAsync(Chat("alice@example.test", "a private matter"));

        var push = await WaitAsync(app, 1);
        Assert.NotNull(push);
        Assert.Equal("alice@example.test", push.GetAttribute("from"));
        var pubsub = push.Child("pubsub", Ns.PubSub)!;
        Assert.Equal("node-1", pubsub.Child("publish", Ns.PubSub)!.GetAttribute("node"));
        var text = push.ToString();
        Assert.Contains("<value>urn:xmpp:push:summary</value>", text, StringComparison.Ordinal);
        Assert.Contains("<value>s3cret</value>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("a private matter", text, StringComparison.Ordinal);
        Assert.DoesNotContain("bob@example.test", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0357_a_session_waiting_to_be_resumed_is_pushed_and_sender_and_body_go_out_only_when_configured()
    {
        var (server, app) = await StartAsync(settings: new() { ["Push:IncludeSender"] = "true", ["Push:IncludeBody"] = "true" });
        await using var _ = server;
        var raw = await RawNegotiation.LoginAsync(server, "alice", "phone");
        await raw.SendAsync($"<iq type='set' id='p1'><enable xmlns='{Ns357}' jid='{AppServer}' node='n'/></iq><presence/><enable xmlns='urn:xmpp:sm:3' resume='true'/>");
        await raw.ReadUntilAsync("<enabled");
        raw.Cut();
        await using var bob = await server.LoginAsync("bob");
        // Bounded wait for the server to notice the cut, then a message for the waiting session.
        var sessions = server.Services.GetRequiredService<SessionRegistry>();
        for (var i = 0; i < 100 && !(sessions.TryGet(Jid.Parse("alice@example.test/phone"), out var s) && s is Parley.Server.Connections.ClientSession { Stream: null }); i++)
            await Task.Delay(50);
        await bob.SendAsync(Chat("alice@example.test/phone", "wake up"));
        var push = await WaitAsync(app, 1);
        Assert.NotNull(push);
        Assert.Contains("<value>wake up</value>", push.ToString(), StringComparison.Ordinal);
        Assert.Contains("bob@example.test", push.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0357_7_1_a_service_that_answers_with_an_error_is_disabled_and_disable_stops_pushes()
    {
        var (server, app) = await StartAsync(fail: true);
        await using var _ = server;
        await using (var alice = await server.LoginAsync("alice"))
            await alice.RequestAsync(Enable("node-1"));
        await using var bob = await server.LoginAsync("bob");
        await bob.SendAsync(Chat("alice@example.test", "one"));
        Assert.NotNull(await WaitAsync(app, 1));
        // The error comes back asynchronously; the service is gone once it is handled (bounded wait).
        var enabled = server.Services.GetRequiredService<Parley.Server.Storage.IStorage>().Map("push");
        for (var i = 0; i < 100 && (await enabled.GetAllAsync(Jid.Parse("alice@example.test"), CancellationToken.None)).Count > 0; i++) await Task.Delay(50);
        Assert.Empty(await enabled.GetAllAsync(Jid.Parse("alice@example.test"), CancellationToken.None));
        await bob.SendAsync(Chat("alice@example.test", "two"));
        await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));
        Assert.Single(app.Published);

        var (server2, app2) = await StartAsync();
        await using var __ = server2;
        await using (var alice = await server2.LoginAsync("alice"))
        {
            await alice.RequestAsync(Enable("node-1"));
            await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("disable", Ns357).SetAttribute("jid", AppServer)));
        }
        await using var bob2 = await server2.LoginAsync("bob");
        await bob2.SendAsync(Chat("alice@example.test", "nothing to push"));
        await bob2.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));
        Assert.Empty(app2.Published);
    }
}
