using Parley.Protocol;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>Stanzas the tests build again and again.</summary>
public static class Stanzas
{
    public static Element Presence(string? type = null, string? to = null, string? show = null)
    {
        var p = new Element("presence", Ns.Client);
        if (type is not null) p.SetAttribute("type", type);
        if (to is not null) p.SetAttribute("to", to);
        if (show is not null) p.Add(new Element("show", Ns.Client).AddText(show));
        return p;
    }
}
