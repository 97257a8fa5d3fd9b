using Parley.Protocol;

namespace Parley.Client;

/// <summary>Reads optional JID attributes: an absent or invalid address reads as null.</summary>
internal static class JidText
{
    public static Jid? Parse(string? text) => Jid.TryParse(text, out var jid) ? jid : null;
}
