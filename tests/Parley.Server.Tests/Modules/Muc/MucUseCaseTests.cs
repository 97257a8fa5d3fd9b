using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using static Parley.Server.Tests.Modules.Muc.MucHarness;

namespace Parley.Server.Tests.Modules.Muc;

/// <summary>One transcript per XEP-0045 use case a client triggers (section numbers in the names), asserting what the XEP's examples show.</summary>
public sealed class MucUseCaseTests
{
    // The namespaces Parley.Server.Tests.Modules.Muc and .Admin would hide the harness's constants.
    private const string Muc = MucHarness.Muc;
    private const string Admin = MucHarness.Admin;

    private static List<string> Features(Element info)
    {
        var list = new List<string>();
        foreach (var f in info.Child("query", Ns.DiscoInfo)!.Children)
            if (f.LocalName == "feature") list.Add(f.GetAttribute("var")!);
        return list;
    }

    private static List<Element> Kids(Element parent)
    {
        var list = new List<Element>();
        foreach (var c in parent.Children) list.Add(c);
        return list;
    }

    private static string? FieldValue(Element form, string var)
    {
        foreach (var f in form.Children)
            if (f.LocalName == "field" && f.GetAttribute("var") == var) return f.ChildText("value", Ns.DataForms);
        return null;
    }

    private static Element Presence(string to, string? type = null)
    {
        var p = new Element("presence", Ns.Client).SetAttribute("to", to);
        return type is null ? p : p.SetAttribute("type", type);
    }

    private static Element Subject(string text) =>
        new Element("message", Ns.Client).SetAttribute("to", Room).SetAttribute("type", "groupchat").Add(new Element("subject", Ns.Client).AddText(text));

    [Theory]
    [InlineData("  Carol  ", "Carol")]              // RFC 8266 §2.1 rule 2b: no leading or trailing spaces
    [InlineData("Dark   Wizard", "Dark Wizard")]     // rule 2c: one space between words
    [InlineData("Carol\u2003Two", "Carol Two")]      // rule 2a: a non-ASCII space is a space
    [InlineData("Carol \u2163", "Carol IV")]         // rule 4: NFKC
    public async Task Xep0045_7_2_the_service_enforces_the_nickname_profile_and_says_so_with_210(string asked, string given)
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join(asked));
        var self = (await ReceivedAsync(carol)).Single(p => p.LocalName == "presence" && Codes(p).Contains("110"));
        Assert.Equal(Room + "/" + given, self.GetAttribute("from"));
        Assert.Equal(["110", "170", "210"], Codes(self));
        // The others see the enforced nick, without 210.
        var atBob = (await ReceivedAsync(bob)).Single(p => p.LocalName == "presence");
        Assert.Equal(Room + "/" + given, atBob.GetAttribute("from"));
        Assert.Empty(Codes(atBob));
        // A nick already in its enforced form gets no 210.
        Assert.DoesNotContain("210", Codes((await ReceivedAsync(alice)).Single(p => p.LocalName == "presence")));
    }

    [Fact]
    public async Task Xep0045_7_2_8_nicks_that_compare_equal_under_rfc_8266_conflict_and_empty_nicks_are_refused()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        // §7.2.8 (Example 29): another user's nick, also with other case or spaces, is a conflict of type cancel.
        foreach (var nick in new[] { "Bob", "bob", " Bob ", "BOB" })
        {
            await carol.SendAsync(Join(nick).SetAttribute("id", "n13mt3l"));
            var error = (await ReceivedAsync(carol)).Single();
            Assert.Equal(("presence", "n13mt3l"), (error.LocalName, error.GetAttribute("id")));
            Assert.Equal(("cancel", "conflict"), ErrorOf(error));
        }
        // §17.1: no empty or invisible nicks.
        await carol.SendAsync(Join("   "));
        Assert.Equal(("modify", "jid-malformed"), ErrorOf((await ReceivedAsync(carol)).Single()));
        // A character outside the FreeformClass (private use; control characters cannot even be written in XML) makes
        // no JID at all: RFC 7622 resourceparts refuse it as the Nickname profile does.
        await carol.SendAsync(Join("Car\uE000ol"));
        Assert.Equal("jid-malformed", ErrorOf((await ReceivedAsync(carol)).Single()).Condition);

        // §7.6: a nick change to another's nick is a conflict; to an unenforced nick gives the enforced one with 210.
        await bob.SendAsync(Presence(Room + "/alice"));
        Assert.Equal(("cancel", "conflict"), ErrorOf((await ReceivedAsync(bob)).Single()));
        await bob.SendAsync(Presence(Room + "/ Robert  the  Builder "));
        var changed = await ReceivedAsync(bob);
        var gone = changed.Single(p => p.GetAttribute("type") == "unavailable");
        Assert.Equal(["303", "110"], Codes(gone));
        Assert.Equal("Robert the Builder", UserItem(gone).GetAttribute("nick"));
        var back = changed.Single(p => p.LocalName == "presence" && p.GetAttribute("type") is null);
        Assert.Equal(Room + "/Robert the Builder", back.GetAttribute("from"));
        Assert.Equal(["110", "210"], Codes(back));
        Assert.Empty(Codes((await ReceivedAsync(alice)).Last(p => p.LocalName == "presence")));
    }

    [Fact]
    public async Task Xep0045_6_1_and_6_2_the_service_is_listed_by_the_server_with_the_conference_identity_and_muc_feature()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var items = await alice.RequestAsync(Get(TestServer.Domain, new Element("query", Ns.DiscoItems)));
        Assert.Contains(Kids(items.Child("query", Ns.DiscoItems)!), i => i.GetAttribute("jid") == Service);
        var info = await alice.RequestAsync(Get(Service, new Element("query", Ns.DiscoInfo)));
        Assert.Equal(("result", Service), (info.GetAttribute("type"), info.GetAttribute("from")));
        var identity = info.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!;
        Assert.Equal(("conference", "text"), (identity.GetAttribute("category"), identity.GetAttribute("type")));
        Assert.Contains(Muc, Features(info));
        Assert.Contains(Muc + "#stable_id", Features(info));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Xep0045_6_4_room_information_names_the_room_type_and_carries_the_roominfo_form(bool flipped)
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        var on = flipped ? "1" : "0";
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_roomname", "A Dark Cave"), ("muc#roomconfig_roomdesc", "The place for all good witches!"),
            ("muc#roomconfig_membersonly", on), ("muc#roomconfig_passwordprotectedroom", on), ("muc#roomconfig_roomsecret", "cauldronburn"),
            ("muc#roomconfig_persistentroom", on), ("muc#roomconfig_publicroom", flipped ? "0" : "1"), ("muc#roomconfig_moderatedroom", on),
            ("muc#roomconfig_whois", flipped ? "anyone" : "moderators"), ("muc#roomconfig_lang", "en"))))).GetAttribute("type"));
        await using var carol = await server.LoginAsync("carol");
        var info = await carol.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)));
        var identity = info.Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!;
        Assert.Equal(("conference", "text", "A Dark Cave"), (identity.GetAttribute("category"), identity.GetAttribute("type"), identity.GetAttribute("name")));
        var features = Features(info);
        Assert.Contains(Muc, features);
        string[] expected = flipped
            ? ["muc_membersonly", "muc_passwordprotected", "muc_persistent", "muc_hidden", "muc_moderated", "muc_nonanonymous"]
            : ["muc_open", "muc_unsecured", "muc_temporary", "muc_public", "muc_unmoderated", "muc_semianonymous"];
        string[] opposite = flipped
            ? ["muc_open", "muc_unsecured", "muc_temporary", "muc_public", "muc_unmoderated", "muc_semianonymous"]
            : ["muc_membersonly", "muc_passwordprotected", "muc_persistent", "muc_hidden", "muc_moderated", "muc_nonanonymous"];
        foreach (var f in expected) Assert.Contains(f, features);
        foreach (var f in opposite) Assert.DoesNotContain(f, features);
        // XEP-0128: the muc#roominfo form with a hidden FORM_TYPE.
        var form = info.Child("query", Ns.DiscoInfo)!.Child("x", Ns.DataForms)!;
        Assert.Equal("result", form.GetAttribute("type"));
        var formType = Kids(form).Single(f => f.GetAttribute("var") == "FORM_TYPE");
        Assert.Equal(("hidden", Muc + "#roominfo"), (formType.GetAttribute("type"), formType.ChildText("value", Ns.DataForms)));
        Assert.Equal("The place for all good witches!", FieldValue(form, "muc#roominfo_description"));
        Assert.Equal(flipped ? "1" : "2", FieldValue(form, "muc#roominfo_occupants"));     // members-only removed bob
        Assert.Equal("en", FieldValue(form, "muc#roominfo_lang"));
    }

    [Fact]
    public async Task Xep0045_6_5_room_items_are_private_by_default_and_6_6_a_non_occupant_may_not_query_an_occupant()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        // Example 13: an empty <query/> when the occupant list is private (the default the XEP advises).
        var hidden = await carol.RequestAsync(Get(Room, new Element("query", Ns.DiscoItems)));
        Assert.Equal("result", hidden.GetAttribute("type"));
        Assert.Equal(0, hidden.Child("query", Ns.DiscoItems)!.ChildCount);
        // Example 12: occupant JIDs only, once the room makes the list public.
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_public_list", "1"))));
        var listed = await carol.RequestAsync(Get(Room, new Element("query", Ns.DiscoItems)));
        var jids = Kids(listed.Child("query", Ns.DiscoItems)!).Select(i => i.GetAttribute("jid")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([Room + "/Alice", Room + "/Bob"], jids);
        Assert.All(Kids(listed.Child("query", Ns.DiscoItems)!), i => Assert.Null(i.GetAttribute("role")));
        // §6.6: a disco request from a non-occupant to an occupant JID is a bad request.
        var asked = await carol.RequestAsync(Get(Room + "/Bob", new Element("query", Ns.DiscoInfo)));
        Assert.Equal("bad-request", ErrorOf(asked).Condition);
    }

    [Fact]
    public async Task Xep0045_7_2_10_a_locked_room_is_item_not_found_for_others_until_configured()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await using var bob = await server.LoginAsync("bob");
        await alice.SendAsync(Join("Alice"));
        await ReceivedAsync(alice);
        await bob.SendAsync(Join("Bob").SetAttribute("id", "n13mt3l"));
        var refused = (await ReceivedAsync(bob)).Single();
        Assert.Equal((Room + "/Bob", "error"), (refused.GetAttribute("from"), refused.GetAttribute("type")));
        Assert.Equal(("cancel", "item-not-found"), ErrorOf(refused));
        // Not listed while locked (§6.3).
        var rooms = await bob.RequestAsync(Get(Service, new Element("query", Ns.DiscoItems)));
        Assert.DoesNotContain(Kids(rooms.Child("query", Ns.DiscoItems)!), i => i.GetAttribute("jid") == Room);
        await alice.RequestAsync(OwnerIq(new Element("x", Ns.DataForms).SetAttribute("type", "submit")));
        await bob.SendAsync(Join("Bob"));
        Assert.Contains(await ReceivedAsync(bob), p => Codes(p).Contains("110"));
    }

    [Fact]
    public async Task Xep0045_7_2_11_a_nonexistent_room_is_not_created_when_room_creation_is_restricted()
    {
        await using var server = await TestServer.StartAsync(new() { ["Muc:CreateRooms"] = "admins", ["Admins:0"] = "alice@example.test" });
        await using var bob = await server.LoginAsync("bob");
        await bob.SendAsync(Join("Bob"));
        Assert.Equal(("cancel", "not-allowed"), ErrorOf((await ReceivedAsync(bob)).Single()));
        // Nothing was created.
        var info = await bob.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)));
        Assert.Equal("item-not-found", ErrorOf(info).Condition);
    }

    [Fact]
    public async Task Xep0045_7_2_18_presence_without_x_from_a_non_occupant_is_answered_with_a_kick()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Presence(Room + "/thirdwitch").SetAttribute("id", "ng91xs69"));
        // Example 43.
        var kick = (await ReceivedAsync(carol)).Single();
        Assert.Equal((Room + "/thirdwitch", "unavailable"), (kick.GetAttribute("from"), kick.GetAttribute("type")));
        Assert.Equal(("none", "none"), (UserItem(kick).GetAttribute("affiliation"), UserItem(kick).GetAttribute("role")));
        Assert.Equal(["110", "307", "333"], Codes(kick));
        // Carol did not enter: the others heard nothing, and an occupant's own presence update without <x/> is no entry either.
        Assert.Empty(await ReceivedAsync(alice));
        await bob.SendAsync(Presence(Room + "/Bob").Add(new Element("show", Ns.Client).AddText("away")));
        // The room's broadcast and alice's own marker travel different paths: wait for the presence itself.
        using var timeout = new CancellationTokenSource(5000);
        var update = await alice.ReceiveAsync(timeout.Token);
        Assert.Equal((Room + "/Bob", "away"), (update.GetAttribute("from"), update.ChildText("show", Ns.Client)));
    }

    [Fact]
    public async Task Xep0045_7_2_9_a_full_room_is_service_unavailable_except_for_admins_and_owners()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_maxusers", "2"))))).GetAttribute("type"));
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join("Carol"));
        // Example 30.
        Assert.Equal(("wait", "service-unavailable"), ErrorOf((await ReceivedAsync(carol)).Single()));
        await alice.RequestAsync(AdminIq(Item(("jid", "carol@example.test"), ("affiliation", "admin"))));
        await carol.SendAsync(Join("Carol"));
        Assert.Contains(await ReceivedAsync(carol), p => Codes(p).Contains("110"));
    }

    [Fact]
    public async Task Xep0045_7_3_and_8_1_participants_change_the_subject_only_when_the_room_allows_moderators_always()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        // Example 91 (§8.1): a participant in a room that does not allow it gets forbidden, and nothing is reflected.
        await bob.SendAsync(Subject("Fire Burn and Cauldron Bubble!").SetAttribute("id", "lh2bs617"));
        var refused = (await ReceivedAsync(bob)).Single();
        Assert.Equal(("message", "lh2bs617"), (refused.LocalName, refused.GetAttribute("id")));
        Assert.Equal(("auth", "forbidden"), ErrorOf(refused));
        Assert.Empty(await ReceivedAsync(alice));
        // §8.1: the moderator changes it; everyone gets a groupchat message from her nick with only the subject.
        await alice.SendAsync(Subject("Fire Burn and Cauldron Bubble!"));
        await ReceivedAsync(alice);
        var changed = (await ReceivedAsync(bob)).Single();
        Assert.Equal((Room + "/Alice", "groupchat", "Fire Burn and Cauldron Bubble!"), (changed.GetAttribute("from"), changed.GetAttribute("type"), changed.ChildText("subject", Ns.Client)));
        Assert.Null(changed.Child("body", Ns.Client));
        // §7.3: with muc#roomconfig_changesubject, a participant may.
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_changesubject", "1"))));
        await ReceivedAsync(bob);
        await ReceivedAsync(alice);
        await bob.SendAsync(Subject("Cauldron"));
        await ReceivedAsync(bob);
        Assert.Equal((Room + "/Bob", "Cauldron"), (await ReceivedAsync(alice)).Single() is var m ? (m.GetAttribute("from"), m.ChildText("subject", Ns.Client)) : default);
        // The room information shows the current subject.
        var info = await alice.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)));
        Assert.Equal("Cauldron", FieldValue(info.Child("query", Ns.DiscoInfo)!.Child("x", Ns.DataForms)!, "muc#roominfo_subject"));
    }

    [Fact]
    public async Task Xep0045_7_7_an_availability_change_is_broadcast_with_show_status_and_the_item()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await bob.SendAsync(Presence(Room + "/Bob").Add(new Element("show", Ns.Client).AddText("xa")).Add(new Element("status", Ns.Client).AddText("gone where the goblins go")));
        var self = (await ReceivedAsync(bob)).Single();
        Assert.Equal(["110"], Codes(self));
        // Example 67: the others get show and status, from the occupant JID, with the item (role and affiliation).
        var atAlice = (await ReceivedAsync(alice)).Single();
        Assert.Equal((Room + "/Bob", "xa", "gone where the goblins go"), (atAlice.GetAttribute("from"), atAlice.ChildText("show", Ns.Client), atAlice.ChildText("status", Ns.Client)));
        Assert.Equal(("none", "participant"), (UserItem(atAlice).GetAttribute("affiliation"), UserItem(atAlice).GetAttribute("role")));
    }

    [Fact]
    public async Task Xep0045_7_8_1_a_direct_invitation_reaches_the_invitee_unchanged()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        // XEP-0249: from the inviter to the invitee, not through the room.
        var invitation = new Element("message", Ns.Client).SetAttribute("to", carol.BoundJid.ToString()).SetAttribute("id", "inv1")
            .Add(new Element("x", "jabber:x:conference").SetAttribute("jid", Room).SetAttribute("password", "cauldronburn").SetAttribute("reason", "Hey Hecate, this is the place for all good witches!"));
        await alice.SendAsync(invitation);
        await ReceivedAsync(alice);
        var got = (await ReceivedAsync(carol)).Single();
        Assert.Equal((alice.BoundJid.ToString(), "inv1"), (got.GetAttribute("from"), got.GetAttribute("id")));
        var x = got.Child("x", "jabber:x:conference")!;
        Assert.Equal((Room, "cauldronburn", "Hey Hecate, this is the place for all good witches!"), (x.GetAttribute("jid"), x.GetAttribute("password"), x.GetAttribute("reason")));
    }

    [Fact]
    public async Task Xep0045_7_9_the_owner_replays_one_to_one_history_with_its_stamps_and_invites_two_with_continue()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        await using var dave = await server.LoginAsync("dave");
        // Available, so that invitations to their bare JIDs are delivered rather than stored (RFC 6121 §8.5.2).
        foreach (var c in new[] { carol, dave })
        {
            await c.SendAsync(new Element("presence", Ns.Client));
            await ReceivedAsync(c);
        }
        const string thread = "e0ffe42b28561960c6b12b944a092794b9683a38";
        // Example 62: history from the one-to-one chat, stamped by the owner.
        await alice.SendAsync(Groupchat("Thrice the brinded cat hath mew'd.")
            .Add(new Element("thread", Ns.Client).AddText(thread))
            .Add(new Element("delay", Ns.Delay).SetAttribute("from", alice.BoundJid.ToString()).SetAttribute("stamp", "2004-09-29T01:54:37Z")));
        // The room has Alice's message before Bob writes (two connections are otherwise not ordered).
        await ReceivedAsync(alice);
        // A participant cannot backdate what they say.
        await bob.SendAsync(Groupchat("I was here first").Add(new Element("delay", Ns.Delay).SetAttribute("stamp", "2001-01-01T00:00:00Z")));
        // Bob's marker returns once the room has reflected his message to alice too.
        await ReceivedAsync(bob);
        await ReceivedAsync(alice);
        // Example 63: two invitations in one message, each with the continue flag.
        static Element Invite(string to) => new Element("invite", User).SetAttribute("to", to)
            .Add(new Element("reason", User).AddText("This coven needs both wiccarocks and hag66."))
            .Add(new Element("continue", User).SetAttribute("thread", thread));
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).SetAttribute("id", "gl3s85n7")
            .Add(new Element("x", User).Add(Invite(carol.BoundJid.ToString())).Add(Invite("dave@example.test"))));
        // Alice's own marker comes back after the room has handled what she sent before it.
        Assert.Empty(await ReceivedAsync(alice));
        foreach (var invitee in new[] { carol, dave })
        {
            // Example 64: delivered from the room, continue and its thread kept.
            var got = (await ReceivedAsync(invitee)).Single();
            Assert.Equal(Room, got.GetAttribute("from"));
            var invite = got.Child("x", User)!.Child("invite", User)!;
            Assert.Equal("alice@example.test", invite.GetAttribute("from"));
            Assert.Equal(thread, invite.Child("continue", User)?.GetAttribute("thread"));
        }
        // Example 65: the history keeps the owner's stamp and gets no second delay; the participant's got the room's.
        await carol.SendAsync(Join("Carol"));
        var history = (await ReceivedAsync(carol)).Where(e => e.LocalName == "message" && e.Child("body", Ns.Client) is not null).ToList();
        Assert.Equal(2, history.Count);
        Assert.Equal("2004-09-29T01:54:37Z", Assert.Single(Delays(history[0])).GetAttribute("stamp"));
        Assert.Equal(Room, Assert.Single(Delays(history[1])).GetAttribute("from"));

        static List<Element> Delays(Element message)
        {
            var list = new List<Element>();
            foreach (var c in message.Children)
                if (c.Name == new QName(Ns.Delay, "delay")) list.Add(c);
            return list;
        }
    }

    [Fact]
    public async Task Xep0045_18_1_a_user_outside_the_room_hears_of_an_affiliation_change_with_status_101()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(new Element("presence", Ns.Client));
        await ReceivedAsync(carol);
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("jid", "carol@example.test"), ("affiliation", "member"))))).GetAttribute("type"));
        var note = (await ReceivedAsync(carol)).Single();
        Assert.Equal(Room, note.GetAttribute("from"));
        var x = note.Child("x", User)!;
        Assert.Equal(["101"], Codes(new Element("presence", Ns.Client).Add(x.Clone())));
        Assert.Equal(("carol@example.test", "member"), (x.Child("item", User)?.GetAttribute("jid"), x.Child("item", User)?.GetAttribute("affiliation")));
        // Bob is in the room: he hears it as presence, not as a message.
        Assert.DoesNotContain(await ReceivedAsync(bob), e => e.LocalName == "message");
    }

    [Fact]
    public async Task Xep0045_7_11_a_member_gets_the_member_list_when_the_room_allows_it_and_forbidden_otherwise()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "member"))));
        var memberList = Get(Room, new Element("query", Admin).Add(Item(("affiliation", "member"))));
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(memberList.Clone())));
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_getmemberlist", "participant"))));
        var list = await bob.RequestAsync(memberList.Clone());
        Assert.Equal("result", list.GetAttribute("type"));
        var item = list.Child("query", Admin)!.Child("item", Admin)!;
        Assert.Equal(("member", "bob@example.test"), (item.GetAttribute("affiliation"), item.GetAttribute("jid")));
        // Other lists stay the admins' and owners'.
        Assert.Equal("forbidden", ErrorOf(await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "outcast")))))).Condition);
    }

    [Fact]
    public async Task Xep0045_7_12_the_reserved_nick_is_discovered_at_the_x_roomuser_item_node()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        var ask = Get(Room, new Element("query", Ns.DiscoInfo).SetAttribute("node", "x-roomuser-item"));
        // No reserved nick: an empty query.
        var none = await bob.RequestAsync(ask.Clone());
        Assert.Equal(("result", "x-roomuser-item", 0), (none.GetAttribute("type"), none.Child("query", Ns.DiscoInfo)!.GetAttribute("node"), none.Child("query", Ns.DiscoInfo)!.ChildCount));
        // Registered (with the nick in its enforced form), Example 78.
        Assert.Equal("result", (await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room)
            .Add(new Element("query", Ns.Register).Add(TypedForm(Muc + "#register", ("muc#register_roomnick", " thirdwitch ")))))).GetAttribute("type"));
        var identity = (await bob.RequestAsync(ask.Clone())).Child("query", Ns.DiscoInfo)!.Child("identity", Ns.DiscoInfo)!;
        Assert.Equal(("conference", "text", "thirdwitch"), (identity.GetAttribute("category"), identity.GetAttribute("type"), identity.GetAttribute("name")));
        // §7.6: another occupant may not take a reserved nick.
        await alice.SendAsync(Presence(Room + "/ThirdWitch"));
        Assert.Equal("conflict", ErrorOf((await ReceivedAsync(alice)).Single()).Condition);
    }

    [Fact]
    public async Task Xep0045_7_14_exit_carries_the_status_text_and_the_last_occupant_leaving_destroys_a_temporary_room()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await bob.SendAsync(Presence(Room + "/Bob", "unavailable").Add(new Element("status", Ns.Client).AddText("gone where the goblins go")));
        // Example 81: self-presence with 110 and role none.
        var self = (await ReceivedAsync(bob)).Single();
        Assert.Equal(("unavailable", "none"), (self.GetAttribute("type"), UserItem(self).GetAttribute("role")));
        Assert.Equal(["110"], Codes(self));
        Assert.Equal("gone where the goblins go", self.ChildText("status", Ns.Client));
        // Example 82: the others get unavailable with role none.
        var atAlice = (await ReceivedAsync(alice)).Single();
        Assert.Equal((Room + "/Bob", "unavailable", "none"), (atAlice.GetAttribute("from"), atAlice.GetAttribute("type"), UserItem(atAlice).GetAttribute("role")));
        // The last occupant leaves a temporary room: it is gone.
        await alice.SendAsync(Presence(Room + "/Alice", "unavailable"));
        await ReceivedAsync(alice);
        Assert.Equal("item-not-found", ErrorOf(await bob.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)))).Condition);
    }

    [Fact]
    public async Task Xep0045_8_2_kicking_an_owner_is_not_allowed_and_a_participant_may_not_kick()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await JoinedAsync(server, "carol", "Carol");
        // §8: a participant is not a moderator: forbidden.
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("nick", "Carol"), ("role", "none"))))));
        // Example 93: an admin may not kick the owner.
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "admin"))));
        Assert.Equal(("cancel", "not-allowed"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("nick", "Alice"), ("role", "none"))))));
        // §17.4: an item with both a role and an affiliation is a bad request.
        Assert.Equal("bad-request", ErrorOf(await alice.RequestAsync(AdminIq(Item(("nick", "Carol"), ("role", "none"), ("affiliation", "outcast"))))).Condition);
        // The admin kicks a participant: 307 with the reason, to her and the others (Example 89, 90).
        await ReceivedAsync(carol);
        await ReceivedAsync(alice);
        var kick = Item(("nick", "Carol"), ("role", "none"));
        kick.Add(new Element("reason", Admin).AddText("Avaunt, you cullion!"));
        Assert.Equal("result", (await bob.RequestAsync(AdminIq(kick))).GetAttribute("type"));
        var kicked = (await ReceivedAsync(carol)).Single();
        Assert.Equal(["110", "307"], Codes(kicked));
        Assert.Equal("Avaunt, you cullion!", UserItem(kicked).ChildText("reason", User));
        var atAlice = (await ReceivedAsync(alice)).Single();
        Assert.Equal((Room + "/Carol", "unavailable"), (atAlice.GetAttribute("from"), atAlice.GetAttribute("type")));
        Assert.Equal(["307"], Codes(atAlice));
    }

    [Fact]
    public async Task Xep0045_8_3_to_8_5_voice_is_granted_revoked_and_listed_in_a_moderated_room()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_moderatedroom", "1"))));
        await ReceivedAsync(bob);
        await using var carol = await server.LoginAsync("carol");
        await carol.SendAsync(Join("Carol"));
        Assert.Equal("visitor", UserItem((await ReceivedAsync(carol)).Single(p => Codes(p).Contains("110"))).GetAttribute("role"));
        await ReceivedAsync(alice);
        await ReceivedAsync(bob);
        // §7.4: a visitor's message is forbidden and not reflected.
        await carol.SendAsync(Groupchat("Harpier cries"));
        Assert.Equal(("auth", "forbidden"), ErrorOf((await ReceivedAsync(carol)).Single()));
        Assert.Empty(await ReceivedAsync(bob));
        // §8.3: voice granted; everyone hears her new role.
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("nick", "Carol"), ("role", "participant"))))).GetAttribute("type"));
        Assert.Equal("participant", UserItem((await ReceivedAsync(carol)).Single()).GetAttribute("role"));
        Assert.Equal("participant", UserItem((await ReceivedAsync(bob)).Single()).GetAttribute("role"));
        // §8.5: the voice list (Example 104): nick, role, affiliation and full JID.
        var voice = await alice.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("role", "participant")))));
        var items = Kids(voice.Child("query", Admin)!).ToList();
        var carolItem = items.Single(i => i.GetAttribute("nick") == "Carol");
        Assert.Equal(("participant", "none", carol.BoundJid.ToString()), (carolItem.GetAttribute("role"), carolItem.GetAttribute("affiliation"), carolItem.GetAttribute("jid")));
        Assert.Equal("forbidden", ErrorOf(await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("role", "participant")))))).Condition);
        // §8.4 and §8.5: revoked again, for two at once.
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("nick", "Carol"), ("role", "visitor")), Item(("nick", "Bob"), ("role", "visitor"))))).GetAttribute("type"));
        Assert.Equal("visitor", UserItem((await ReceivedAsync(carol)).Last()).GetAttribute("role"));
        await carol.SendAsync(Groupchat("again"));
        Assert.Equal("forbidden", ErrorOf((await ReceivedAsync(carol)).Single()).Condition);
        // Example 102: no one revokes an owner's voice.
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "admin"))));
        Assert.Equal(("cancel", "not-allowed"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("nick", "Alice"), ("role", "visitor"))))));
    }

    [Fact]
    public async Task Xep0045_8_6_a_moderator_approves_a_voice_request_through_the_form()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_moderatedroom", "1"))));
        await ReceivedAsync(bob);
        await using var carol = await JoinedAsync(server, "carol", "Carol");
        await ReceivedAsync(alice);
        await ReceivedAsync(bob);
        await carol.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).Add(TypedForm(Muc + "#request", ("muc#role", "participant"))));
        await ReceivedAsync(carol);
        // Example 108: the moderators get the approval form from the room; participants do not.
        Assert.Empty(await ReceivedAsync(bob));
        var request = (await ReceivedAsync(alice)).Single();
        Assert.Equal(Room, request.GetAttribute("from"));
        var form = request.Child("x", Ns.DataForms)!;
        Assert.Equal("form", form.GetAttribute("type"));
        Assert.Equal((Muc + "#request", "participant", "Carol", "false"),
            (FieldValue(form, "FORM_TYPE"), FieldValue(form, "muc#role"), FieldValue(form, "muc#roomnick"), FieldValue(form, "muc#request_allow")));
        Assert.Equal(carol.BoundJid.ToString(), FieldValue(form, "muc#jid"));
        // Example 109: the approval; carol gets voice (§8.3's presence).
        await alice.SendAsync(new Element("message", Ns.Client).SetAttribute("to", Room).Add(TypedForm(Muc + "#request",
            ("muc#role", "participant"), ("muc#jid", carol.BoundJid.ToString()), ("muc#roomnick", "Carol"), ("muc#request_allow", "true"))));
        await ReceivedAsync(alice);
        var voiced = (await ReceivedAsync(carol)).Single();
        Assert.Equal((Room + "/Carol", "participant"), (voiced.GetAttribute("from"), UserItem(voiced).GetAttribute("role")));
    }

    [Fact]
    public async Task Xep0045_9_1_an_admin_cannot_ban_an_owner_or_themself_and_an_outcast_cannot_rejoin_under_another_nick()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await JoinedAsync(server, "carol", "Carol");
        // §9: a participant may not ban.
        Assert.Equal(("auth", "forbidden"), ErrorOf(await carol.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "outcast"))))));
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "admin"))));
        // Example 115: not the owner; and not oneself (conflict).
        Assert.Equal(("cancel", "not-allowed"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("jid", "alice@example.test"), ("affiliation", "outcast"))))));
        Assert.Equal(("cancel", "conflict"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "outcast"))))));
        await ReceivedAsync(carol);
        await ReceivedAsync(alice);
        // Example 112, 113: the ban, with 301 and the reason.
        var ban = Item(("jid", "carol@example.test"), ("affiliation", "outcast"));
        ban.Add(new Element("reason", Admin).AddText("Treason"));
        Assert.Equal("result", (await bob.RequestAsync(AdminIq(ban))).GetAttribute("type"));
        var banned = (await ReceivedAsync(carol)).Single();
        Assert.Equal(["110", "301"], Codes(banned));
        Assert.Equal(("outcast", "none", "Treason"), (UserItem(banned).GetAttribute("affiliation"), UserItem(banned).GetAttribute("role"), UserItem(banned).ChildText("reason", User)));
        Assert.Equal(["301"], Codes((await ReceivedAsync(alice)).Single()));
        // §7.2.7 (Example 28): no way back in, whatever the nick.
        await carol.SendAsync(Join("NotCarol"));
        Assert.Equal(("auth", "forbidden"), ErrorOf((await ReceivedAsync(carol)).Single()));
    }

    [Fact]
    public async Task Xep0045_9_2_and_9_5_ban_and_member_lists_change_by_several_items_in_one_iq_all_or_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "admin"))));
        // Example 118: two bans and (§9.5, Example 129) two members in one IQ.
        Assert.Equal("result", (await bob.RequestAsync(AdminIq(Item(("jid", "lord@example.test"), ("affiliation", "outcast")), Item(("jid", "lady@example.test"), ("affiliation", "outcast")),
            Item(("jid", "hag66@example.test"), ("affiliation", "member")), Item(("jid", "hecate@example.test"), ("affiliation", "member"))))).GetAttribute("type"));
        var outcasts = await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "outcast")))));
        Assert.Equal(["lady@example.test", "lord@example.test"], Kids(outcasts.Child("query", Admin)!).Select(i => i.GetAttribute("jid")!).Order(StringComparer.Ordinal));
        Assert.All(Kids(outcasts.Child("query", Admin)!), i => Assert.Equal("outcast", i.GetAttribute("affiliation")));
        // A list edit with one refused item changes nothing: the admin may not ban the owner.
        Assert.Equal("not-allowed", ErrorOf(await bob.RequestAsync(AdminIq(Item(("jid", "lord@example.test"), ("affiliation", "none")), Item(("jid", "alice@example.test"), ("affiliation", "outcast"))))).Condition);
        outcasts = await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "outcast")))));
        Assert.Equal(2, outcasts.Child("query", Admin)!.ChildCount);
        // Removing from the lists is affiliation none.
        Assert.Equal("result", (await bob.RequestAsync(AdminIq(Item(("jid", "lord@example.test"), ("affiliation", "none")), Item(("jid", "hecate@example.test"), ("affiliation", "none"))))).GetAttribute("type"));
        var members = await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "member")))));
        Assert.Equal(["hag66@example.test"], Kids(members.Child("query", Admin)!).Select(i => i.GetAttribute("jid")!));
    }

    [Fact]
    public async Task Xep0045_9_6_to_9_8_admins_grant_revoke_and_list_moderators()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await JoinedAsync(server, "carol", "Carol");
        await ReceivedAsync(bob);
        // §9.6: the owner makes bob a moderator; everyone hears it.
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("nick", "Bob"), ("role", "moderator"))))).GetAttribute("type"));
        Assert.Equal("moderator", UserItem((await ReceivedAsync(bob)).Single()).GetAttribute("role"));
        Assert.Equal("moderator", UserItem((await ReceivedAsync(carol)).Single()).GetAttribute("role"));
        // A moderator who is not an admin may not make moderators (§9: forbidden) nor see the moderator list.
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("nick", "Carol"), ("role", "moderator"))))));
        Assert.Equal("forbidden", ErrorOf(await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("role", "moderator")))))).Condition);
        // §9.8: the admin's moderator list.
        var list = await alice.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("role", "moderator")))));
        Assert.Equal(["Alice", "Bob"], Kids(list.Child("query", Admin)!).Select(i => i.GetAttribute("nick")!).Order(StringComparer.Ordinal));
        // §9.7: revoked back to participant; an owner's moderator status cannot be revoked (not-allowed).
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("nick", "Bob"), ("role", "participant"))))).GetAttribute("type"));
        Assert.Equal("participant", UserItem((await ReceivedAsync(bob)).Single()).GetAttribute("role"));
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "admin"))));
        Assert.Equal(("cancel", "not-allowed"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("nick", "Alice"), ("role", "participant"))))));
    }

    [Fact]
    public async Task Xep0045_9_9_registration_is_accepted_at_once_and_no_approval_workflow_is_advertised()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        // Parley accepts registrations itself (§9.9 is optional): the registration form, then the member at once.
        var form = await bob.RequestAsync(Get(Room, new Element("query", Ns.Register)));
        Assert.Equal(Muc + "#register", FieldValue(form.Child("query", Ns.Register)!.Child("x", Ns.DataForms)!, "FORM_TYPE"));
        await bob.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set").SetAttribute("to", Room)
            .Add(new Element("query", Ns.Register).Add(TypedForm(Muc + "#register", ("muc#register_roomnick", "Bob")))));
        Assert.Empty((await ReceivedAsync(alice)).FindAll(m => m.LocalName == "message"));
        var members = await alice.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "member")))));
        Assert.Equal("bob@example.test", members.Child("query", Admin)!.Child("item", Admin)!.GetAttribute("jid"));
        Assert.DoesNotContain(Features(await alice.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)))), f => f.Contains("register_approval", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Xep0045_10_1_3_a_reserved_room_returns_the_form_and_cancelling_destroys_it()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        await alice.SendAsync(Join("Alice"));
        Assert.Equal(["110", "170", "201"], Codes((await ReceivedAsync(alice)).Single(p => p.LocalName == "presence")));
        // Example 156: the owner asks for the configuration form.
        var form = await alice.RequestAsync(Get(Room, new Element("query", Owner)));
        var x = form.Child("query", Owner)!.Child("x", Ns.DataForms)!;
        Assert.Equal(("form", Muc + "#roomconfig"), (x.GetAttribute("type"), FieldValue(x, "FORM_TYPE")));
        // Example 161: a password-protected room without a password is not acceptable.
        Assert.Equal(("modify", "not-acceptable"), ErrorOf(await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_passwordprotectedroom", "1"), ("muc#roomconfig_roomsecret", ""))))));
        // Example 162: cancelling destroys the room; its owner gets unavailable presence.
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(new Element("x", Ns.DataForms).SetAttribute("type", "cancel")))).GetAttribute("type"));
        var gone = (await ReceivedAsync(alice)).Single();
        Assert.Equal((Room + "/Alice", "unavailable"), (gone.GetAttribute("from"), gone.GetAttribute("type")));
        Assert.NotNull(gone.Child("x", User)!.Child("destroy", User));
        Assert.Equal("item-not-found", ErrorOf(await alice.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)))).Condition);

        // The owner of a new room leaving before configuring it destroys it too, and hears so.
        await alice.SendAsync(Join("Alice"));
        Assert.Contains("201", Codes((await ReceivedAsync(alice)).Single(p => p.LocalName == "presence")));
        await alice.SendAsync(Presence(Room + "/Alice", "unavailable"));
        var left = (await ReceivedAsync(alice)).Single();
        Assert.Equal("unavailable", left.GetAttribute("type"));
        Assert.Contains("110", Codes(left));
        Assert.NotNull(left.Child("x", User)!.Child("destroy", User));
        Assert.Equal("item-not-found", ErrorOf(await alice.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)))).Condition);
    }

    [Fact]
    public async Task Xep0045_10_2_invalid_configuration_is_not_acceptable_and_changes_nothing_and_non_owners_are_forbidden()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        foreach (var (field, value) in new[] { ("muc#roomconfig_maxusers", "many"), ("muc#roomconfig_whois", "everybody"), ("muc#roomconfig_allowpm", "bots"), ("muc#roomconfig_roomowners", "not a jid@") })
            Assert.Equal(("modify", "not-acceptable"), ErrorOf(await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_roomname", "Changed"), (field, value))))));
        var form = (await alice.RequestAsync(Get(Room, new Element("query", Owner)))).Child("query", Owner)!.Child("x", Ns.DataForms)!;
        Assert.Equal("", FieldValue(form, "muc#roomconfig_roomname"));
        // No form at all is a bad request.
        Assert.Equal("bad-request", ErrorOf(await alice.RequestAsync(OwnerIq(new Element("nothing", Owner)))).Condition);
        // Example 165: a non-owner asking for the form is forbidden.
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(Get(Room, new Element("query", Owner)))));
    }

    [Fact]
    public async Task Xep0045_10_4_to_10_8_owner_and_admin_lists_are_the_owners_and_the_last_owner_stays()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        // §10.5 and §10.8 (Examples 183, 190): several owners and admins in one IQ.
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("jid", "hecate@example.test"), ("affiliation", "owner")),
            Item(("jid", "bob@example.test"), ("affiliation", "admin")), Item(("jid", "wiccarocks@example.test"), ("affiliation", "admin"))))).GetAttribute("type"));
        var promoted = (await ReceivedAsync(bob)).Single();
        Assert.Equal(("admin", "moderator"), (UserItem(promoted).GetAttribute("affiliation"), UserItem(promoted).GetAttribute("role")));
        var owners = await alice.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "owner")))));
        Assert.Equal(["alice@example.test", "hecate@example.test"], Kids(owners.Child("query", Admin)!).Select(i => i.GetAttribute("jid")!).Order(StringComparer.Ordinal));
        var admins = await alice.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "admin")))));
        Assert.Equal(["bob@example.test", "wiccarocks@example.test"], Kids(admins.Child("query", Admin)!).Select(i => i.GetAttribute("jid")!).Order(StringComparer.Ordinal));
        // An admin may not see or change the owner and admin lists (Example 184).
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "owner")))))));
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("jid", "carol@example.test"), ("affiliation", "admin"))))));
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(AdminIq(Item(("jid", "wiccarocks@example.test"), ("affiliation", "none"))))));
        // §10.4: revoking both owners in one IQ leaves none: conflict, and nothing changed.
        Assert.Equal(("cancel", "conflict"), ErrorOf(await alice.RequestAsync(AdminIq(Item(("jid", "hecate@example.test"), ("affiliation", "admin")), Item(("jid", "alice@example.test"), ("affiliation", "member"))))));
        owners = await alice.RequestAsync(Get(Room, new Element("query", Admin).Add(Item(("affiliation", "owner")))));
        Assert.Equal(2, owners.Child("query", Admin)!.ChildCount);
        // §10.7: revoking an admin in the room makes bob a participant again.
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "none"))))).GetAttribute("type"));
        var demoted = (await ReceivedAsync(bob)).Single();
        Assert.Equal(("none", "participant"), (UserItem(demoted).GetAttribute("affiliation"), UserItem(demoted).GetAttribute("role")));
    }

    [Fact]
    public async Task Xep0045_10_9_a_non_owner_may_not_destroy_the_room()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await alice.RequestAsync(AdminIq(Item(("jid", "bob@example.test"), ("affiliation", "admin"))));
        // Example 204.
        Assert.Equal(("auth", "forbidden"), ErrorOf(await bob.RequestAsync(OwnerIq(new Element("destroy", Owner).SetAttribute("jid", "new@conference.example.test")))));
        Assert.Equal("result", (await bob.RequestAsync(Get(Room, new Element("query", Ns.DiscoInfo)))).GetAttribute("type"));
    }

    [Fact]
    public async Task Xep0045_9_4_and_10_2_status_321_and_322_when_an_affiliation_change_or_members_only_removes_an_occupant()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = await RoomWithTwoAsync(server);
        await using var _ = alice;
        await using var __ = bob;
        await using var carol = await server.LoginAsync("carol");
        await alice.RequestAsync(AdminIq(Item(("jid", "carol@example.test"), ("affiliation", "member"))));
        await carol.SendAsync(Join("Carol"));
        await ReceivedAsync(carol);
        await ReceivedAsync(bob);
        await ReceivedAsync(alice);
        // §10.2 (Example 197-ish): the room becomes members-only; bob, not a member, leaves with 322.
        Assert.Equal("result", (await alice.RequestAsync(OwnerIq(Form(("muc#roomconfig_membersonly", "1"))))).GetAttribute("type"));
        var removed = (await ReceivedAsync(bob)).Single(p => p.LocalName == "presence");
        Assert.Equal(["110", "322"], Codes(removed));
        Assert.Equal(("unavailable", "none"), (removed.GetAttribute("type"), UserItem(removed).GetAttribute("role")));
        Assert.Equal(["322"], Codes((await ReceivedAsync(carol)).Single(p => p.LocalName == "presence")));
        await ReceivedAsync(alice);
        // §9.4: carol's membership is revoked; she leaves with 321.
        Assert.Equal("result", (await alice.RequestAsync(AdminIq(Item(("jid", "carol@example.test"), ("affiliation", "none"))))).GetAttribute("type"));
        var revoked = (await ReceivedAsync(carol)).Single();
        Assert.Equal(["110", "321"], Codes(revoked));
        Assert.Equal(("none", "none"), (UserItem(revoked).GetAttribute("affiliation"), UserItem(revoked).GetAttribute("role")));
        Assert.Equal(["321"], Codes((await ReceivedAsync(alice)).Single()));
    }
}
