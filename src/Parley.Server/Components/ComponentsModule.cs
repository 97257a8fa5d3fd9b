using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Hooks;
using Parley.Server.Modules;
using Parley.Server.Routing;

namespace Parley.Server.Components;

/// <summary>
/// XEP-0114 external components: each configured domain is served through the same registry as the internal
/// services (MUC, upload, pubsub), is listed in the server's disco#items, and hears of a shutdown with
/// &lt;system-shutdown/&gt;. The connections themselves arrive through <see cref="ComponentListener"/>.
/// </summary>
public sealed class ComponentsModule(ExternalComponents components, ComponentRegistry registry, IOptions<ParleyOptions> options) : IModule
{
    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("components", Xeps: [114]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        var list = options.Value.Components.List;
        for (var i = 0; i < list.Count; i++)
        {
            if (!components.TryGet(Jid.Create(null, list[i].Domain).Domain, out var component)) continue;
            // An internal service registered first (this module comes after them in the catalog): both cannot serve it.
            if (!registry.TryAdd(component.Domain, component))
                throw new OptionsValidationException(nameof(ParleyOptions), typeof(ParleyOptions),
                    [$"Components:List:{i}:Domain: '{component.Domain}' is already served by a module of this server"]);
            m.ServiceItem(component.Domain, null);
        }
        m.Hook<ServerStopping>((_, _) => new ValueTask(CloseAllAsync()));
    }

    private Task CloseAllAsync()
    {
        var closing = new List<Task>();
        foreach (var component in components.All)
            if (component.Stream is { } stream)
                closing.Add(stream.CloseAsync(StreamError.SystemShutdown("The server is shutting down"), CancellationToken.None).AsTask());
        return Task.WhenAll(closing);
    }
}
