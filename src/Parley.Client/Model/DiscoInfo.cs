using Parley.Protocol;

namespace Parley.Client.Model;

/// <summary>A XEP-0030 disco#info result: identities, features and XEP-0128 extension forms.</summary>
public sealed record DiscoInfo
{
    /// <summary>The identities as (category, type, name).</summary>
    public IReadOnlyList<(string Category, string Type, string? Name)> Identities { get; init; } = [];

    /// <summary>The features.</summary>
    public IReadOnlySet<string> Features { get; init; } = new HashSet<string>();

    /// <summary>The extension forms (jabber:x:data, type result).</summary>
    public IReadOnlyList<Element> Forms { get; init; } = [];

    /// <summary>The query element.</summary>
    public required Element Element { get; init; }

    /// <summary>Whether <paramref name="feature"/> is listed.</summary>
    public bool Supports(string feature) => Features.Contains(feature);

    /// <summary>Reads a disco#info query element.</summary>
    public static DiscoInfo Parse(Element query)
    {
        var identities = new List<(string, string, string?)>();
        var forms = new List<Element>();
        foreach (var child in query.Children)
        {
            if (child.LocalName == "identity" && child.Namespace == Ns.DiscoInfo)
                identities.Add((child.GetAttribute("category") ?? "", child.GetAttribute("type") ?? "", child.GetAttribute("name")));
            else if (child.LocalName == "x" && child.Namespace == Ns.DataForms)
                forms.Add(child);
        }
        return new DiscoInfo { Identities = identities, Features = CapsVerification.FeaturesOf(query), Forms = forms, Element = query };
    }
}
