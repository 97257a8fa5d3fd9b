using Parley.Protocol;

namespace Parley.Server.Modules.Ping;

/// <summary>XEP-0199: the server answers pings to itself (§4.2) and on behalf of its accounts' bare JIDs.</summary>
public sealed class PingModule : IModule
{
    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("ping", Xeps: [199]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Ping);
        m.OnIq<Ping>(IqType.Get, IqTarget.Server, (_, _) => ValueTask.FromResult(IqReply.Empty));
        m.OnIq<Ping>(IqType.Get, IqTarget.Self, (_, _) => ValueTask.FromResult(IqReply.Empty));
    }
}

/// <summary>XEP-0199 §3: the ping payload is an empty element.</summary>
public sealed record Ping : IPayload<Ping>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Ping, "ping");

    /// <inheritdoc />
    public static Ping Parse(Element element) => new();

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}
