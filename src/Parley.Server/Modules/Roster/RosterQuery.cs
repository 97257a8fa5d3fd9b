using Parley.Protocol;

namespace Parley.Server.Modules.Roster;

/// <summary>RFC 6121 §2.1: the &lt;query xmlns='jabber:iq:roster'/&gt; payload.</summary>
public sealed record RosterQuery(string? Ver, IReadOnlyList<Element> Items) : IPayload<RosterQuery>
{
    /// <inheritdoc />
    public static QName Name { get; } = new(Ns.Roster, "query");

    /// <inheritdoc />
    public static RosterQuery Parse(Element element)
    {
        var items = new List<Element>();
        foreach (var child in element.Children)
            if (child.Name.LocalName == "item" && child.Namespace == Ns.Roster) items.Add(child);
        return new RosterQuery(element.GetAttribute("ver"), items);
    }

    /// <inheritdoc />
    public Element ToElement()
    {
        var query = new Element(Name);
        if (Ver is not null) query.SetAttribute("ver", Ver);
        foreach (var item in Items) query.Add(item);
        return query;
    }
}
