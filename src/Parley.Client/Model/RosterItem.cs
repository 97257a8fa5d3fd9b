using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>One roster item (RFC 6121 §2.1.2).</summary>
public sealed record RosterItem
{
    /// <summary>The contact's bare JID.</summary>
    public required Jid Jid { get; init; }

    /// <summary>The name the user gave the contact.</summary>
    public string? Name { get; init; }

    /// <summary>none, to, from or both; "remove" in a push that removed the item.</summary>
    public string Subscription { get; init; } = "none";

    /// <summary>Whether a subscription request to the contact is pending (ask='subscribe').</summary>
    public bool Pending { get; init; }

    /// <summary>Whether the user pre-approved the contact's subscription (§3.4).</summary>
    public bool Approved { get; init; }

    /// <summary>The groups.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>Reads an item element; null when its JID is invalid.</summary>
    public static RosterItem? Parse(Element item)
    {
        if (!Jid.TryParse(item.GetAttribute("jid"), out var jid)) return null;
        var groups = new List<string>();
        foreach (var g in item.Children)
            if (g.LocalName == "group") groups.Add(g.Text);
        return new RosterItem
        {
            Jid = jid.Bare,
            Name = item.GetAttribute("name"),
            Subscription = item.GetAttribute("subscription") ?? "none",
            Pending = item.GetAttribute("ask") == "subscribe",
            Approved = item.GetAttribute("approved") is "true" or "1",
            Groups = groups,
        };
    }
}
