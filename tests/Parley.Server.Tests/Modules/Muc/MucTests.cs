using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Modules.Muc.MucHarness;

namespace Parley.Server.Tests.Modules.Muc;

/// <summary>XEP-0045 core use cases on conference.example.test (section numbers in the names).</summary>
public sealed class MucTests
{
    private const string Muc = MucHarness.Muc;     // the namespace Parley.Server.Tests.Modules.Muc would hide it

    [Fact]
    public async Task Xep0045_7_2_entering_a_room_with_presence_codes_subject_and_semi_anonymity()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        await alice.SendAsync(Join("Alice"));
        await ReceivedAsync(alice);
        // §7.2.10: a locked room cannot be entered by others.
        await bob.SendAsync(Join("Bob"));
        var locked = (await ReceivedAsync(bob)).Single();
        Assert.NotNull(locked.Child("error", Ns.Client)?.Child("item-not-found", Ns.Stanzas));
        await alice.RequestAsync(OwnerIq(new Element("x", Ns.DataForms).SetAttribute("type", "submit")));

        await bob.SendAsync(Join("Bob"));
        var seen = await ReceivedAsync(bob);
        // The owner first (no real JID for a participant in a semi-anonymous room), then bob himself (110), then the subject.
        Assert.Equal(Room + "/Alice", seen[0].GetAttribute("from"));
        Assert.Null(seen[0].Child("x", User)!.Child("item", User)!.GetAttribute("jid"));
        Assert.Equal(Room + "/Bob", seen[1].GetAttribute("from"));
        Assert.Equal(["110", "170"], Codes(seen[1]));
        Assert.Equal("", seen[2].Child("subject", Ns.Client)!.Text);
        // The moderator sees bob's real JID.
        var atAlice = (await ReceivedAsync(alice)).Single(e => e.LocalName == "presence");
        Assert.Equal(bob.BoundJid.ToString(), atAlice.Child("x", User)!.Child("item", User)!.GetAttribute("jid"));

        // §7.2.8: a nickname in use by someone else.
        await using var mallory = await server.LoginAsync("mallory");
        await mallory.SendAsync(Join("Bob"));
        Assert.NotNull((await ReceivedAsync(mallory)).Single().Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas));

        // XEP-0410: a self-ping to one's own occupant is answered.
        var ping = await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room + "/Bob").Add(new Element("ping", Ns.Ping)));
        Assert.Equal("result", ping.GetAttribute("type"));
    }

    [Fact]
    public async Task Xep0045_7_4_to_7_6_messages_history_private_messages_subject_and_nick_change()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await bob.SendAsync(Groupchat("hello room"));
        await ReceivedAsync(bob);
        var atAlice = (await ReceivedAsync(alice)).Single();
        Assert.Equal(Room + "/Bob", atAlice.GetAttribute("from"));
        Assert.Equal(Room, atAlice.Child("stanza-id", Ns.StanzaId)!.GetAttribute("by"));

        // §8.1: the moderator sets the subject; a late joiner gets the history (delayed) and then the subject.
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).SetAttribute("type", "groupchat").Add(new Element("subject", Ns.Client).AddText("Plans")));
        await ReceivedAsync(alice);
        await ReceivedAsync(bob);
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join("Carol"));
        var entry = await ReceivedAsync(carol);
        var history = entry.Single(e => e.ChildText("body", Ns.Client) == "hello room");
        Assert.NotNull(history.Child("delay", Ns.Delay));
        Assert.Equal("Plans", entry[^1].ChildText("subject", Ns.Client));
        Assert.Equal(Room + "/Alice", entry[^1].GetAttribute("from"));

        // §7.5: a private message.
        await carol.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room + "/Bob").SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText("psst")));
        await ReceivedAsync(carol);       // carol's connection has handled it (connections are not ordered with each other)
        var pm = (await ReceivedAsync(bob)).Single(e => e.LocalName == "message");
        Assert.Equal(Room + "/Carol", pm.GetAttribute("from"));
        Assert.NotNull(pm.Child("x", User));

        // §7.6: bob becomes Robert: unavailable with 303 and the new nick, then available as Robert.
        await bob.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", Room + "/Robert"));
        await ReceivedAsync(bob);
        var change = await ReceivedAsync(carol);
        Assert.Equal(["303"], Codes(change[0]));
        Assert.Equal("Robert", change[0].Child("x", User)!.Child("item", User)!.GetAttribute("nick"));
        Assert.Equal(Room + "/Robert", change[1].GetAttribute("from"));

        // §7.14: leaving.
        await carol.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", Room + "/Carol").SetAttribute("type", "unavailable"));
        await ReceivedAsync(carol);
        var left = (await ReceivedAsync(alice)).Last(e => e.LocalName == "presence");
        Assert.Equal("unavailable", left.GetAttribute("type"));
        Assert.Equal(Room + "/Carol", left.GetAttribute("from"));
    }

    [Fact]
    public async Task Xep0045_8_and_9_kick_ban_members_only_and_a_persistent_room_after_a_restart()
    {
        var data = Path.Combine(Path.GetTempPath(), "parley-muc-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["Storage"] = "sqlite", ["DataDirectory"] = data };
        try
        {
            await using (var server = await TestServer.StartAsync(settings))
            {
                var (alice, bob) = await RoomWithTwoAsync(server);
                await using var _ = alice;
                await using var __ = bob;
                // §8.2: kick.
                Assert.Equal("result", (await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("nick", "Bob").SetAttribute("role", "none")))).GetAttribute("type"));
                var kicked = (await ReceivedAsync(bob)).Single(e => e.LocalName == "presence");
                Assert.Equal(["110", "307"], Codes(kicked));
                // §9.1: ban; the banned account cannot come back.
                await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "bob@example.test").SetAttribute("affiliation", "outcast")));
                await bob.SendAsync(Join("Bobby"));
                Assert.NotNull((await ReceivedAsync(bob)).Single().Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
                // §10.2: members-only and persistent.
                Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_membersonly", "1"), ("muc#roomconfig_persistentroom", "1"), ("muc#roomconfig_roomname", "The Team"))))).GetAttribute("type"));
                await using var carol = await server.LoginAsync("carol");
                await carol.SendAsync(Join("Carol"));
                Assert.NotNull((await ReceivedAsync(carol)).Single().Child("error", Ns.Client)?.Child("registration-required", Ns.Stanzas));
                await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "carol@example.test").SetAttribute("affiliation", "member")));
                // §9.8: the moderator list (alice is the only occupant left).
                var moderators = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room)
                    .Add(new Element("query", Muc + "#admin").Add(new Element("item", Muc + "#admin").SetAttribute("role", "moderator"))));
                Assert.Contains("nick='Alice'", moderators.ToString(), StringComparison.Ordinal);
                var members = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room)
                    .Add(new Element("query", Muc + "#admin").Add(new Element("item", Muc + "#admin").SetAttribute("affiliation", "member"))));
                Assert.Contains("jid='carol@example.test'", members.ToString(), StringComparison.Ordinal);
            }
            await using (var server = await TestServer.StartAsync(settings))
            {
                await using var carol = await server.LoginAsync("carol");
                var info = await carol.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room).Add(new Element("query", Ns.DiscoInfo)));
                var text = info.ToString();
                Assert.Contains("name='The Team'", text, StringComparison.Ordinal);
                Assert.Contains("var='muc_membersonly'", text, StringComparison.Ordinal);
                Assert.Contains("var='muc_persistent'", text, StringComparison.Ordinal);
                await carol.SendAsync(Join("Carol"));
                Assert.Contains(await ReceivedAsync(carol), e => e.LocalName == "presence" && Codes(e).Contains("110"));
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Xep0313_the_room_archive_pages_and_xep0421_occupant_ids_are_stable()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        for (var i = 0; i < 5; i++) await bob.SendAsync(Groupchat("m" + i));
        var atAlice = (await ReceivedAsync(bob)).FindAll(e => e.LocalName == "message");
        Assert.Equal(5, atAlice.Count);
        var ids = atAlice.ConvertAll(m => m.Child("occupant-id", "urn:xmpp:occupant-id:0")!.GetAttribute("id"));
        Assert.Single(ids.Distinct());

        var info = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room).Add(new Element("query", Ns.DiscoInfo)));
        Assert.Contains($"var='{Ns.Mam}'", info.ToString(), StringComparison.Ordinal);

        var rsm = "http://jabber.org/protocol/rsm";
        var query = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room)
            .Add(new Element("query", Ns.Mam).SetAttribute("queryid", "r1").Add(new Element("set", rsm).Add(new Element("max", rsm).AddText("2")).Add(new Element("before", rsm))));
        var fin = await alice.RequestAsync(query);
        var results = (await ReceivedAsync(alice)).FindAll(e => e.Child("result", Ns.Mam) is not null);
        Assert.Equal(["m3", "m4"], results.ConvertAll(r => r.Child("result", Ns.Mam)!.Child("forwarded", Ns.Forward)!.Child("message", Ns.Client)!.ChildText("body", Ns.Client)!));
        Assert.Equal(Room, results[0].GetAttribute("from"));
        Assert.Equal(Room + "/Bob", results[0].Child("result", Ns.Mam)!.Child("forwarded", Ns.Forward)!.Child("message", Ns.Client)!.GetAttribute("from"));
        Assert.Equal("5", fin.Child("fin", Ns.Mam)!.Child("set", rsm)!.ChildText("count", rsm));
        // The archive id is the stanza-id the occupants saw.
        Assert.Equal(atAlice[4].Child("stanza-id", Ns.StanzaId)!.GetAttribute("id"), results[1].Child("result", Ns.Mam)!.GetAttribute("id"));
    }

    [Fact]
    public async Task Muc_ArchiveByDefault_false_makes_rooms_without_an_archive_until_the_owner_turns_logging_on()
    {
        await using var server = await TestServer.StartAsync(new() { ["Muc:ArchiveByDefault"] = "false" });
        await using var alice = await server.LoginAsync("alice");
        await alice.SendAsync(Join("Alice"));
        var created = (await ReceivedAsync(alice)).Single(e => e.LocalName == "presence");
        // §10.2.1 status 170 (the room is logged) is missing.
        Assert.Equal(["110", "201"], Codes(created));
        var form = await alice.RequestAsync(Get(Room, new Element("query", Owner)));
        Assert.Equal("0", LoggingField(form));

        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_enablelogging", "1"))))).GetAttribute("type"));
        Assert.Equal("1", LoggingField(await alice.RequestAsync(Get(Room, new Element("query", Owner)))));

        static string? LoggingField(Element reply)
        {
            foreach (var field in reply.Child("query", Owner)!.Child("x", Ns.DataForms)!.Children)
                if (field.GetAttribute("var") == "muc#roomconfig_enablelogging") return field.ChildText("value", Ns.DataForms);
            return null;
        }
    }

    [Fact]
    public async Task Xep0045_7_8_2_mediated_invitations_and_declines_10_2_1_config_change_and_the_limits()
    {
        await using var server = await TestServer.StartAsync(new() { ["Muc:MessagesPerMinute"] = "3", ["Muc:MaxRoomsPerAccount"] = "1" });
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        // Invitations go to bare JIDs: the invitee and the inviter are online (available).
        await carol.SendAsync(new Element("presence", Ns.Client));
        await alice.SendAsync(new Element("presence", Ns.Client));
        await ReceivedAsync(carol);
        await ReceivedAsync(alice);

        // An invitation through the room, and its decline.
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room)
            .Add(new Element("x", User).Add(new Element("invite", User).SetAttribute("to", "carol@example.test").Add(new Element("reason", User).AddText("join us")))));
        await ReceivedAsync(alice);
        var invitation = (await ReceivedAsync(carol)).Single();
        Assert.Equal(Room, invitation.GetAttribute("from"));
        Assert.Equal("alice@example.test", invitation.Child("x", User)!.Child("invite", User)!.GetAttribute("from"));
        await carol.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room)
            .Add(new Element("x", User).Add(new Element("decline", User).SetAttribute("to", "alice@example.test").Add(new Element("reason", User).AddText("busy")))));
        await ReceivedAsync(carol);
        var declined = (await ReceivedAsync(alice)).Single();
        Assert.Equal("carol@example.test", declined.Child("x", User)!.Child("decline", User)!.GetAttribute("from"));

        // §10.2.1: occupants learn that the configuration changed.
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_roomname", "Renamed"))));
        Assert.Contains((await ReceivedAsync(bob)), m => m.Child("x", User)?.Child("status", User)?.GetAttribute("code") == "104");

        // Limits: messages per minute, rooms per account; history maxchars=0 sends none.
        for (var i = 0; i < 4; i++) await bob.SendAsync(Groupchat("n" + i));
        Assert.Contains(await ReceivedAsync(bob), m => m.GetAttribute("type") == "error" && m.Child("error", Ns.Client)?.Child("policy-violation", Ns.Stanzas) is not null);
        await alice.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", "second@conference.example.test/Alice").Add(new Element("x", Muc)));
        Assert.Contains(await ReceivedAsync(alice), p => p.Child("error", Ns.Client)?.Child("resource-constraint", Ns.Stanzas) is not null);
        await carol.SendAsync(Join("Carol", new Element("history", Muc).SetAttribute("maxchars", "0")));
        Assert.DoesNotContain(await ReceivedAsync(carol), m => m.ChildText("body", Ns.Client) is not null);
    }

    [Fact]
    public async Task Xep0425_a_moderator_retracts_a_message_and_xep0424_an_author_retracts_their_own_and_the_archive_keeps_tombstones()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await bob.SendAsync(Groupchat("buy potions"));
        await bob.SendAsync(Groupchat("oops, typo"));
        var sent = (await ReceivedAsync(bob)).FindAll(m => m.LocalName == "message");
        var spam = sent[0].Child("stanza-id", Ns.StanzaId)!.GetAttribute("id")!;
        var typo = sent[1].Child("stanza-id", Ns.StanzaId)!.GetAttribute("id")!;
        await ReceivedAsync(alice);

        // A participant may not moderate.
        var moderate = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room)
            .Add(new Element("moderate", "urn:xmpp:message-moderate:1").SetAttribute("id", spam)
                .Add(new Element("retract", "urn:xmpp:message-retract:1")).Add(new Element("reason", "urn:xmpp:message-moderate:1").AddText("spam")));
        Assert.NotNull((await bob.RequestAsync(moderate)).Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
        Assert.Equal("result", (await alice.RequestAsync(moderate)).GetAttribute("type"));
        var notice = (await ReceivedAsync(bob)).Single(m => m.Child("retract", "urn:xmpp:message-retract:1") is not null);
        Assert.Equal(Room + "/Alice", notice.Child("retract", "urn:xmpp:message-retract:1")!.Child("moderated", "urn:xmpp:message-moderate:1")!.GetAttribute("by"));

        // The author retracts their own message; someone else's cannot be retracted that way.
        await bob.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).SetAttribute("type", "groupchat")
            .Add(new Element("retract", "urn:xmpp:message-retract:1").SetAttribute("id", typo)).Add(new Element("body", Ns.Client).AddText("retracted")));
        await ReceivedAsync(bob);
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).SetAttribute("type", "groupchat")
            .Add(new Element("retract", "urn:xmpp:message-retract:1").SetAttribute("id", typo)));
        Assert.Contains(await ReceivedAsync(alice), m => m.Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas) is not null);

        var query = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room).Add(new Element("query", Ns.Mam).SetAttribute("queryid", "t"));
        await alice.RequestAsync(query);
        var archived = (await ReceivedAsync(alice)).FindAll(e => e.Child("result", Ns.Mam) is not null)
            .ConvertAll(r => r.Child("result", Ns.Mam)!.Child("forwarded", Ns.Forward)!.Child("message", Ns.Client)!);
        Assert.Null(archived[0].Child("body", Ns.Client));
        Assert.Equal("spam", archived[0].Child("retracted", "urn:xmpp:message-retract:1")!.ChildText("reason", "urn:xmpp:message-retract:1"));
        Assert.NotNull(archived[0].Child("retracted", "urn:xmpp:message-retract:1")!.Child("moderated", "urn:xmpp:message-moderate:1"));
        Assert.NotNull(archived[1].Child("retracted", "urn:xmpp:message-retract:1"));
        Assert.Null(archived[1].Child("body", Ns.Client));
    }

    [Fact]
    public async Task Xep0045_7_10_registration_reserves_a_nick_7_13_voice_requests_and_6_3_rooms_paged()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        var register = new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room)
            .Add(new Element("query", Ns.Register).Add(new Element("x", Ns.DataForms).SetAttribute("type", "submit")
                .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(Muc + "#register")))
                .Add(new Element("field", Ns.DataForms).SetAttribute("var", "muc#register_roomnick").Add(new Element("value", Ns.DataForms).AddText("thirdwitch")))));
        Assert.Equal("result", (await carol.RequestAsync(register)).GetAttribute("type"));
        var nick = await carol.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room)
            .Add(new Element("query", Ns.DiscoInfo).SetAttribute("node", "x-roomuser-item")));
        Assert.Contains("name='thirdwitch'", nick.ToString(), StringComparison.Ordinal);
        await using var mallory = await server.LoginAsync("mallory");
        await mallory.SendAsync(Join("thirdwitch"));
        Assert.NotNull((await ReceivedAsync(mallory)).Single().Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas));

        // §7.13: a visitor in a moderated room asks for voice; the moderator approves.
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_moderatedroom", "1"))));
        await mallory.SendAsync(Join("Mallory"));
        await ReceivedAsync(mallory);
        await ReceivedAsync(alice);
        await mallory.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).Add(new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(Muc + "#request")))
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "muc#role").Add(new Element("value", Ns.DataForms).AddText("participant")))));
        await ReceivedAsync(mallory);
        var request = (await ReceivedAsync(alice)).Single(m => m.Child("x", Ns.DataForms) is not null).Child("x", Ns.DataForms)!;
        Assert.Contains("<value>Mallory</value>", request.ToString(), StringComparison.Ordinal);
        var approval = new Element("x", Ns.DataForms).SetAttribute("type", "submit");
        foreach (var (v, value) in new[] { ("FORM_TYPE", Muc + "#request"), ("muc#role", "participant"), ("muc#roomnick", "Mallory"), ("muc#request_allow", "true") })
            approval.Add(new Element("field", Ns.DataForms).SetAttribute("var", v).Add(new Element("value", Ns.DataForms).AddText(value)));
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).Add(approval));
        await ReceivedAsync(alice);
        var voiced = (await ReceivedAsync(mallory)).Last(p => p.LocalName == "presence");
        Assert.Equal("participant", voiced.Child("x", User)!.Child("item", User)!.GetAttribute("role"));

        // §6.3 with XEP-0059: the public rooms, a page at a time.
        await alice.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", "other@conference.example.test/Alice").Add(new Element("x", Muc)));
        await ReceivedAsync(alice);
        await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", "other@conference.example.test")
            .Add(new Element("query", Muc + "#owner").Add(new Element("x", Ns.DataForms).SetAttribute("type", "submit"))));
        var rsm = "http://jabber.org/protocol/rsm";
        var page = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", "conference.example.test")
            .Add(new Element("query", Ns.DiscoItems).Add(new Element("set", rsm).Add(new Element("max", rsm).AddText("1")))));
        var query = page.Child("query", Ns.DiscoItems)!;
        Assert.Equal("other@conference.example.test", query.Child("item", Ns.DiscoItems)!.GetAttribute("jid"));
        Assert.Equal("2", query.Child("set", rsm)!.ChildText("count", rsm));
        var next = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", "conference.example.test")
            .Add(new Element("query", Ns.DiscoItems).Add(new Element("set", rsm).Add(new Element("max", rsm).AddText("1")).Add(new Element("after", rsm).AddText("other@conference.example.test")))));
        Assert.Equal(Room, next.Child("query", Ns.DiscoItems)!.Child("item", Ns.DiscoItems)!.GetAttribute("jid"));
    }

    [Fact]
    public async Task Xep0045_10_2_more_configuration_fields_take_effect_and_room_creation_can_be_restricted()
    {
        await using var server = await TestServer.StartAsync(new() { ["Muc:CreateRooms"] = "admins", ["Admins:0"] = "alice@example.test" });
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        var form = (await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room).Add(new Element("query", Muc + "#owner")))).ToString();
        foreach (var field in new[] { "muc#roomconfig_presencebroadcast", "muc#roomconfig_historylength", "muc#roomconfig_roomowners", "muc#roomconfig_allowinvites", "muc#roomconfig_getmemberlist" })
            Assert.Contains($"var='{field}'", form, StringComparison.Ordinal);
        Assert.NotNull((await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_historylength", "lots"))))).Child("error", Ns.Client)?.Child("not-acceptable", Ns.Stanzas));

        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_historylength", "1"), ("muc#roomconfig_presencebroadcast", "moderator"))))).GetAttribute("type"));
        await ReceivedAsync(bob);
        await bob.SendAsync(Groupchat("first"));
        await bob.SendAsync(Groupchat("second"));
        await ReceivedAsync(bob);
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join("Carol"));
        var entry = await ReceivedAsync(carol);
        Assert.Equal(["second"], entry.FindAll(m => m.ChildText("body", Ns.Client) is not null).ConvertAll(m => m.ChildText("body", Ns.Client)!));
        // Participants' presence is not broadcast: carol sees the moderator, not bob.
        Assert.DoesNotContain(entry, p => p.LocalName == "presence" && p.GetAttribute("from") == Room + "/Bob");
        Assert.Contains(entry, p => p.GetAttribute("from") == Room + "/Alice");

        // Only the configured admins create rooms.
        await bob.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", "bobs@conference.example.test/Bob").Add(new Element("x", Muc)));
        Assert.Contains(await ReceivedAsync(bob), p => p.Child("error", Ns.Client)?.Child("not-allowed", Ns.Stanzas) is not null);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Xep0045_an_occupant_whose_client_disappears_leaves_the_room(bool broadcastPresenceFirst)
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        if (broadcastPresenceFirst)
        {
            await bob.SendAsync(new Element("presence", Ns.Client));
            await ReceivedAsync(bob);
        }
        await bob.DisposeAsync();           // the connection goes away without leaving the room
        using var timeout = new CancellationTokenSource(5000);
        Element left;
        do left = await alice.ReceiveAsync(timeout.Token);
        while (left.GetAttribute("from") != Room + "/Bob");
        Assert.Equal("unavailable", left.GetAttribute("type"));
    }

    [Fact]
    public async Task Xep0045_occupants_hear_status_332_when_the_service_shuts_down()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await server.Server.StopAsync();
        var seen = new List<Element>();
        using var timeout = new CancellationTokenSource(5000);
        try
        {
            while (true) seen.Add(await alice.ReceiveAsync(timeout.Token));
        }
        catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException or InvalidOperationException)
        {
            // The stream closed.
        }
        Assert.Contains(seen, p => p.LocalName == "presence" && p.GetAttribute("from") == Room + "/Alice" && Codes(p).Contains("332"));
    }

    [Fact]
    public async Task Xep0045_7_2_6_passwords_7_2_4_non_anonymous_rooms_multi_session_nicks_and_10_9_destruction_with_a_venue()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_passwordprotectedroom", "1"), ("muc#roomconfig_roomsecret", "cauldron"), ("muc#roomconfig_whois", "anyone"))))).GetAttribute("type"));
        await ReceivedAsync(bob);
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join("Carol"));
        // Example 29: the error comes from the occupant JID, echoes <x/>, and names the room in 'by'.
        var refused = (await ReceivedAsync(carol)).Single();
        Assert.Equal((Room + "/Carol", "error"), (refused.GetAttribute("from"), refused.GetAttribute("type")));
        Assert.NotNull(refused.Child("x", Muc));
        Assert.Equal(Room, refused.Child("error", Ns.Client)?.GetAttribute("by"));
        Assert.NotNull(refused.Child("error", Ns.Client)?.Child("not-authorized", Ns.Stanzas));
        await carol.SendAsync(Join("Carol", new Element("password", Muc).AddText("cauldron")));
        var entry = await ReceivedAsync(carol);
        var self = entry.Single(p => p.GetAttribute("from") == Room + "/Carol");
        Assert.Contains("100", Codes(self));             // non-anonymous: everyone sees real JIDs
        Assert.Equal(bob.BoundJid.ToString(), entry.Single(p => p.GetAttribute("from") == Room + "/Bob").Child("x", User)!.Child("item", User)!.GetAttribute("jid"));

        // Two resources of one account under one nick: both get the room's messages.
        await using var carol2 = await server.LoginAsync("carol", "second");
        await carol2.SendAsync(Join("Carol", new Element("password", Muc).AddText("cauldron")));
        Assert.Contains("110", Codes((await ReceivedAsync(carol2)).Single(p => p.LocalName == "presence")));
        await bob.SendAsync(Groupchat("to both carols"));
        await ReceivedAsync(bob);
        Assert.Contains(await ReceivedAsync(carol), m => m.ChildText("body", Ns.Client) == "to both carols");
        Assert.Contains(await ReceivedAsync(carol2), m => m.ChildText("body", Ns.Client) == "to both carols");

        // §10.9: the owner destroys the room and names another.
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(new Element("destroy", Muc + "#owner").SetAttribute("jid", "new@conference.example.test")
            .Add(new Element("reason", Muc + "#owner").AddText("moving"))))).GetAttribute("type"));
        var gone = (await ReceivedAsync(bob)).Last(p => p.LocalName == "presence");
        Assert.Equal("unavailable", gone.GetAttribute("type"));
        var destroy = gone.Child("x", User)!.Child("destroy", User)!;
        Assert.Equal("new@conference.example.test", destroy.GetAttribute("jid"));
        Assert.Equal("moving", destroy.ChildText("reason", User));
        var info = await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room).Add(new Element("query", Ns.DiscoInfo)));
        Assert.NotNull(info.Child("error", Ns.Client)?.Child("item-not-found", Ns.Stanzas));
    }

    [Fact]
    public async Task Xep0045_9_and_10_admins_and_owners_are_granted_and_revoked_and_a_room_keeps_an_owner()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        // §7.2.1: no nickname, no entry.
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", Room).Add(new Element("x", Muc)));
        Assert.NotNull((await ReceivedAsync(carol)).Single().Child("error", Ns.Client)?.Child("jid-malformed", Ns.Stanzas));

        // §10.6: the owner makes bob an admin; bob is now a moderator and may kick, but may not make owners (§10.3: forbidden).
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "bob@example.test").SetAttribute("affiliation", "admin")))).GetAttribute("type"));
        var promoted = (await ReceivedAsync(bob)).Last(p => p.LocalName == "presence").Child("x", User)!.Child("item", User)!;
        Assert.Equal(("admin", "moderator"), (promoted.GetAttribute("affiliation"), promoted.GetAttribute("role")));
        Assert.NotNull((await bob.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "carol@example.test").SetAttribute("affiliation", "owner")))).Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas));
        // An admin may not act on the owner.
        Assert.NotNull((await bob.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("nick", "Alice").SetAttribute("role", "none")))).Child("error", Ns.Client)?.Child("not-allowed", Ns.Stanzas));
        // §10.7: the only owner cannot step down; with a second owner, she can.
        Assert.NotNull((await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "alice@example.test").SetAttribute("affiliation", "admin")))).Child("error", Ns.Client)?.Child("conflict", Ns.Stanzas));
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "bob@example.test").SetAttribute("affiliation", "owner")))).GetAttribute("type"));
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(new Element("item", Muc + "#admin").SetAttribute("jid", "alice@example.test").SetAttribute("affiliation", "member")))).GetAttribute("type"));
        var owners = await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room)
            .Add(new Element("query", Muc + "#admin").Add(new Element("item", Muc + "#admin").SetAttribute("affiliation", "owner"))));
        Assert.Contains("jid='bob@example.test'", owners.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("jid='alice@example.test'", owners.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xep0045_iqs_between_occupants_are_relayed_with_room_jids_and_vcards_come_from_the_account()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").Add(new Element("vCard", Ns.VCard).Add(new Element("FN", Ns.VCard).AddText("Bob Builder"))));
        var card = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room + "/Bob").Add(new Element("vCard", Ns.VCard)));
        Assert.Equal(Room + "/Bob", card.GetAttribute("from"));
        Assert.Equal("Bob Builder", card.Child("vCard", Ns.VCard)!.ChildText("FN", Ns.VCard));

        // Any other IQ goes to the occupant's session, from the asker's room JID; the answer comes back the same way.
        var asking = alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room + "/Bob").Add(new Element("query", "jabber:iq:version")));
        using var timeout = new CancellationTokenSource(5000);
        Element relayed;
        do relayed = await bob.ReceiveAsync(timeout.Token);
        while (relayed.LocalName != "iq");
        Assert.Equal(Room + "/Alice", relayed.GetAttribute("from"));
        await bob.SendAsync(new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", relayed.GetAttribute("id")).SetAttribute("to", Room + "/Alice")
            .Add(new Element("query", "jabber:iq:version").Add(new Element("name", "jabber:iq:version").AddText("BobClient"))));
        var answer = await asking;
        Assert.Equal(Room + "/Bob", answer.GetAttribute("from"));
        Assert.Equal("BobClient", answer.Child("query", "jabber:iq:version")!.ChildText("name", "jabber:iq:version"));

        await using var mallory = await server.LoginAsync("mallory");
        var outsider = await mallory.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room + "/Bob").Add(new Element("vCard", Ns.VCard)));
        Assert.NotNull(outsider.Child("error", Ns.Client)?.Child("not-acceptable", Ns.Stanzas));
    }

    [Fact]
    public async Task Xep0045_an_occupant_whose_session_bounces_the_room_traffic_is_removed_with_333()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        // Bob's client answers a room message with an error, as a client or server that lost the session does.
        await bob.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room + "/Alice").SetAttribute("type", "error")
            .Add(new Element("error", Ns.Client).SetAttribute("type", "cancel").Add(new Element("service-unavailable", Ns.Stanzas))));
        await ReceivedAsync(bob);
        var removed = (await ReceivedAsync(alice)).Single(p => p.LocalName == "presence");
        Assert.Equal(Room + "/Bob", removed.GetAttribute("from"));
        Assert.Equal(["333"], Codes(removed));
    }

    [Fact]
    public async Task Xep0045_10_2_the_prosody_and_ejabberd_fields_for_visitors_lists_and_voice_take_effect()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        Assert.NotNull((await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_captcha_protected", "1"))))).Child("error", Ns.Client)?.Child("not-acceptable", Ns.Stanzas));
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_moderatedroom", "1"), ("muc#roomconfig_public_list", "0"),
            ("muc#roomconfig_allow_private_messages_from_visitors", "nobody"), ("muc#roomconfig_allowvisitornickchange", "0"), ("muc#roomconfig_voicerequestmininterval", "3600"))))).GetAttribute("type"));
        await ReceivedAsync(bob);
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join("Carol"));
        Assert.Equal("visitor", (await ReceivedAsync(carol)).Single(p => p.GetAttribute("from") == Room + "/Carol").Child("x", User)!.Child("item", User)!.GetAttribute("role"));
        // A visitor may not send private messages or change nick here.
        await carol.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room + "/Bob").SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText("hi")));
        Assert.Contains(await ReceivedAsync(carol), m => m.Child("error", Ns.Client)?.Child("forbidden", Ns.Stanzas) is not null);
        await carol.SendAsync(new Element("presence", Ns.Client).SetAttribute("to", Room + "/Caroline"));
        Assert.Contains(await ReceivedAsync(carol), m => m.Child("error", Ns.Client)?.Child("not-allowed", Ns.Stanzas) is not null);
        // One voice request per interval.
        var ask = new Element("message", Ns.Client).SetAttribute("to", Room).Add(new Element("x", Ns.DataForms).SetAttribute("type", "submit")
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "FORM_TYPE").Add(new Element("value", Ns.DataForms).AddText(Muc + "#request")))
            .Add(new Element("field", Ns.DataForms).SetAttribute("var", "muc#role").Add(new Element("value", Ns.DataForms).AddText("participant"))));
        await carol.SendAsync(ask);
        await carol.SendAsync(ask.Clone());
        Assert.Contains(await ReceivedAsync(carol), m => m.Child("error", Ns.Client)?.Child("resource-constraint", Ns.Stanzas) is not null);
        // The occupant list is not public: an outsider sees no items, an occupant does.
        await using var mallory = await server.LoginAsync("mallory");
        var outside = await mallory.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room).Add(new Element("query", Ns.DiscoItems)));
        Assert.Equal(0, outside.Child("query", Ns.DiscoItems)!.ChildCount);
        var inside = await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", Room).Add(new Element("query", Ns.DiscoItems)));
        Assert.Equal(3, inside.Child("query", Ns.DiscoItems)!.ChildCount);
    }
}
