using Microsoft.Extensions.Options;
using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>Classifies addresses against the domains this server serves.</summary>
public sealed class Addresses(IOptions<ParleyOptions> options, IComponentRouter components)
{
    /// <summary>The hosted domain.</summary>
    public string Domain { get; } = Jid.Create(null, options.Value.Domain).Domain;

    /// <summary>The hosted domain as a JID.</summary>
    public Jid DomainJid => Jid.Create(null, Domain);

    /// <summary>Whether the JID belongs to a local account (or is the domain itself).</summary>
    public bool IsLocal(Jid jid) => jid.Domain == Domain;

    /// <summary>Where a stanza to <paramref name="to"/> goes.</summary>
    public Destination Classify(Jid to)
    {
        if (to.Domain == Domain)
        {
            if (to.Local is null) return Destination.Server;
            return to.Resource is null ? Destination.Account : Destination.Resource;
        }
        return components.Handles(to.Domain) ? Destination.Component : Destination.Remote;
    }
}
