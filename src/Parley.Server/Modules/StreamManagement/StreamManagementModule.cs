using System.Globalization;
using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Modules.StreamManagement;

/// <summary>
/// XEP-0198 stream management: &lt;enable/&gt; after binding (with resumption unless it is configured off),
/// acknowledgement requests and answers with 32-bit counters that wrap, and &lt;resume/&gt; after authentication
/// in place of binding. The session side (counting, keeping unacknowledged stanzas, waiting to be resumed and
/// routing what was never acknowledged when it ends) is <see cref="ClientSession"/>.
/// </summary>
public sealed class StreamManagementModule : IModule
{
    private static readonly QName Enable = new(Ns.StreamManagement, "enable");
    private static readonly QName Resume = new(Ns.StreamManagement, "resume");
    private static readonly QName Request = new(Ns.StreamManagement, "r");
    private static readonly QName Answer = new(Ns.StreamManagement, "a");

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("sm", Xeps: [198]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        // §2: advertised with the features after authentication.
        m.StreamFeature(Stage.Authenticated, _ => new Element("sm", Ns.StreamManagement));
        m.OnStreamElement(Enable, Stage.Bound, (e, stream, ct) =>
        {
            var resume = e.GetAttribute("resume") is "true" or "1";
            int? max = int.TryParse(e.GetAttribute("max"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
            return ((XmppStream)stream).EnableManagementAsync(resume, max, ct);
        });
        m.OnStreamElement(Request, Stage.Bound, (_, stream, ct) => Managed(stream, s => s.AckRequestedAsync(ct), ct));
        m.OnStreamElement(Answer, Stage.Bound, (e, stream, ct) =>
        {
            if (!TryCounter(e, out var h)) return stream.CloseAsync(StreamError.InvalidXml("<a/> needs an 'h' from 0 to 4294967295"), ct);
            return Managed(stream, s => s.AcknowledgedAsync(h, ct), ct);
        });
        m.OnStreamElement(Resume, Stage.Authenticated, (e, stream, ct) =>
        {
            var previd = e.GetAttribute("previd");
            if (previd is null || !TryCounter(e, out var h))
                return stream.SendAsync(new Element("failed", Ns.StreamManagement).Add(new Element("bad-request", Ns.Stanzas)), ct);
            return ((XmppStream)stream).ResumeAsync(previd, h, ct);
        });
    }

    // §4: acknowledgements only make sense once stream management is enabled.
    private static ValueTask Managed(IStreamContext stream, Func<XmppStream, ValueTask> action, CancellationToken ct)
    {
        var xmpp = (XmppStream)stream;
        if (xmpp.Session is { Managed: true }) return action(xmpp);
        return stream.SendAsync(new Element("failed", Ns.StreamManagement).Add(new Element("unexpected-request", Ns.Stanzas)), ct);
    }

    private static bool TryCounter(Element e, out uint h) =>
        uint.TryParse(e.GetAttribute("h"), NumberStyles.None, CultureInfo.InvariantCulture, out h);
}
