using System.Diagnostics;
using System.Text;
using Parley.Client;
using Parley.Client.Model;
using Parley.Protocol;

namespace Parley.Interop.Tests.ClientLibrary;

/// <summary>
/// The client library's integration suite: the same assertions against Debian's prosody (a server we did not write)
/// and against Parley. Each test uses its own accounts (<see cref="Users"/>).
/// </summary>
public abstract class ClientLibrarySuite(IXmppTarget target) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly List<XmppClient> _clients = [];

    protected IXmppTarget Target { get; } = target;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
    }

    private async Task<XmppClient> LoginAsync(string user, string resource = "lib", bool directTls = false, bool presence = true,
        Func<XmppClientOptions, XmppClientOptions>? adjust = null)
    {
        var options = Target.Options(user, resource, directTls);
        var client = new XmppClient(adjust is null ? options : adjust(options));
        _clients.Add(client);
        await client.ConnectAsync();
        if (presence) await client.SendPresenceAsync();
        return client;
    }

    private Jid User(string user, string? resource = null) => Jid.Create(user, Target.Domain, resource);

    // Completes with the first event argument that matches.
    private static async Task<T> NextAsync<T>(Action<EventHandler<T>> subscribe, Action<EventHandler<T>> unsubscribe, Func<T, bool> match)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<T> handler = (_, e) => { if (match(e)) tcs.TrySetResult(e); };
        subscribe(handler);
        try
        {
            return await tcs.Task.WaitAsync(Wait);
        }
        finally
        {
            unsubscribe(handler);
        }
    }

    private static Task<ChatMessage> NextMessageAsync(XmppClient client, Func<ChatMessage, bool> match) =>
        NextAsync<ChatMessage>(h => client.MessageReceived += h, h => client.MessageReceived -= h, match);

    // Mutual subscription (RFC 6121 §3.1) through the roster API, waiting for each side's roster to say "both".
    private static async Task BefriendAsync(XmppClient a, XmppClient b)
    {
        // §2.1.6: pushes go only to resources that requested the roster.
        await a.Roster.LoadAsync();
        await b.Roster.LoadAsync();
        var bBoth = NextAsync<RosterItem>(h => b.Roster.ItemChanged += h, h => b.Roster.ItemChanged -= h, i => i.Jid == a.BoundJid.Bare && i.Subscription == "both");
        var aBoth = NextAsync<RosterItem>(h => a.Roster.ItemChanged += h, h => a.Roster.ItemChanged -= h, i => i.Jid == b.BoundJid.Bare && i.Subscription == "both");
        b.Roster.SubscriptionRequested += (_, p) => { if (p.From?.Bare == a.BoundJid.Bare) _ = b.Roster.ApproveAsync(a.BoundJid).ContinueWith(_ => b.Roster.SubscribeAsync(a.BoundJid), TaskScheduler.Default); };
        a.Roster.SubscriptionRequested += (_, p) => { if (p.From?.Bare == b.BoundJid.Bare) _ = a.Roster.ApproveAsync(b.BoundJid); };
        await a.Roster.SubscribeAsync(b.BoundJid);
        await Task.WhenAll(aBoth, bBoth);
    }

    [Fact]
    public async Task Rfc6120_scram_over_starttls_and_direct_tls_binds_the_requested_resource_or_a_tag_of_it()
    {
        await using var starttls = new XmppClient(Target.Options("connect", "one"));
        await starttls.ConnectAsync();
        Assert.StartsWith("SCRAM-SHA-", starttls.Mechanism, StringComparison.Ordinal);
        Assert.True(starttls.IsSecure);
        // RFC 6120 §7 binds the requested resource; XEP-0386 (where offered) starts the resource with it as a tag.
        Assert.Equal(User("connect"), starttls.BoundJid.Bare);
        Assert.StartsWith("one", starttls.BoundJid.Resource, StringComparison.Ordinal);

        await using var direct = new XmppClient(Target.Options("connect", "two", directTls: true));
        await direct.ConnectAsync();
        Assert.True(direct.IsSecure);
        Assert.StartsWith("two", direct.BoundJid.Resource, StringComparison.Ordinal);

        await using var wrong = new XmppClient(Target.Options("connect", "three", password: "not the password"));
        var failure = await Assert.ThrowsAsync<XmppAuthenticationException>(() => wrong.ConnectAsync());
        Assert.Equal("not-authorized", failure.Condition);
    }

    [Fact]
    public async Task Rfc6121_2_roster_set_push_load_and_remove()
    {
        var a = await LoginAsync("rostera");
        await a.Roster.LoadAsync();
        var pushed = NextAsync<RosterItem>(h => a.Roster.ItemChanged += h, h => a.Roster.ItemChanged -= h, i => i.Jid == User("rosterb"));
        await a.Roster.SetAsync(User("rosterb"), "Bee", ["Friends", "Work"]);
        var item = await pushed;
        Assert.Equal("Bee", item.Name);
        Assert.Equal(["Friends", "Work"], item.Groups.Order(StringComparer.Ordinal));
        Assert.Equal("none", item.Subscription);

        // A second session loads the same roster.
        var again = await LoginAsync("rostera", "other");
        var loaded = await again.Roster.LoadAsync();
        Assert.Contains(loaded, i => i.Jid == User("rosterb") && i.Name == "Bee");

        var removed = NextAsync<RosterItem>(h => again.Roster.ItemChanged += h, h => again.Roster.ItemChanged -= h, i => i.Subscription == "remove");
        await a.Roster.RemoveAsync(User("rosterb"));
        Assert.Equal(User("rosterb"), (await removed).Jid);
        Assert.DoesNotContain(again.Roster.Items, i => i.Jid == User("rosterb"));
    }

    [Fact]
    public async Task Rfc6121_3_subscription_approval_and_presence_of_contacts()
    {
        var a = await LoginAsync("suba");
        var b = await LoginAsync("subb");
        await BefriendAsync(a, b);
        var seen = NextAsync<PresenceInfo>(h => a.PresenceReceived += h, h => a.PresenceReceived -= h, p => p.From == b.BoundJid && p.Show == "away");
        await b.SendPresenceAsync("away", "lunch");
        var presence = await seen;
        Assert.Equal("lunch", presence.Status);
        Assert.Contains(a.Roster.PresenceOf(b.BoundJid), p => p.Show == "away");

        var gone = NextAsync<PresenceInfo>(h => a.PresenceReceived += h, h => a.PresenceReceived -= h, p => p.From == b.BoundJid && p.Type == "unavailable");
        await b.SendUnavailableAsync();
        await gone;
        Assert.Empty(a.Roster.PresenceOf(b.BoundJid));
    }

    [Fact]
    public async Task Xep0184_receipts_and_xep0085_chat_states_between_two_clients()
    {
        var a = await LoginAsync("msga");
        var b = await LoginAsync("msgb");
        var composing = NextMessageAsync(b, m => m.ChatState == ChatState.Composing && m.Body is null);
        await a.SendChatStateAsync(b.BoundJid, ChatState.Composing);
        Assert.Equal(a.BoundJid, (await composing).From);

        var received = NextMessageAsync(b, m => m.Body == "hello, bob");
        var id = await a.SendMessageAsync(b.BoundJid, "hello, bob", requestReceipt: true);
        var receipt = NextMessageAsync(a, m => m.ReceiptFor == id);
        var message = await received;
        Assert.Equal(ChatState.Active, message.ChatState);
        Assert.True(message.RequestsReceipt);
        Assert.Equal(b.BoundJid, (await receipt).From);
    }

    [Fact]
    public async Task Xep0030_disco_of_the_server_and_xep0115_caps_cached_once_verified()
    {
        var a = await LoginAsync("capsa");
        var b = await LoginAsync("capsb", presence: false);
        b.Feature("urn:example:interop");
        var server = await a.Disco.GetInfoAsync(Jid.Create(null, Target.Domain));
        Assert.Contains(server.Identities, i => i.Category == "server" && i.Type == "im");
        Assert.True(server.Supports(Ns.DiscoInfo));
        var items = await a.Disco.GetItemsAsync(Jid.Create(null, Target.Domain));
        Assert.Contains(items, i => i.Jid.Domain == Target.Conference);

        // Directed presence carries b's caps to a.
        var seen = NextAsync<PresenceInfo>(h => a.PresenceReceived += h, h => a.PresenceReceived -= h, p => p.From == b.BoundJid);
        await b.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", a.BoundJid.ToString()).Add(b.CapsElement()));
        await seen;
        var info = await a.Disco.GetCapsInfoAsync(b.BoundJid);
        Assert.NotNull(info);
        Assert.True(info.Supports("urn:example:interop"));
        Assert.True(info.Supports(Ns.Ping));
        Assert.Equal(1, a.Disco.CachedCapsCount);
        Assert.Same(info, await a.Disco.GetCapsInfoAsync(b.BoundJid));
    }

    [Fact]
    public async Task Xep0199_ping_the_server_and_another_client_which_answers_by_itself()
    {
        var a = await LoginAsync("pinga");
        var b = await LoginAsync("pingb");
        Assert.True(await a.PingAsync() < TimeSpan.FromSeconds(10));
        Assert.True(await a.PingAsync(b.BoundJid) < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Xep0054_vcard_is_stored_and_read_back()
    {
        var a = await LoginAsync("vcarda");
        await a.SetVCardAsync(new Element("vCard", Ns.VCard).Add(new Element("FN", Ns.VCard).AddText("Ada Lovelace"))
            .Add(new Element("NICKNAME", Ns.VCard).AddText("ada")));
        var vcard = await a.GetVCardAsync();
        Assert.NotNull(vcard);
        Assert.Equal("Ada Lovelace", vcard.ChildText("FN", Ns.VCard));
    }

    [Fact]
    public async Task Xep0191_block_list_and_unblock()
    {
        var a = await LoginAsync("blocka");
        var spammer = Jid.Parse("spam@" + Target.Domain);
        await a.BlockAsync([spammer]);
        Assert.Contains(spammer, await a.GetBlocklistAsync());
        await a.UnblockAsync([spammer]);
        Assert.DoesNotContain(spammer, await a.GetBlocklistAsync());
    }

    [Fact]
    public async Task Xep0280_carbons_copy_a_message_to_the_other_resource()
    {
        var phone = await LoginAsync("carba", "phone");
        var laptop = await LoginAsync("carba", "laptop");
        await phone.EnableCarbonsAsync();
        await laptop.EnableCarbonsAsync();
        var b = await LoginAsync("carbb");
        var carbon = NextMessageAsync(laptop, m => m.Carbon == CarbonDirection.Received && m.Body == "to the phone");
        await b.SendMessageAsync(phone.BoundJid, "to the phone");
        var copy = await carbon;
        Assert.Equal(b.BoundJid, copy.From);
        Assert.Equal(phone.BoundJid, copy.To);
    }

    [Fact]
    public async Task Xep0313_archive_pages_forwards_and_reads_all_in_order()
    {
        var a = await LoginAsync("mama");
        var b = await LoginAsync("mamb");
        var last = NextMessageAsync(b, m => m.Body == "m7");
        for (var i = 1; i <= 7; i++) await a.SendMessageAsync(b.BoundJid, "m" + i);
        await last;
        var first = await a.Mam.QueryAsync(with: b.BoundJid.Bare, max: 3);
        Assert.Equal(["m1", "m2", "m3"], first.Messages.Select(m => m.Message.Body));
        Assert.False(first.Complete);
        var second = await a.Mam.QueryAsync(with: b.BoundJid.Bare, after: first.Last, max: 3);
        Assert.Equal(["m4", "m5", "m6"], second.Messages.Select(m => m.Message.Body));
        var all = new List<string?>();
        await foreach (var m in a.Mam.ReadAllAsync(with: b.BoundJid.Bare, pageSize: 2)) all.Add(m.Message.Body);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "m6", "m7"], all);
        Assert.All(first.Messages, m => Assert.NotNull(m.Stamp));
    }

    [Fact]
    public async Task Xep0045_create_configure_join_talk_affiliate_and_read_the_room_archive()
    {
        var owner = await LoginAsync("muca");
        var guest = await LoginAsync("mucb");
        var room = Jid.Create("lib-" + Guid.NewGuid().ToString("N")[..8], Target.Conference);
        var created = await owner.Muc.JoinAsync(room, "Owner");
        Assert.True(created.Created);
        Assert.Equal("owner", created.Self.Affiliation);
        var form = await owner.Muc.GetConfigurationAsync(room);
        var fields = new List<string?>();
        foreach (var f in form.Children) fields.Add(f.GetAttribute("var"));
        Assert.Contains("muc#roomconfig_roomname", fields);
        await owner.Muc.ConfigureAsync(room, [new("muc#roomconfig_roomname", ["Library test"]), new("muc#roomconfig_persistentroom", ["1"])]);

        var joined = await guest.Muc.JoinAsync(room, "Guest");
        Assert.False(joined.Created);
        Assert.Contains(guest.Muc.Occupants(room), o => o.Nick == "Owner" && o.Role == "moderator");

        var heard = NextAsync<ChatMessage>(h => guest.Muc.MessageReceived += h, h => guest.Muc.MessageReceived -= h, m => m.Body == "welcome");
        await owner.Muc.SendAsync(room, "welcome");
        Assert.Equal(Jid.Create(room.Local, room.Domain, "Owner"), (await heard).From);

        await owner.Muc.SetAffiliationAsync(room, guest.BoundJid, "member");
        Assert.Contains(guest.BoundJid.Bare, await owner.Muc.GetAffiliatedAsync(room, "member"));

        var conflict = await Assert.ThrowsAsync<XmppErrorException>(async () =>
        {
            var third = await LoginAsync("mucb", "second");
            await third.Muc.JoinAsync(room, "Owner");
        });
        Assert.Equal("conflict", conflict.Condition);

        var archive = await guest.Mam.QueryAsync(archive: room);
        Assert.Contains(archive.Messages, m => m.Message.Body == "welcome");

        await guest.Muc.LeaveAsync(room);
        Assert.DoesNotContain(room, guest.Muc.Rooms);
        await owner.Muc.DestroyAsync(room, "done");
    }

    [Fact]
    public async Task Xep0163_pep_notifies_a_contact_that_asked_with_notify_caps()
    {
        var a = await LoginAsync("peppa");
        var b = await LoginAsync("pepb", presence: false);
        const string node = "http://jabber.org/protocol/tune";
        b.Pep.Subscribe(node);
        await b.SendPresenceAsync();
        await BefriendAsync(a, b);
        await b.SendPresenceAsync();
        var notified = NextAsync<PepItem>(h => b.Pep.ItemPublished += h, h => b.Pep.ItemPublished -= h, i => i.Node == node && i.Id == "current");
        await a.Pep.PublishAsync(node, new Element("tune", node).Add(new Element("title", node).AddText("Mercy Street")), "current");
        var item = await notified;
        Assert.Equal(a.BoundJid.Bare, item.Publisher);
        Assert.Equal("Mercy Street", item.Payload!.ChildText("title", node));
        var items = await b.Pep.GetItemsAsync(a.BoundJid, node);
        Assert.Contains(items, i => i.Id == "current");
    }

    [Fact]
    public async Task Xep0363_upload_a_file_and_download_it_from_the_shared_url()
    {
        var a = await LoginAsync("uploada");
        var bytes = Encoding.UTF8.GetBytes("a file shared through XEP-0363\n");
        using var content = new MemoryStream(bytes);
        var url = await a.UploadAsync("notes.txt", content, bytes.Length, "text/plain", Target.Http);
        Assert.Equal(bytes, await Target.Http.GetByteArrayAsync(url));
    }

    [Fact]
    public async Task Xep0077_register_change_password_and_delete_an_account()
    {
        var user = "ibr" + Guid.NewGuid().ToString("N")[..8];
        var options = Target.Options(user, "reg", password: "first password");
        await XmppClient.RegisterAccountAsync(options);
        var exists = await Assert.ThrowsAsync<XmppErrorException>(() => XmppClient.RegisterAccountAsync(options));
        Assert.Equal("conflict", exists.Condition);

        await using (var client = new XmppClient(options))
        {
            await client.ConnectAsync();
            await client.ChangePasswordAsync("second password");
        }
        await using (var client = new XmppClient(options with { Password = "second password" }))
        {
            await client.ConnectAsync();
            await client.DeleteAccountAsync();
        }
        await using var gone = new XmppClient(options with { Password = "second password" });
        await Assert.ThrowsAsync<XmppAuthenticationException>(() => gone.ConnectAsync());
    }

    [Fact]
    public async Task Rfc6120_8_4_custom_iq_handlers_answer_and_unknown_requests_get_service_unavailable()
    {
        var a = await LoginAsync("iqa");
        var b = await LoginAsync("iqb");
        b.OnIq<Echo>(IqType.Get, (request, _) => Task.FromResult<Element?>(new Echo(request.Payload.Text + "!").ToElement()));
        var answer = await a.IqAsync(IqType.Get, b.BoundJid, new Echo("hi").ToElement());
        Assert.Equal("hi!", answer!.Text);
        var unknown = await Assert.ThrowsAsync<XmppErrorException>(() => a.IqAsync(IqType.Get, b.BoundJid, new Element("query", "urn:example:nobody")));
        Assert.Equal("service-unavailable", unknown.Condition);
    }

    [Fact]
    public async Task Xep0198_5_a_lost_connection_is_resumed_and_nothing_sent_either_way_is_lost()
    {
        var a = await LoginAsync("sma");
        var b = await LoginAsync("smb");
        Assert.True(a.IsStreamManagementEnabled);
        var states = new System.Collections.Concurrent.ConcurrentQueue<ConnectionState>();
        a.StateChanged += (_, state) => states.Enqueue(state);
        var atA = NextMessageAsync(a, m => m.Body == "while you were away");
        var atB = NextMessageAsync(b, m => m.Body == "sent while cut off");
        var bound = a.BoundJid;

        a.SimulateConnectionLoss();
        await a.SendMessageAsync(b.BoundJid, "sent while cut off");       // queued, goes out on resumption
        await b.SendMessageAsync(bound, "while you were away");          // held by the server for the session
        await Task.WhenAll(atA, atB);
        Assert.Equal(1, a.Resumptions);
        Assert.Equal([ConnectionState.Reconnecting, ConnectionState.Connected], states);
        Assert.Equal(bound, a.BoundJid);
        Assert.True(await a.PingAsync() < TimeSpan.FromSeconds(10));
        for (var i = 0; i < 50 && a.UnacknowledgedCount > 0; i++) await Task.Delay(100);
        Assert.Equal(0, a.UnacknowledgedCount);
    }

    [Fact]
    public async Task Xep0198_5_after_the_resumption_window_a_new_session_sends_the_queue_again_and_offline_messages_arrive()
    {
        // The client waits longer than the servers keep the session (3 s in both targets' configuration).
        var a = await LoginAsync("smc", adjust: o => o with { ReconnectDelay = TimeSpan.FromSeconds(5) });
        var b = await LoginAsync("smd");
        await a.Roster.LoadAsync();
        var restarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.SessionRestarted += (_, _) => restarted.TrySetResult();
        var atB = NextAsync<ChatMessage>(h => b.MessageReceived += h, h => b.MessageReceived -= h, m => m.Body == "queued across a new session");
        var bound = a.BoundJid;

        a.SimulateConnectionLoss();
        await a.SendMessageAsync(b.BoundJid, "queued across a new session");
        await restarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await atB.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, a.Resumptions);
        Assert.Equal(ConnectionState.Connected, a.State);
        Assert.Equal(bound.Bare, a.BoundJid.Bare);
        // The restored session is available again: a message to the bare JID reaches it.
        var atA = NextMessageAsync(a, m => m.Body == "are you back?");
        await b.SendMessageAsync(bound.Bare, "are you back?");
        await atA;
    }

    [Fact]
    public async Task Docs_the_hello_bot_built_from_the_packages_connects_and_answers_a_chat_message()
    {
        // samples/HelloBot's source (docs/client.md shows it) in a new app on the packed library, configured only
        // through its environment.
        var dll = await PackagedHelloBot.DllAsync();
        var start = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PARLEY_JID"] = User("bot").ToString();
        start.Environment["PARLEY_PASSWORD"] = Target.Options("bot").Password;
        start.Environment["PARLEY_HOST"] = "127.0.0.1";
        start.Environment["PARLEY_PORT"] = Target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PARLEY_CERT_FILE"] = Target.CertificateFile;
        using var bot = Process.Start(start)!;
        var errors = bot.StandardError.ReadToEndAsync();
        try
        {
            var human = await LoginAsync("human");
            var answer = NextMessageAsync(human, m => m.Body == "You said: hello, bot");
            // To the bare JID: held offline until the bot is online, then delivered (RFC 6121 §8.5.2.2).
            await human.SendMessageAsync(User("bot"), "hello, bot");
            var reply = await answer.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(User("bot").Bare, reply.From?.Bare);
        }
        finally
        {
            if (!bot.HasExited) bot.Kill(entireProcessTree: true);
            await bot.WaitForExitAsync();
        }
        Assert.DoesNotContain("Unhandled exception", await errors, StringComparison.Ordinal);
    }

    private sealed record Echo(string Text) : IPayload<Echo>
    {
        public static QName Name { get; } = new("urn:example:echo", "echo");

        public static Echo Parse(Element element) => new(element.Text);

        public Element ToElement() => new Element(Name).AddText(Text);
    }
}

/// <summary>The suite against Debian's prosody.</summary>
public sealed class ClientLibraryAgainstProsody(ProsodyTarget target) : ClientLibrarySuite(target), IClassFixture<ProsodyTarget>;

/// <summary>The suite against Parley.</summary>
public sealed class ClientLibraryAgainstParley(ParleyTarget target) : ClientLibrarySuite(target), IClassFixture<ParleyTarget>;
