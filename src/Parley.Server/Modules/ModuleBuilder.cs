using Parley.Protocol;
using Parley.Server.Hooks;

namespace Parley.Server.Modules;

/// <summary>Handles an IQ request whose payload was decoded as <typeparamref name="T"/>.</summary>
public delegate ValueTask<IqReply> IqHandler<T>(IqRequest<T> iq, CancellationToken ct);

/// <summary>Handles a top-level non-stanza element (a nonza such as &lt;starttls/&gt; or &lt;auth/&gt;).</summary>
public delegate ValueTask StreamElementHandler(Element element, IStreamContext stream, CancellationToken ct);

/// <summary>Handles an IQ before resource binding (binding itself, in-band registration).</summary>
public delegate ValueTask NegotiationIqHandler(Stanza iq, IStreamContext stream, CancellationToken ct);

/// <summary>What a module declares; the registry records each declaration under the module's name.</summary>
public sealed class ModuleBuilder
{
    private readonly ModuleRegistry _registry;
    private readonly ModuleInfo _info;

    internal ModuleBuilder(ModuleRegistry registry, ModuleInfo info)
    {
        _registry = registry;
        _info = info;
    }

    /// <summary>What all modules registered (read it lazily, once registration is over: at first use).</summary>
    public ModuleRegistry Registry => _registry;

    /// <summary>Advertises a disco feature of the server.</summary>
    public void Feature(string featureNamespace) => _registry.AddFeature(featureNamespace, _info);

    /// <summary>Advertises a disco feature of every account's bare JID (XEP-0030 on behalf of accounts).</summary>
    public void AccountFeature(string featureNamespace) => _registry.AddAccountFeature(featureNamespace);

    /// <summary>Adds an identity to every account's bare JID (e.g. pubsub/pep, XEP-0163 §4).</summary>
    public void AccountIdentity(string category, string type) => _registry.AddAccountIdentity(new DiscoIdentity(category, type, null));

    /// <summary>Lists items (e.g. PEP nodes) in an account's disco#items, per requester.</summary>
    public void AccountItems(Func<Jid, Jid, CancellationToken, Task<IReadOnlyList<Element>>> items) => _registry.AddAccountItems(items);

    /// <summary>Lists a service of this server (a subdomain) in the server's disco#items (XEP-0030 §4).</summary>
    public void ServiceItem(string jid, string? name) => _registry.AddServiceItem(jid, name);

    /// <summary>Advertises a feature of an account's bare JID only to the account itself (e.g. its own archive).</summary>
    public void OwnAccountFeature(string featureNamespace) => _registry.AddOwnAccountFeature(featureNamespace);

    /// <summary>Lists items under a disco#items node of the server, per requester (XEP-0030 §4).</summary>
    public void DiscoItems(string node, Func<Jid, IReadOnlyList<Element>> items) => _registry.AddDiscoItems(node, items);

    /// <summary>Advertises a disco identity of the server.</summary>
    public void Identity(string category, string type, string? name = null) => _registry.AddIdentity(new DiscoIdentity(category, type, name));

    /// <summary>Handles IQ requests of a payload type, direction and target.</summary>
    public void OnIq<T>(IqType type, IqTarget target, IqHandler<T> handler) where T : IPayload<T> =>
        _registry.AddIqHandler(type, T.Name, target, async (stanza, payload, from, to, origin, ct) =>
            await handler(new IqRequest<T>(stanza, T.Parse(payload), from, to, origin), ct).ConfigureAwait(false));

    /// <summary>Handles a nonza at the given stage.</summary>
    public void OnStreamElement(QName name, Stage stage, StreamElementHandler handler) =>
        _registry.AddStreamElement(name, stage, handler);

    /// <summary>Handles an IQ with this payload before binding: after authentication (resource binding) or, with
    /// <see cref="Stage.PreAuth"/>, after TLS and before authentication (in-band registration).</summary>
    public void OnNegotiationIq(QName payload, NegotiationIqHandler handler, Stage stage = Stage.Authenticated) =>
        _registry.AddNegotiationIq(payload, stage, handler);

    /// <summary>Offers a stream feature at a stage; the provider returns null when it does not apply.</summary>
    public void StreamFeature(Stage stage, Func<IStreamContext, Element?> provider) =>
        _registry.AddStreamFeature(stage, provider);

    /// <summary>Listens to a hook.</summary>
    public void Hook<T>(Func<T, CancellationToken, ValueTask> handler, int priority = 0) where T : IHook =>
        _registry.Hooks.Add(handler, priority, _info.Name);
}
