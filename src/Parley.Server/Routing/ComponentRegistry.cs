using System.Collections.Concurrent;
using Parley.Protocol;

namespace Parley.Server.Routing;

/// <summary>A service on a subdomain: an internal module or an external component connection.</summary>
public interface IComponent
{
    /// <summary>Handles a stanza addressed to the component's domain.</summary>
    ValueTask HandleAsync(Stanza stanza, ISession origin, CancellationToken ct);
}

/// <summary>The subdomains served here, each by one component.</summary>
public sealed class ComponentRegistry : IComponentRouter
{
    private readonly ConcurrentDictionary<string, IComponent> _components = new(StringComparer.Ordinal);

    /// <summary>Serves a domain; false when it is already served.</summary>
    public bool TryAdd(string domain, IComponent component) => _components.TryAdd(domain, component);

    /// <summary>Stops serving a domain.</summary>
    public bool Remove(string domain, IComponent component) =>
        _components.TryRemove(new KeyValuePair<string, IComponent>(domain, component));

    /// <inheritdoc />
    public bool Handles(string domain) => _components.ContainsKey(domain);

    /// <inheritdoc />
    public ValueTask SendAsync(Stanza stanza, ISession origin, CancellationToken ct) =>
        _components.TryGetValue(stanza.To!.Value.Domain, out var component)
            ? component.HandleAsync(stanza, origin, ct)
            : ValueTask.CompletedTask;
}
