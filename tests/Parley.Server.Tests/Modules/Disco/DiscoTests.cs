using Parley.Client;
using Parley.Protocol;
using Parley.Server.Modules;
using Parley.Server.Modules.Disco;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Modules.Disco;

public sealed class DiscoTests
{
    [Fact]
    public void Xep0115_5_2_the_worked_example_hash_is_reproduced()
    {
        var ver = DiscoModule.CapsHash([new DiscoIdentity("client", "pc", "Exodus 0.9.1")],
            ["http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"]);
        Assert.Equal("QgayPKawpkPSDYmwT/WM94uAlu0=", ver);
    }

    [Fact]
    public async Task Xep0115_6_3_the_caps_in_stream_features_match_the_disco_info_it_stands_for()
    {
        await using var server = await TestServer.StartAsync();
        await using var alice = await server.LoginAsync("alice");
        var caps = alice.Features!.Child("c", Ns.Caps);
        Assert.NotNull(caps);
        var node = caps.GetAttribute("node") + "#" + caps.GetAttribute("ver");
        var info = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("query", Ns.DiscoInfo).SetAttribute("node", node)));
        var query = info.Child("query", Ns.DiscoInfo)!;
        Assert.Equal(node, query.GetAttribute("node"));
        var identities = new List<DiscoIdentity>();
        var features = new List<string>();
        foreach (var child in query.Children)
        {
            if (child.LocalName == "identity") identities.Add(new DiscoIdentity(child.GetAttribute("category")!, child.GetAttribute("type")!, child.GetAttribute("name")));
            else features.Add(child.GetAttribute("var")!);
        }
        Assert.Equal(caps.GetAttribute("ver"), DiscoModule.CapsHash(identities, features));
    }

    [Fact]
    public async Task A_disabled_module_is_neither_advertised_nor_answered()
    {
        await using var server = await TestServer.StartAsync(new() { ["DisabledModules:0"] = "version" });
        await using var alice = await server.LoginAsync("alice");
        var info = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("query", Ns.DiscoInfo)));
        Assert.DoesNotContain("jabber:iq:version", info.ToString(), StringComparison.Ordinal);
        var version = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "get").SetAttribute("to", TestServer.Domain)
            .Add(new Element("query", Ns.Version)));
        Assert.NotNull(version.Child("error", Ns.Client)?.Child("service-unavailable", Ns.Stanzas));
    }

    [Fact]
    public async Task An_oversized_vcard_is_not_acceptable()
    {
        await using var server = await TestServer.StartAsync(new() { ["Limits:MaxVCardBytes"] = "2048" });
        await using var alice = await server.LoginAsync("alice");
        var reply = await alice.RequestAsync(new Element("iq", Ns.Client).SetAttribute("type", "set")
            .Add(new Element("vCard", Ns.VCard).Add(new Element("DESC", Ns.VCard).AddText(new string('x', 4000)))));
        Assert.NotNull(reply.Child("error", Ns.Client)?.Child("not-acceptable", Ns.Stanzas));
    }

    [Fact]
    public void A_required_or_unknown_module_cannot_be_disabled()
    {
        var options = new ParleyOptions { DisabledModules = ["sasl", "nonsense"] };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("'sasl' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("no module is called 'nonsense'", StringComparison.Ordinal));
    }
}
