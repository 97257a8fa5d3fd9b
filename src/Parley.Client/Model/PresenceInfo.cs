using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>A presence stanza read into its common parts (RFC 6121 §4.7): type, show, status, priority.</summary>
public sealed record PresenceInfo
{
    /// <summary>Who the presence is from.</summary>
    public Jid? From { get; init; }

    /// <summary>The 'type' attribute; null for available.</summary>
    public string? Type { get; init; }

    /// <summary>away, chat, dnd or xa; null for plain available.</summary>
    public string? Show { get; init; }

    /// <summary>The status text.</summary>
    public string? Status { get; init; }

    /// <summary>The priority (0 when absent).</summary>
    public int Priority { get; init; }

    /// <summary>Whether this is available presence (no type).</summary>
    public bool IsAvailable => Type is null;

    /// <summary>The presence element.</summary>
    public required Element Element { get; init; }

    /// <summary>Reads a presence element.</summary>
    public static PresenceInfo Parse(Element presence)
    {
        _ = int.TryParse(presence.ChildText("priority", Ns.Client), System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out var priority);
        return new PresenceInfo
        {
            From = JidText.Parse(presence.GetAttribute("from")),
            Type = presence.GetAttribute("type"),
            Show = presence.ChildText("show", Ns.Client),
            Status = presence.ChildText("status", Ns.Client),
            Priority = priority,
            Element = presence,
        };
    }
}
