using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Parley.Protocol;
using Parley.Server.Connections;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.StreamManagement;

/// <summary>XEP-0198 §5 resumption after a lost connection, and what happens to stanzas nobody acknowledged.</summary>
public sealed partial class StreamManagementTests
{
    private static Element Chat(string to, string body) =>
        new Element("message", Ns.Client).SetAttribute("to", to).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText(body));

    private static async Task<(RawConnection Raw, string Id)> ManagedAsync(TestServer server, string user, string resource)
    {
        var raw = await RawNegotiation.LoginAsync(server, user, resource);
        await raw.SendAsync("<presence/><enable xmlns='urn:xmpp:sm:3' resume='true'/>");
        var enabled = await raw.ReadUntilAsync("<enabled");
        await raw.ReadUntilAsync("/>");
        var id = IdPattern().Match(raw.Received).Groups[1].Value;
        Assert.NotEmpty(id);
        raw.ClearReceived();
        return (raw, id);
    }

    // Alice's managed session gets a message from bob and then loses its connection before acknowledging it.
    private static async Task<string> CutWithUnacknowledgedMessageAsync(TestServer server, Parley.Client.XmppClient bob)
    {
        await bob.SendAsync(new Element("presence", Ns.Client));
        var (first, id) = await ManagedAsync(server, "alice", "phone");
        await bob.SendAsync(Chat("alice@example.test/phone", "kept for later"));
        await first.ReadUntilAsync(">kept for later<");
        first.Cut();
        await first.DisposeAsync();
        return id;
    }

    private static async Task SyncAsync(Parley.Client.XmppClient client) =>
        await client.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain).Add(new Element("ping", Ns.Ping)));

    private static async Task<Element> FirstMessageAfterPresenceAsync(Parley.Client.XmppClient client)
    {
        await client.SendAsync(new Element("presence", Ns.Client));
        using var timeout = new CancellationTokenSource(5000);
        Element message;
        do message = await client.ReceiveAsync(timeout.Token);
        while (message.LocalName != "message");
        return message;
    }

    // Real time plus a jump the test makes, so a deadline can pass without waiting for it (or for the periodic sweep).
    private sealed class ShiftedTime : TimeProvider
    {
        private long _offset;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offset, (long)(by.TotalSeconds * global::System.Diagnostics.Stopwatch.Frequency));

        public override long TimestampFrequency => global::System.Diagnostics.Stopwatch.Frequency;

        public override long GetTimestamp() => global::System.Diagnostics.Stopwatch.GetTimestamp() + Volatile.Read(ref _offset);

        public override DateTimeOffset GetUtcNow() =>
            TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(Volatile.Read(ref _offset) / (double)global::System.Diagnostics.Stopwatch.Frequency);
    }

    [GeneratedRegex("<enabled[^>]* id=['\"]([^'\"]+)['\"]")]
    private static partial Regex IdPattern();

    [Fact]
    public async Task Xep0198_5_a_cut_connection_is_resumed_and_gets_every_unacknowledged_stanza_in_order_with_its_presence_kept()
    {
        await using var server = await TestServer.StartAsync();
        await using var bob = await server.LoginAsync("bob", "desk");
        var (first, id) = await ManagedAsync(server, "alice", "phone");
        await bob.SendAsync(Chat("alice@example.test/phone", "one"));
        await first.ReadUntilAsync(">one<");
        await first.SendAsync("<a xmlns='urn:xmpp:sm:3' h='1'/>");
        await bob.SendAsync(Chat("alice@example.test/phone", "two"));
        await first.ReadUntilAsync(">two<");
        first.Cut();       // "two" was received but never acknowledged

        // While the session waits, it stays online: messages to it are kept, not bounced or stored offline.
        await bob.SendAsync(Chat("alice@example.test/phone", "three"));
        await SyncAsync(bob);
        var sessions = server.Services.GetRequiredService<Parley.Server.Routing.SessionRegistry>();
        Assert.True(sessions.TryGet(Jid.Parse("alice@example.test/phone"), out var waiting));
        Assert.True(waiting.Presence.IsAvailable);

        await using var second = await RawNegotiation.AuthenticateAsync(server, "alice");
        Assert.True(second.Received.Contains("<sm xmlns='urn:xmpp:sm:3'", StringComparison.Ordinal), second.Received);
        second.ClearReceived();
        await second.SendAsync($"<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='1'/>");
        var got = await second.ReadUntilAsync(">three<");
        Assert.Matches("<resumed xmlns='urn:xmpp:sm:3' previd='[^']+' h='0'", got);   // alice sent nothing after enabling
        var resumed = got.IndexOf("<resumed", StringComparison.Ordinal);
        Assert.True(resumed < got.IndexOf(">two<", StringComparison.Ordinal) && got.IndexOf(">two<", StringComparison.Ordinal) < got.IndexOf(">three<", StringComparison.Ordinal), got);
        Assert.DoesNotContain(">one<", got, StringComparison.Ordinal);

        // The resumed session is the same session: new messages arrive on the new connection.
        await bob.SendAsync(Chat("alice@example.test/phone", "four"));
        await second.ReadUntilAsync(">four<");
        Assert.Same(waiting, sessions.TryGet(Jid.Parse("alice@example.test/phone"), out var now) ? now : null);
    }

    [Fact]
    public async Task Xep0198_when_the_resume_timeout_passes_unacknowledged_messages_go_to_offline_storage_and_the_id_is_gone()
    {
        await using var server = await TestServer.StartAsync(new()
        {
            ["StreamManagement:ResumeTimeoutSeconds"] = "1",
            ["Limits:KeepaliveSeconds"] = "1",
        });
        await using var bob = await server.LoginAsync("bob", "desk");
        var id = await CutWithUnacknowledgedMessageAsync(server, bob);

        // The session ends after the timeout (bounded wait: the heartbeat runs four times a second here).
        var sessions = server.Services.GetRequiredService<Parley.Server.Routing.SessionRegistry>();
        for (var i = 0; i < 100 && sessions.TryGet(Jid.Parse("alice@example.test/phone"), out _); i++) await Task.Delay(50);
        Assert.False(sessions.TryGet(Jid.Parse("alice@example.test/phone"), out _));

        await using var late = await RawNegotiation.AuthenticateAsync(server, "alice");
        late.ClearReceived();
        await late.SendAsync($"<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='0'/>");
        Assert.Contains("<item-not-found", await late.ReadUntilAsync("</failed>"), StringComparison.Ordinal);

        await using var alice = await server.LoginAsync("alice", "laptop");
        var message = await FirstMessageAfterPresenceAsync(alice);
        Assert.Equal("kept for later", message.ChildText("body", Ns.Client));
        Assert.NotNull(message.Child("delay", Ns.Delay));
    }

    [Fact]
    public async Task Xep0198_5_a_resumption_after_max_is_refused_even_before_the_periodic_sweep_ends_the_session()
    {
        var time = new ShiftedTime();
        await using var server = await TestServer.StartAsync(new() { ["StreamManagement:ResumeTimeoutSeconds"] = "60" },
            services => services.AddSingleton<TimeProvider>(time));
        await using var bob = await server.LoginAsync("bob", "desk");
        var id = await CutWithUnacknowledgedMessageAsync(server, bob);
        await Task.Delay(300);      // the server sees the reset and the session waits, detached
        time.Advance(TimeSpan.FromSeconds(61));

        await using var late = await RawNegotiation.AuthenticateAsync(server, "alice");
        late.ClearReceived();
        await late.SendAsync($"<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='0'/>");
        Assert.Contains("<item-not-found", await late.ReadUntilAsync("</failed>"), StringComparison.Ordinal);
        // Ending it routed the unacknowledged message to offline storage.
        await using var alice = await server.LoginAsync("alice", "laptop");
        Assert.Equal("kept for later", (await FirstMessageAfterPresenceAsync(alice)).ChildText("body", Ns.Client));
    }

    [Fact]
    public async Task Xep0198_a_clean_close_ends_the_session_at_once_and_unacknowledged_messages_go_to_another_resource()
    {
        await using var server = await TestServer.StartAsync();
        await using var bob = await server.LoginAsync("bob", "desk");
        await using var laptop = await server.LoginAsync("alice", "laptop");
        await laptop.SendAsync(new Element("presence", Ns.Client).Add(new Element("priority", Ns.Client).AddText("-1")));
        await SyncAsync(laptop);
        var (phone, _) = await ManagedAsync(server, "alice", "phone");
        await bob.SendAsync(Chat("alice@example.test/phone", "do not lose me"));
        await phone.ReadUntilAsync(">do not lose me<");
        await phone.SendAsync("</stream:stream>");
        await phone.ReadToEndAsync();

        // The message was never acknowledged: it is routed again as if the resource were gone (RFC 6121
        // §8.5.3.2.1), and the laptop has negative priority, so it goes to offline storage.
        await using var tablet = await server.LoginAsync("alice", "tablet");
        var message = await FirstMessageAfterPresenceAsync(tablet);
        Assert.Equal("do not lose me", message.ChildText("body", Ns.Client));
    }

    [Fact]
    public async Task Xep0198_an_acknowledgement_of_more_than_was_sent_is_a_stream_error()
    {
        await using var server = await TestServer.StartAsync();
        var (raw, _) = await ManagedAsync(server, "alice", "phone");
        await using var _ = raw;
        await raw.SendAsync("<a xmlns='urn:xmpp:sm:3' h='3'/>");
        var end = await raw.ReadToEndAsync();
        Assert.Contains("<undefined-condition", end, StringComparison.Ordinal);
        Assert.True(end.Contains("<handled-count-too-high xmlns='urn:xmpp:sm:3' h='3' send-count='0'", StringComparison.Ordinal), end);
    }

    [Fact]
    public async Task Xep0198_a_session_of_another_account_cannot_be_resumed()
    {
        await using var server = await TestServer.StartAsync();
        var (raw, id) = await ManagedAsync(server, "alice", "phone");
        await using var _ = raw;
        await using var mallory = await RawNegotiation.AuthenticateAsync(server, "mallory");
        mallory.ClearReceived();
        await mallory.SendAsync($"<resume xmlns='urn:xmpp:sm:3' previd='{id}' h='0'/>");
        Assert.Contains("<item-not-found", await mallory.ReadUntilAsync("</failed>"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0u, 0u, 0u, true)]
    [InlineData(5u, 3u, 7u, true)]
    [InlineData(8u, 3u, 7u, false)]
    [InlineData(2u, 3u, 7u, false)]
    [InlineData(1u, 4294967290u, 3u, true)]          // sent wrapped past 2^32, the ack too
    [InlineData(4294967295u, 4294967290u, 3u, true)]
    [InlineData(4u, 4294967290u, 3u, false)]
    public void Xep0198_4_counters_wrap_at_2_to_the_32(uint h, uint acked, uint sent, bool valid)
    {
        Assert.Equal(valid, ClientSession.AckInRange(h, acked, sent));
        if (valid) Assert.True(ClientSession.Covers(h, h) && (h == acked || ClientSession.Covers(h, acked + 1)));
    }
}
