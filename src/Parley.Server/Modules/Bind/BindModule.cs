using System.Security.Cryptography;
using Parley.Protocol;

namespace Parley.Server.Modules.Bind;

/// <summary>RFC 6120 §7: resource binding, client-chosen or server-generated.</summary>
public sealed class BindModule : IModule
{
    private static readonly QName BindName = new(Ns.Bind, "bind");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("bind", Required: true);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.StreamFeature(Stage.Authenticated, _ => new Element(BindName));
        m.OnNegotiationIq(BindName, async (iq, stream, ct) =>
        {
            if (iq.IqType != IqType.Set)
            {
                await stream.SendAsync(iq.CreateErrorReply(StanzaError.BadRequest("Bind with an IQ set")), ct).ConfigureAwait(false);
                return;
            }
            var account = stream.Account!.Value;
            var requested = iq.Element.FirstChild()!.ChildText("resource", Ns.Bind);
            Jid full;
            if (string.IsNullOrEmpty(requested))
            {
                // §7.6: the server generates a resourcepart.
                full = account.WithResource("parley-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
            }
            else if (!Jid.TryCreate(account.Local, account.Domain, requested, out full))
            {
                // §7.7.2.1: a resourcepart that cannot be prepared.
                await stream.SendAsync(iq.CreateErrorReply(StanzaError.BadRequest("The resource is not a valid resourcepart")), ct).ConfigureAwait(false);
                return;
            }
            if (!await stream.BindAsync(full, ct).ConfigureAwait(false))
            {
                // §7.6.2.1: the account has as many resources as it may.
                await stream.SendAsync(iq.CreateErrorReply(StanzaError.ResourceConstraint("Too many connected resources")), ct).ConfigureAwait(false);
                return;
            }
            var result = new Element("iq", Ns.Client).SetAttribute("type", "result").SetAttribute("id", iq.Id);
            result.Add(new Element(BindName).Add(new Element("jid", Ns.Bind).AddText(full.ToString())));
            await stream.SendAsync(result, ct).ConfigureAwait(false);
        });
    }
}
