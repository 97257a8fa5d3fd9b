namespace Parley.Protocol;

/// <summary>
/// The attributes of an opening stream tag (RFC 6120 §4.7) or of a WebSocket <c>&lt;open/&gt;</c> (RFC 7395 §3.3.1).
/// <see cref="ContentNamespace"/> is the default namespace declared on it (jabber:client, jabber:server, ...);
/// <see cref="StreamNamespace"/> is the namespace bound to the element's own name.
/// </summary>
public sealed record StreamHeader(
    string? To,
    string? From,
    string? Id,
    string? Version,
    string? Lang,
    string ContentNamespace,
    string StreamNamespace)
{
    /// <summary>Other namespace prefixes declared on the header (for example xmlns:db for dialback), prefix to URI.</summary>
    public IReadOnlyDictionary<string, string> Prefixes { get; init; } = new Dictionary<string, string>();
}
