using System.Collections.Frozen;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Modules;

/// <summary>An IQ handler with its payload still undecoded.</summary>
internal delegate ValueTask<IqReply> RawIqHandler(Stanza stanza, Element payload, Jid from, Jid to, ISession? origin, CancellationToken ct);

/// <summary>
/// Everything the enabled modules declared: IQ handlers keyed by payload type, nonza handlers, stream features,
/// disco features and hooks. Built once at start-up, then read without locks.
/// </summary>
public sealed class ModuleRegistry
{
    private readonly Dictionary<(IqType, QName, IqTarget), RawIqHandler> _iq = [];
    private readonly Dictionary<(QName, Stage), StreamElementHandler> _streamElements = [];
    private readonly Dictionary<(QName, Stage), NegotiationIqHandler> _negotiationIq = [];
    private readonly List<Func<IStreamContext, Element?>>[] _streamFeatures = [[], [], [], []];
    private readonly SortedSet<string> _features = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _accountFeatures = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _ownAccountFeatures = new(StringComparer.Ordinal);
    private readonly List<DiscoIdentity> _identities = [];
    private readonly Dictionary<string, Func<Jid, IReadOnlyList<Element>>> _discoItems = new(StringComparer.Ordinal);
    private readonly List<ModuleInfo> _modules = [];
    private readonly List<object> _instances = [];
    private FrozenDictionary<(IqType, QName, IqTarget), RawIqHandler>? _frozenIq;

    internal ModuleRegistry(HookBus hooks) => Hooks = hooks;

    internal HookBus Hooks { get; }

    /// <summary>The registered module of a type, or null when it is disabled.</summary>
    public T? Get<T>() where T : class, IModule
    {
        foreach (var m in _instances)
            if (m is T found) return found;
        return null;
    }

    /// <summary>The modules registered, in registration order.</summary>
    public IReadOnlyList<ModuleInfo> Modules => _modules;

    /// <summary>The disco features the modules advertise.</summary>
    public IReadOnlyCollection<string> Features => _features;

    /// <summary>Every XEP number the registered modules implement, ascending.</summary>
    public IReadOnlyList<int> Xeps
    {
        get
        {
            var set = new SortedSet<int>();
            foreach (var m in _modules)
                if (m.Xeps is not null) set.UnionWith(m.Xeps);
            return [.. set];
        }
    }

    internal void Register(IModule module, ModuleInfo info)
    {
        _modules.Add(info);
        _instances.Add(module);
        module.Register(new ModuleBuilder(this, info));
        _frozenIq = null;
    }

    internal void AddFeature(string feature, ModuleInfo owner) => _features.Add(feature);

    internal void AddAccountFeature(string feature) => _accountFeatures.Add(feature);

    internal void AddOwnAccountFeature(string feature) => _ownAccountFeatures.Add(feature);

    internal void AddServiceItem(string jid, string? name) => _serviceItems.Add((jid, name));

    internal void AddAccountIdentity(DiscoIdentity identity) => _accountIdentities.Add(identity);

    internal void AddAccountItems(Func<Jid, Jid, CancellationToken, Task<IReadOnlyList<Element>>> items) => _accountItems.Add(items);

    /// <summary>Identities of every account's bare JID, besides account/registered.</summary>
    public IReadOnlyList<DiscoIdentity> AccountIdentities => _accountIdentities;

    /// <summary>Providers of disco#items of an account (account, requester).</summary>
    public IReadOnlyList<Func<Jid, Jid, CancellationToken, Task<IReadOnlyList<Element>>>> AccountItemProviders => _accountItems;

    private readonly List<DiscoIdentity> _accountIdentities = [];
    private readonly List<Func<Jid, Jid, CancellationToken, Task<IReadOnlyList<Element>>>> _accountItems = [];

    /// <summary>The services listed in the server's disco#items.</summary>
    public IReadOnlyList<(string Jid, string? Name)> ServiceItems => _serviceItems;

    private readonly List<(string Jid, string? Name)> _serviceItems = [];

    internal void AddIdentity(DiscoIdentity identity) => _identities.Add(identity);

    internal void AddDiscoItems(string node, Func<Jid, IReadOnlyList<Element>> items) => _discoItems.Add(node, items);

    /// <summary>The disco#items of a node of the server, as the requester may see them; false for an unknown node.</summary>
    internal bool TryGetDiscoItems(string node, Jid requester, out IReadOnlyList<Element> items)
    {
        items = [];
        if (!_discoItems.TryGetValue(node, out var provider)) return false;
        items = provider(requester);
        return true;
    }

    /// <summary>The disco features of accounts' bare JIDs.</summary>
    public IReadOnlyCollection<string> AccountFeatures => _accountFeatures;

    /// <summary>The account features and those shown only to the account itself, sorted.</summary>
    public IReadOnlyCollection<string> OwnAccountFeatures => _ownAll ??= new SortedSet<string>(_accountFeatures.Concat(_ownAccountFeatures), StringComparer.Ordinal);

    private SortedSet<string>? _ownAll;

    /// <summary>The disco identities of the server.</summary>
    public IReadOnlyList<DiscoIdentity> Identities => _identities;

    internal void AddIqHandler(IqType type, QName payload, IqTarget target, RawIqHandler handler)
    {
        if (!_iq.TryAdd((type, payload, target), handler))
            throw new InvalidOperationException($"Two modules handle IQ {type} {payload} for {target}");
    }

    internal void AddStreamElement(QName name, Stage stage, StreamElementHandler handler)
    {
        if (!_streamElements.TryAdd((name, stage), handler))
            throw new InvalidOperationException($"Two modules handle {name} at {stage}");
    }

    internal void AddNegotiationIq(QName payload, Stage stage, NegotiationIqHandler handler)
    {
        if (!_negotiationIq.TryAdd((payload, stage), handler))
            throw new InvalidOperationException($"Two modules handle negotiation IQ {payload}");
    }

    internal void AddStreamFeature(Stage stage, Func<IStreamContext, Element?> provider) =>
        _streamFeatures[(int)stage].Add(provider);

    internal bool TryGetIqHandler(IqType type, QName payload, IqTarget target, out RawIqHandler handler)
    {
        var map = _frozenIq ??= _iq.ToFrozenDictionary();
        return map.TryGetValue((type, payload, target), out handler!);
    }

    /// <summary>Whether any handler exists for a payload at a target, whatever the IQ type.</summary>
    internal bool HandlesPayload(QName payload, IqTarget target) =>
        TryGetIqHandler(IqType.Get, payload, target, out _) || TryGetIqHandler(IqType.Set, payload, target, out _);

    internal bool TryGetStreamElement(QName name, Stage stage, out StreamElementHandler handler) =>
        _streamElements.TryGetValue((name, stage), out handler!);

    internal bool TryGetNegotiationIq(QName payload, Stage stage, out NegotiationIqHandler handler) =>
        _negotiationIq.TryGetValue((payload, stage), out handler!);

    internal Element BuildFeatures(Stage stage, IStreamContext stream)
    {
        var features = new Element("features", Ns.Streams);
        foreach (var provider in _streamFeatures[(int)stage])
            if (provider(stream) is { } feature) features.Add(feature);
        return features;
    }
}
