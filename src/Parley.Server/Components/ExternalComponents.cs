using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;

namespace Parley.Server.Components;

/// <summary>The external components of the configuration (Components:List), by domain.</summary>
public sealed class ExternalComponents
{
    private readonly FrozenDictionary<string, ExternalComponent> _byDomain;

    /// <summary>Creates one <see cref="ExternalComponent"/> per configured domain.</summary>
    public ExternalComponents(IOptions<ParleyOptions> options, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("Parley.Components");
        var byDomain = new Dictionary<string, ExternalComponent>(StringComparer.Ordinal);
        foreach (var c in options.Value.Components.List)
        {
            var domain = Jid.Create(null, c.Domain).Domain;
            byDomain[domain] = new ExternalComponent(domain, c.Secret, log);
        }
        _byDomain = byDomain.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every configured component, in no particular order.</summary>
    public IEnumerable<ExternalComponent> All => _byDomain.Values;

    /// <summary>The component configured for a domain (normalized), if any.</summary>
    public bool TryGet(string domain, out ExternalComponent component) => _byDomain.TryGetValue(domain, out component!);
}
