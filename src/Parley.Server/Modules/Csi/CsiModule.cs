using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Modules.Csi;

/// <summary>
/// XEP-0352 client state indication: &lt;inactive/&gt; and &lt;active/&gt; on a bound stream. While inactive the
/// session holds back presence updates and chat states (see <see cref="ClientSession.SetActive"/>), which saves a
/// phone's battery and radio; anything that matters flushes them first.
/// </summary>
public sealed class CsiModule : IModule
{
    /// <summary>XEP-0352's namespace.</summary>
    public const string Namespace = "urn:xmpp:csi:0";

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("csi", Xeps: [352]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.StreamFeature(Stage.Authenticated, _ => new Element("csi", Namespace));
        m.OnStreamElement(new QName(Namespace, "inactive"), Stage.Bound, (_, stream, _) => SetActive(stream, active: false));
        m.OnStreamElement(new QName(Namespace, "active"), Stage.Bound, (_, stream, _) => SetActive(stream, active: true));
    }

    private static ValueTask SetActive(IStreamContext stream, bool active)
    {
        ((XmppStream)stream).Session?.SetActive(active);
        return ValueTask.CompletedTask;
    }
}
