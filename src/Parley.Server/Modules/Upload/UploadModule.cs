using System.Globalization;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Upload;

/// <summary>
/// XEP-0363 HTTP file upload as the service upload.&lt;Domain&gt; (listed in the server's disco#items, identity
/// store/file, with the max-file-size form): local accounts request a slot and get a PUT URL with an
/// Authorization header and a GET URL on the server's HTTPS listener (<see cref="UploadEndpoints"/>). Files larger
/// than Upload:MaxFileBytes are refused with &lt;file-too-large/&gt;, requests beyond the account's quota with
/// resource-constraint.
/// </summary>
public sealed class UploadModule(UploadStore store, ComponentRegistry components, Addresses addresses) : IModule, IComponent
{
    /// <summary>XEP-0363's namespace.</summary>
    public const string Namespace = "urn:xmpp:http:upload:0";

    private string _service = "";

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("upload", Xeps: [363]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        if (!store.Options.Enabled) return;
        _service = "upload." + addresses.Domain;
        components.TryAdd(_service, this);
        m.ServiceItem(_service, "HTTP file upload");
        m.Hook<AccountDeleted>((e, ct) => new ValueTask(store.DeleteAccountAsync(e.Account, ct)));
    }

    /// <inheritdoc />
    public async ValueTask HandleAsync(Stanza stanza, ISession origin, CancellationToken ct)
    {
        if (stanza.Kind != StanzaKind.Iq)
        {
            if (stanza.Kind == StanzaKind.Message) Router.Bounce(stanza, StanzaError.ServiceUnavailable, origin);
            return;
        }
        if (stanza.IqType is not (IqType.Get or IqType.Set)) return;
        var payload = stanza.Element.FirstChild();
        Element? reply = null;
        StanzaError? error = null;
        switch (payload?.Name.Namespace, payload?.LocalName, stanza.IqType)
        {
            case (Ns.DiscoInfo, "query", IqType.Get) when payload!.GetAttribute("node") is null:
                reply = ServiceInfo();
                break;
            case (Ns.DiscoItems, "query", IqType.Get):
                reply = new Element("query", Ns.DiscoItems);
                break;
            case (Namespace, "request", IqType.Get):
                (reply, error) = await SlotAsync(stanza, payload!, ct).ConfigureAwait(false);
                break;
            default:
                error = StanzaError.ServiceUnavailable;
                break;
        }
        var response = error is not null
            ? stanza.CreateErrorReply(error)
            : new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", stanza.Id).SetAttribute("from", _service)
                .SetAttribute("to", stanza.From?.ToString()).Add(reply!);
        origin.TryDeliver(response);
    }

    private Element ServiceInfo() =>
        new Element("query", Ns.DiscoInfo)
            .Add(new Element("identity", Ns.DiscoInfo).SetAttribute("category", "store").SetAttribute("type", "file").SetAttribute("name", "HTTP file upload"))
            .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Ns.DiscoInfo))
            .Add(new Element("feature", Ns.DiscoInfo).SetAttribute("var", Namespace))
            .Add(DataForm.Create("result", null, Namespace,
                DataForm.Field("max-file-size", "text-single", null, false, store.Options.MaxFileBytes.ToString(CultureInfo.InvariantCulture))));

    // §4: a slot, or the reason there is none.
    private async ValueTask<(Element?, StanzaError?)> SlotAsync(Stanza iq, Element request, CancellationToken ct)
    {
        if (iq.From is not { Local: not null } from || !addresses.IsLocal(from))
            return (null, StanzaError.Forbidden("Only accounts of this server may upload"));
        var name = request.GetAttribute("filename");
        if (string.IsNullOrWhiteSpace(name) || !long.TryParse(request.GetAttribute("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size <= 0)
            return (null, StanzaError.BadRequest("A slot request needs a filename and a positive size"));
        var max = store.Options.MaxFileBytes;
        if (size > max)
        {
            // §4.1: the maximum, in a way clients can read.
            return (null, StanzaError.NotAcceptable($"File too large. The maximum file size is {max} bytes") with
            {
                ApplicationCondition = new Element("file-too-large", Namespace)
                    .Add(new Element("max-file-size", Namespace).AddText(max.ToString(CultureInfo.InvariantCulture))),
            });
        }
        if (await store.UsageAsync(from, ct).ConfigureAwait(false) + size > store.Options.QuotaBytesPerAccount)
            return (null, StanzaError.ResourceConstraint("Your upload quota is used up; files expire after a while"));
        var contentType = request.GetAttribute("content-type");
        if (string.IsNullOrWhiteSpace(contentType) || contentType.Length > 255 || contentType.Contains('\n', StringComparison.Ordinal) || contentType.Contains('\r', StringComparison.Ordinal))
            contentType = "application/octet-stream";
        var slot = store.CreateSlot(from, name, size, contentType);
        var url = UploadEndpoints.Url(store, slot.Id, slot.Name);
        var result = new Element("slot", Namespace)
            .Add(new Element("put", Namespace).SetAttribute("url", url)
                .Add(new Element("header", Namespace).SetAttribute("name", "Authorization").AddText("Bearer " + slot.Token)))
            .Add(new Element("get", Namespace).SetAttribute("url", url));
        return (result, null);
    }
}
