using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Storage;

namespace Parley.Server.Modules.PrivateXml;

/// <summary>XEP-0049: private XML storage, one stored element per (account, namespace and name).</summary>
public sealed class PrivateXmlModule(IStorage storage, HookBus hooks, IOptions<ParleyOptions> options) : IModule
{
    private readonly IMapStore _store = storage.Map("private");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("private", Xeps: [49]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.PrivateXml);
        m.OnIq<PrivateQuery>(IqType.Get, IqTarget.Self, async (iq, ct) =>
        {
            // §3: a get names exactly one element, whose stored copy (or the empty request itself) comes back.
            if (iq.Payload.Items.Count != 1) return StanzaError.BadRequest("Name exactly one element to retrieve");
            var wanted = iq.Payload.Items[0];
            if (!Allowed(wanted)) return StanzaError.NotAcceptable("jabber: namespaces are reserved");
            var saved = await _store.GetAsync(iq.From, Key(wanted), ct).ConfigureAwait(false);
            var read = new PrivateXmlRead(iq.From.Bare, wanted, saved);
            await hooks.RunAsync(read, ct).ConfigureAwait(false);
            return IqReply.Ok(new PrivateQuery([read.Result ?? saved ?? wanted]));
        });
        m.OnIq<PrivateQuery>(IqType.Set, IqTarget.Self, async (iq, ct) =>
        {
            if (iq.Payload.Items.Count == 0) return StanzaError.BadRequest("Nothing to store");
            foreach (var item in iq.Payload.Items)
            {
                if (!Allowed(item)) return StanzaError.NotAcceptable("jabber: namespaces are reserved");
                if (Encoding.UTF8.GetByteCount(item.ToString()) > options.Value.Limits.MaxPrivateXmlBytes)
                    return StanzaError.NotAcceptable("The element is too large");
            }
            foreach (var item in iq.Payload.Items)
            {
                await _store.SetAsync(iq.From, Key(item), item, ct).ConfigureAwait(false);
                await hooks.RunAsync(new PrivateXmlStored(iq.From.Bare, item), ct).ConfigureAwait(false);
            }
            return IqReply.Empty;
        });
        // §3: another account's private storage is not reachable.
        m.OnIq<PrivateQuery>(IqType.Get, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
        m.OnIq<PrivateQuery>(IqType.Set, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(_store.DeleteAllAsync(e.Account, ct)));
    }

    private static bool Allowed(Element e) => e.Namespace.Length > 0 && !e.Namespace.StartsWith("jabber:", StringComparison.Ordinal);

    private static string Key(Element e) => "{" + e.Namespace + "}" + e.LocalName;
}

/// <summary>XEP-0049 §2: &lt;query xmlns='jabber:iq:private'/&gt; with the stored elements.</summary>
public sealed record PrivateQuery(IReadOnlyList<Element> Items) : IPayload<PrivateQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.PrivateXml, "query");

    /// <inheritdoc />
    public static PrivateQuery Parse(Element element)
    {
        var items = new List<Element>();
        foreach (var child in element.Children) items.Add(child);
        return new PrivateQuery(items);
    }

    /// <inheritdoc />
    public Element ToElement()
    {
        var query = new Element(Name);
        foreach (var item in Items) query.Add(item);
        return query;
    }
}
