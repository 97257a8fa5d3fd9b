namespace Parley.Protocol;

/// <summary>
/// An XMPP address (RFC 7622): localpart@domainpart/resourcepart, held in normalized form so that equality and
/// hashing compare normalized parts. Parse once at ingress.
/// </summary>
public readonly record struct Jid
{
    /// <summary>The normalized localpart, or null.</summary>
    public string? Local { get; }

    /// <summary>The normalized domainpart.</summary>
    public string Domain { get; }

    /// <summary>The normalized resourcepart, or null.</summary>
    public string? Resource { get; }

    private Jid(string? local, string domain, string? resource)
    {
        Local = local;
        Domain = domain;
        Resource = resource;
    }

    /// <summary>Parses and normalizes a JID string; false when it is not a valid JID.</summary>
    public static bool TryParse(string? text, out Jid jid)
    {
        jid = default;
        if (string.IsNullOrEmpty(text)) return false;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var head = slash < 0 ? text : text[..slash];
        var resource = slash < 0 ? null : text[(slash + 1)..];
        var at = head.IndexOf('@', StringComparison.Ordinal);
        var local = at < 0 ? null : head[..at];
        var domain = at < 0 ? head : head[(at + 1)..];
        return TryCreate(local, domain, resource, out jid);
    }

    /// <summary>Parses and normalizes a JID string; throws <see cref="FormatException"/> when invalid.</summary>
    public static Jid Parse(string text) => TryParse(text, out var jid) ? jid : throw new FormatException("Not a valid JID: " + text);

    /// <summary>Builds a JID from parts, preparing and validating each; false when a part is invalid.</summary>
    public static bool TryCreate(string? local, string domain, string? resource, out Jid jid)
    {
        jid = default;
        if (local is not null && (!Precis.TryPrepareUsernameCaseMapped(local, out local) || local.Contains('@', StringComparison.Ordinal))) return false;
        if (resource is not null && !Precis.TryPrepareOpaqueString(resource, out resource)) return false;
        if (string.IsNullOrEmpty(domain) || domain.Contains('@', StringComparison.Ordinal) || domain.Contains('/', StringComparison.Ordinal)) return false;
        try
        {
            _ = new System.Globalization.IdnMapping { UseStd3AsciiRules = true }.GetAscii(domain.TrimEnd('.'));
        }
        catch (ArgumentException)
        {
            return false;
        }
        jid = new Jid(local, domain.TrimEnd('.').ToLowerInvariant(), resource);
        return true;
    }

    /// <summary>Builds a JID from parts; throws <see cref="FormatException"/> when a part is invalid.</summary>
    public static Jid Create(string? local, string domain, string? resource = null) =>
        TryCreate(local, domain, resource, out var jid) ? jid : throw new FormatException("Not a valid JID");

    /// <summary>This JID without its resource.</summary>
    public Jid Bare => new(Local, Domain, null);

    /// <summary>Whether there is no resourcepart.</summary>
    public bool IsBare => Resource is null;

    /// <summary>Whether this is a domain JID (no localpart, no resourcepart).</summary>
    public bool IsDomain => Local is null && Resource is null;

    /// <summary>Whether this value was produced by parsing (default(Jid) is not).</summary>
    public bool IsValid => Domain is not null;

    /// <summary>This JID's bare form with the given resource (prepared and validated).</summary>
    public Jid WithResource(string resource) => Create(Local, Domain, resource);

    /// <inheritdoc />
    public override string ToString() =>
        (Local is null ? "" : Local + "@") + Domain + (Resource is null ? "" : "/" + Resource);
}
