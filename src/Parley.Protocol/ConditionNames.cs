namespace Parley.Protocol;

/// <summary>Maps error condition enums to and from their element names.</summary>
internal static class ConditionNames
{
    private static readonly string[] StreamNames =
    [
        "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone", "host-unknown",
        "improper-addressing", "internal-server-error", "invalid-from", "invalid-namespace", "invalid-xml",
        "not-authorized", "not-well-formed", "policy-violation", "remote-connection-failed", "reset",
        "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown", "undefined-condition",
        "unsupported-encoding", "unsupported-feature", "unsupported-stanza-type", "unsupported-version",
    ];

    private static readonly string[] StanzaNames =
    [
        "bad-request", "conflict", "feature-not-implemented", "forbidden", "gone", "internal-server-error",
        "item-not-found", "jid-malformed", "not-acceptable", "not-allowed", "not-authorized", "policy-violation",
        "recipient-unavailable", "redirect", "registration-required", "remote-server-not-found",
        "remote-server-timeout", "resource-constraint", "service-unavailable", "subscription-required",
        "undefined-condition", "unexpected-request",
    ];

    private static readonly string[] TypeNames = ["auth", "cancel", "continue", "modify", "wait"];

    public static string ToName(StreamErrorCondition c) => StreamNames[(int)c];
    public static string ToName(StanzaErrorCondition c) => StanzaNames[(int)c];
    public static string ToName(StanzaErrorType t) => TypeNames[(int)t];

    public static bool TryParseStream(string name, out StreamErrorCondition c)
    {
        var i = Array.IndexOf(StreamNames, name);
        c = (StreamErrorCondition)Math.Max(i, 0);
        return i >= 0;
    }

    public static bool TryParseStanza(string name, out StanzaErrorCondition c)
    {
        var i = Array.IndexOf(StanzaNames, name);
        c = (StanzaErrorCondition)Math.Max(i, 0);
        return i >= 0;
    }

    public static bool TryParseType(string? name, out StanzaErrorType t)
    {
        var i = name is null ? -1 : Array.IndexOf(TypeNames, name);
        t = (StanzaErrorType)Math.Max(i, 0);
        return i >= 0;
    }
}
