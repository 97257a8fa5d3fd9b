using Parley.Protocol;

namespace Parley.Server.Modules.PubSub;

/// <summary>XEP-0060 §14 error shapes and item forms shared by PEP and the pubsub service.</summary>
internal static class PubSubErrors
{
    /// <summary>A stanza error with a pubsub#errors application condition.</summary>
    public static StanzaError With(StanzaError error, string condition) =>
        error with { ApplicationCondition = new Element(condition, Ns.PubSubErrors) };

    /// <summary>feature-not-implemented with &lt;unsupported feature=''/&gt;.</summary>
    public static StanzaError Unsupported(string feature, string where) =>
        StanzaError.FeatureNotImplemented("Not supported " + where + ": " + feature) with
        {
            ApplicationCondition = new Element("unsupported", Ns.PubSubErrors).SetAttribute("feature", feature),
        };

    /// <summary>A stored item as subscribers see it: id and payload, in the given namespace.</summary>
    public static Element PublicItem(Element stored, string ns)
    {
        var item = new Element("item", ns).SetAttribute("id", stored.GetAttribute("id"));
        if (stored.FirstChild() is { } payload) item.Add(payload.Clone());
        return item;
    }

    /// <summary>pubsub#max_items: a positive number (capped) or "max" for the cap.</summary>
    public static bool TryMaxItems(string value, int cap, out int max)
    {
        if (value == "max")
        {
            max = cap;
            return true;
        }
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out max) && max >= 1)
        {
            max = Math.Min(max, cap);
            return true;
        }
        return false;
    }
}
