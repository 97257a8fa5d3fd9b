using System.Security.Cryptography;
using System.Text;
using Parley.Protocol;
using Parley.Server.Storage;

namespace Parley.Server.Modules.Disco;

/// <summary>
/// XEP-0030 service discovery for the server and, on their behalf, for accounts' bare JIDs; XEP-0115 entity
/// capabilities of the server in its stream features (§6.3). Everything is computed from what the enabled
/// modules registered, so nothing is advertised that is not implemented.
/// </summary>
public sealed class DiscoModule(IStorage storage) : IModule
{
    private ModuleRegistry registry = null!;

    /// <summary>The caps node (XEP-0115 §4).</summary>
    public const string CapsNode = "https://parley.invalid/caps";

    private Element? _serverInfo;
    private string? _ver;

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("disco", Xeps: [30, 115]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        registry = m.Registry;
        m.Identity("server", "im", "Parley");
        m.Feature(Ns.DiscoInfo);
        m.Feature(Ns.DiscoItems);
        m.AccountFeature(Ns.DiscoInfo);
        m.AccountFeature(Ns.DiscoItems);
        m.StreamFeature(Stage.Authenticated, _ => CapsElement());
        m.StreamFeature(Stage.PreAuth, _ => CapsElement());
        m.OnIq<DiscoInfoQuery>(IqType.Get, IqTarget.Server, (iq, _) => ValueTask.FromResult(ServerInfo(iq.Payload.Node)));
        m.OnIq<DiscoInfoQuery>(IqType.Get, IqTarget.Self, AccountInfoAsync);
        m.OnIq<DiscoInfoQuery>(IqType.Get, IqTarget.Account, AccountInfoAsync);
        m.OnIq<DiscoItemsQuery>(IqType.Get, IqTarget.Server, (iq, _) => ValueTask.FromResult(ServerItems(iq.Payload.Node, iq.From)));
        m.OnIq<DiscoItemsQuery>(IqType.Get, IqTarget.Self, AccountItemsAsync);
        m.OnIq<DiscoItemsQuery>(IqType.Get, IqTarget.Account, AccountItemsAsync);
    }

    private IqReply ServerInfo(string? node)
    {
        // XEP-0115 §6.2: a query for node#ver answers like the plain query, echoing the node.
        if (node is not null && node != CapsNode + "#" + Ver()) return StanzaError.ItemNotFound();
        var info = (_serverInfo ??= BuildInfo(registry.Identities, registry.Features)).Clone();
        if (node is not null) info.SetAttribute("node", node);
        return IqReply.Ok(info);
    }

    private IqReply ServerItems(string? node, Jid requester)
    {
        if (node is null || !registry.TryGetDiscoItems(node, requester, out var items)) return Items(node);
        var query = new Element("query", Ns.DiscoItems).SetAttribute("node", node);
        foreach (var item in items) query.Add(item);
        return IqReply.Ok(query);
    }

    private IqReply Items(string? node)
    {
        if (node is not null) return StanzaError.ItemNotFound();
        var query = new Element("query", Ns.DiscoItems);
        foreach (var (jid, name) in registry.ServiceItems)
        {
            var item = new Element("item", Ns.DiscoItems).SetAttribute("jid", jid);
            if (name is not null) item.SetAttribute("name", name);
            query.Add(item);
        }
        return IqReply.Ok(query);
    }

    // RFC 6121 §8.5.1 / XEP-0030: the server answers for an account that exists.
    private async ValueTask<IqReply> AccountInfoAsync(IqRequest<DiscoInfoQuery> iq, CancellationToken ct)
    {
        if (await storage.Accounts.GetAsync(iq.To, ct).ConfigureAwait(false) is null) return StanzaError.ServiceUnavailable;
        if (iq.Payload.Node is not null) return StanzaError.ItemNotFound();
        var own = iq.From.BareEquals(iq.To);
        List<DiscoIdentity> identities = [new DiscoIdentity("account", "registered"), .. registry.AccountIdentities];
        return IqReply.Ok(BuildInfo(identities, own ? registry.OwnAccountFeatures : registry.AccountFeatures));
    }

    private async ValueTask<IqReply> AccountItemsAsync(IqRequest<DiscoItemsQuery> iq, CancellationToken ct)
    {
        if (await storage.Accounts.GetAsync(iq.To, ct).ConfigureAwait(false) is null) return StanzaError.ServiceUnavailable;
        if (iq.Payload.Node is not null) return StanzaError.ItemNotFound();
        var query = new Element("query", Ns.DiscoItems);
        foreach (var provider in registry.AccountItemProviders)
            foreach (var item in await provider(iq.To.Bare, iq.From, ct).ConfigureAwait(false))
                query.Add(item);
        return IqReply.Ok(query);
    }

    private static Element BuildInfo(IEnumerable<DiscoIdentity> identities, IEnumerable<string> features)
    {
        var query = new Element("query", Ns.DiscoInfo);
        foreach (var i in identities)
        {
            var e = new Element("identity", Ns.DiscoInfo).SetAttribute("category", i.Category).SetAttribute("type", i.Type);
            if (i.Name is not null) e.SetAttribute("name", i.Name);
            query.Add(e);
        }
        foreach (var f in features) query.Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", f));
        return query;
    }

    private Element CapsElement() => new Element("c", Ns.Caps)
        .SetAttribute("hash", "sha-1").SetAttribute("node", CapsNode).SetAttribute("ver", Ver());

    private string Ver() => _ver ??= CapsHash(registry.Identities, registry.Features);

    /// <summary>XEP-0115 §5.1: the verification string of identities and features (no extended forms).</summary>
    public static string CapsHash(IEnumerable<DiscoIdentity> identities, IEnumerable<string> features)
    {
        var ids = new List<string>();
        foreach (var i in identities) ids.Add($"{i.Category}/{i.Type}//{i.Name}");
        ids.Sort(StringComparer.Ordinal);
        var fs = new List<string>(features);
        fs.Sort(StringComparer.Ordinal);
        var s = new StringBuilder();
        foreach (var i in ids) s.Append(i).Append('<');
        foreach (var f in fs) s.Append(f).Append('<');
#pragma warning disable CA5350 // XEP-0115 §5.1 defines the hash; it is an identifier, not a security control.
        return Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes(s.ToString())));
#pragma warning restore CA5350
    }
}

/// <summary>XEP-0030 §3: the disco#info query.</summary>
public sealed record DiscoInfoQuery(string? Node) : IPayload<DiscoInfoQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.DiscoInfo, "query");

    /// <inheritdoc />
    public static DiscoInfoQuery Parse(Element element) => new(element.GetAttribute("node"));

    /// <inheritdoc />
    public Element ToElement() => new Element(Name).SetAttribute("node", Node);
}

/// <summary>XEP-0030 §4: the disco#items query.</summary>
public sealed record DiscoItemsQuery(string? Node) : IPayload<DiscoItemsQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.DiscoItems, "query");

    /// <inheritdoc />
    public static DiscoItemsQuery Parse(Element element) => new(element.GetAttribute("node"));

    /// <inheritdoc />
    public Element ToElement() => new Element(Name).SetAttribute("node", Node);
}
