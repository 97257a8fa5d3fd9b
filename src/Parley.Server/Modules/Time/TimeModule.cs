using System.Globalization;
using Parley.Protocol;

namespace Parley.Server.Modules.Time;

/// <summary>XEP-0202: the server's UTC time; the server reports offset +00:00.</summary>
public sealed class TimeModule(TimeProvider time) : IModule
{
    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("time", Xeps: [202]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Time);
        m.OnIq<EntityTime>(IqType.Get, IqTarget.Server, (_, _) =>
            ValueTask.FromResult(IqReply.Ok(new EntityTime("+00:00", time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)))));
    }
}

/// <summary>XEP-0202 §3: &lt;time xmlns='urn:xmpp:time'&gt; with tzo and utc (XEP-0082 format).</summary>
public sealed record EntityTime(string? Tzo, string? Utc) : IPayload<EntityTime>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Time, "time");

    /// <inheritdoc />
    public static EntityTime Parse(Element element) => new(element.ChildText("tzo", Ns.Time), element.ChildText("utc", Ns.Time));

    /// <inheritdoc />
    public Element ToElement()
    {
        var e = new Element(Name);
        if (Tzo is not null) e.Add(new Element("tzo", Ns.Time).AddText(Tzo));
        if (Utc is not null) e.Add(new Element("utc", Ns.Time).AddText(Utc));
        return e;
    }
}
