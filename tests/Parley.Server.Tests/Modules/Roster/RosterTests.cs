using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Roster;

public sealed class RosterTests
{
    private static Element Set(string contact) =>
        new Element("iq", Ns.Client).SetAttribute("type", "set")
            .Add(new Element("query", Ns.Roster).Add(new Element("item", Ns.Roster).SetAttribute("jid", contact)));

    [Fact]
    public async Task A_roster_at_its_configured_size_refuses_new_items_with_not_acceptable_but_takes_updates()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:MaxRosterItems"] = "2" });
        await using var alice = await server.LoginAsync("alice");
        Assert.Equal("result", (await alice.RequestAsync(Set("a@example.test"))).GetAttribute("type"));
        Assert.Equal("result", (await alice.RequestAsync(Set("b@example.test"))).GetAttribute("type"));
        var refused = await alice.RequestAsync(Set("c@example.test"));
        Assert.Equal("error", refused.GetAttribute("type"));
        Assert.NotNull(refused.Child("error", Ns.Client)!.Child("not-acceptable", Ns.Stanzas));
        Assert.Equal("result", (await alice.RequestAsync(Set("a@example.test"))).GetAttribute("type"));
    }

    [Fact]
    public async Task The_roster_outlives_the_session_that_wrote_it()
    {
        await using var server = await TestServer.StartAsync();
        await using (var first = await server.LoginAsync("alice", "one"))
            await first.RequestAsync(Set("nurse@example.test"));
        await using var second = await server.LoginAsync("alice", "two");
        var roster = await second.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").Add(new Element("query", Ns.Roster)));
        var item = roster.Child("query", Ns.Roster)!.Child("item", Ns.Roster);
        Assert.Equal("nurse@example.test", item?.GetAttribute("jid"));
    }
}
