using Parley.Protocol;

namespace Parley.Server.Modules.Session;

/// <summary>
/// The legacy session establishment of RFC 3921 §3, advertised as optional (RFC 6121 Appendix E) so that old
/// clients that still send it get a result and new ones skip it.
/// </summary>
public sealed class SessionModule : IModule
{
    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("session", Required: true);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.StreamFeature(Stage.Authenticated, _ =>
            new Element("session", Ns.Session).Add(new Element("optional", Ns.Session)));
        m.OnIq<SessionRequest>(IqType.Set, IqTarget.Self, (_, _) => ValueTask.FromResult(IqReply.Empty));
        m.OnIq<SessionRequest>(IqType.Set, IqTarget.Server, (_, _) => ValueTask.FromResult(IqReply.Empty));
    }
}

/// <summary>The &lt;session/&gt; payload.</summary>
public sealed record SessionRequest : IPayload<SessionRequest>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Session, "session");

    /// <inheritdoc />
    public static SessionRequest Parse(Element element) => new();

    /// <inheritdoc />
    public Element ToElement() => new(Name);
}
