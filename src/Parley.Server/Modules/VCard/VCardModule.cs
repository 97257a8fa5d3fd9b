using System.Text;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Storage;

namespace Parley.Server.Modules.VCard;

/// <summary>XEP-0054: vcard-temp, stored per account, readable by anyone, writable by its owner, size-limited.</summary>
public sealed class VCardModule(IStorage storage, IOptions<ParleyOptions> options) : IModule
{
    private const string Key = "vcard";
    private static readonly QName VCardName = new(Ns.VCard, "vCard");
    private readonly IMapStore _store = storage.Map("vcard");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("vcard", Xeps: [54]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.VCard);
        m.AccountFeature(Ns.VCard);
        m.OnIq<VCardPayload>(IqType.Get, IqTarget.Self, GetAsync);
        m.OnIq<VCardPayload>(IqType.Get, IqTarget.Account, GetAsync);
        m.OnIq<VCardPayload>(IqType.Set, IqTarget.Self, async (iq, ct) =>
        {
            var vcard = iq.Stanza.Element.FirstChild()!;
            if (Encoding.UTF8.GetByteCount(vcard.ToString()) > options.Value.Limits.MaxVCardBytes)
                return StanzaError.NotAcceptable($"A vCard may be at most {options.Value.Limits.MaxVCardBytes} bytes");
            await _store.SetAsync(iq.From, Key, vcard, ct).ConfigureAwait(false);
            return IqReply.Empty;
        });
        // §3.2: only the owner may publish.
        m.OnIq<VCardPayload>(IqType.Set, IqTarget.Account, (_, _) => ValueTask.FromResult<IqReply>(StanzaError.Forbidden()));
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(_store.DeleteAllAsync(e.Account, ct)));
    }

    // §3.1: the stored vCard, or an empty one; an account that does not exist is service-unavailable (RFC 6121 §8.5.1).
    private async ValueTask<IqReply> GetAsync(IqRequest<VCardPayload> iq, CancellationToken ct)
    {
        if (await storage.Accounts.GetAsync(iq.To, ct).ConfigureAwait(false) is null) return StanzaError.ServiceUnavailable;
        var saved = await _store.GetAsync(iq.To, Key, ct).ConfigureAwait(false);
        return IqReply.Ok(saved ?? new Element(VCardName));
    }
}

/// <summary>The &lt;vCard xmlns='vcard-temp'/&gt; payload (kept as an element).</summary>
public sealed record VCardPayload : IPayload<VCardPayload>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.VCard, "vCard");

    /// <inheritdoc />
    public static VCardPayload Parse(Element element) => new();

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}
