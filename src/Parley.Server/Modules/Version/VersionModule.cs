using System.Reflection;
using Parley.Protocol;

namespace Parley.Server.Modules.Version;

/// <summary>XEP-0092: the server's name and version (no operating system). Leave it out with DisabledModules: ["version"].</summary>
public sealed class VersionModule : IModule
{
    private static readonly string ServerVersion =
        typeof(VersionModule).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <inheritdoc />
    public static ModuleInfo Info { get; } = new("version", Xeps: [92]);

    /// <inheritdoc />
    public void Register(ModuleBuilder m)
    {
        m.Feature(Ns.Version);
        m.OnIq<VersionQuery>(IqType.Get, IqTarget.Server, (_, _) => ValueTask.FromResult(IqReply.Ok(new VersionQuery("Parley", ServerVersion))));
    }
}

/// <summary>XEP-0092 §2: the jabber:iq:version query.</summary>
public sealed record VersionQuery(string? SoftwareName, string? SoftwareVersion) : IPayload<VersionQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Version, "query");

    /// <inheritdoc />
    public static VersionQuery Parse(Element element) =>
        new(element.ChildText("name", Ns.Version), element.ChildText("version", Ns.Version));

    /// <inheritdoc />
    public Element ToElement()
    {
        var query = new Element(Name);
        if (SoftwareName is not null) query.Add(new Element("name", Ns.Version).AddText(SoftwareName));
        if (SoftwareVersion is not null) query.Add(new Element("version", Ns.Version).AddText(SoftwareVersion));
        return query;
    }
}
