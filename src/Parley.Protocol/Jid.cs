using System.Globalization;
using System.Net;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// An XMPP address (RFC 7622): localpart@domainpart/resourcepart, held in normalized form so that equality and
/// hashing compare normalized parts. Parse once at ingress.
/// </summary>
/// <remarks>
/// Localparts are prepared with PRECIS UsernameCaseMapped (RFC 8265 §3.3) less RFC 7622 §3.3.1's excluded
/// characters; resourceparts with OpaqueString (RFC 8265 §4.2); domainparts are lower-cased IDNA names held in
/// their Unicode (U-label) form, so that an A-label and its U-label compare equal, or IP literals (§3.2).
/// Every part is 1 to 1023 octets of UTF-8.
/// </remarks>
public readonly record struct Jid
{
    private const int MaxPartBytes = 1023;
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };
    private readonly string? _text;

    /// <summary>The normalized localpart, or null.</summary>
    public string? Local { get; }

    /// <summary>The normalized domainpart.</summary>
    public string Domain { get; }

    /// <summary>The normalized resourcepart, or null.</summary>
    public string? Resource { get; }

    private Jid(string? local, string domain, string? resource)
        : this(local, domain, resource, local is null
            ? resource is null ? domain : string.Concat(domain, "/", resource)
            : resource is null ? string.Concat(local, "@", domain) : string.Concat([local, "@", domain, "/", resource]))
    {
    }

    // text is the JID's normalized string form, made by the caller (the parsed text itself when parsing changed no
    // part: no string is built for it).
    private Jid(string? local, string domain, string? resource, string text)
    {
        Local = local;
        Domain = domain;
        Resource = resource;
        _text = text;
    }

    /// <summary>Parses and normalizes a JID string; false when it is not a valid JID.</summary>
    public static bool TryParse(string? text, out Jid jid)
    {
        jid = default;
        if (string.IsNullOrEmpty(text)) return false;
        // RFC 7622 §3.1: the resourcepart is everything after the first '/'; the localpart is everything before
        // the first '@' of what remains.
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var headLength = slash < 0 ? text.Length : slash;
        var resource = slash < 0 ? null : text[(slash + 1)..];
        var at = text.AsSpan(0, headLength).IndexOf('@');
        var local = at < 0 ? null : text[..at];
        var domain = at < 0 ? slash < 0 ? text : text[..slash] : text[(at + 1)..headLength];
        if (!TryPrepareParts(ref local, ref domain, ref resource, out var unchanged)) return false;
        // Already in normal form (the common case: servers and clients send what they were given): the text is the
        // JID's string as it stands.
        jid = unchanged ? new Jid(local, domain, resource, text) : new Jid(local, domain, resource);
        return true;
    }

    /// <summary>Parses and normalizes a JID string; throws <see cref="FormatException"/> when invalid.</summary>
    public static Jid Parse(string text) => TryParse(text, out var jid) ? jid : throw new FormatException("Not a valid JID: " + text);

    /// <summary>Builds a JID from parts, preparing and validating each; false when a part is invalid.</summary>
    public static bool TryCreate(string? local, string domain, string? resource, out Jid jid)
    {
        jid = default;
        if (!TryPrepareParts(ref local, ref domain, ref resource, out _)) return false;
        jid = new Jid(local, domain, resource);
        return true;
    }

    // Prepares and validates each part in place; unchanged says whether every part came back as the same string.
    private static bool TryPrepareParts(ref string? local, ref string domain, ref string? resource, out bool unchanged)
    {
        unchanged = false;
        var l = local;
        var r = resource;
        if (l is not null && (!Precis.TryPrepareUsernameCaseMapped(l, out l) || !FitsPart(l))) return false;
        if (r is not null && (!Precis.TryPrepareOpaqueString(r, out r) || !FitsPart(r))) return false;
        if (!TryPrepareDomain(domain, out var d)) return false;
        unchanged = ReferenceEquals(l, local) && ReferenceEquals(r, resource) && ReferenceEquals(d, domain);
        local = l;
        domain = d;
        resource = r;
        return true;
    }

    /// <summary>Builds a JID from parts; throws <see cref="FormatException"/> when a part is invalid.</summary>
    public static Jid Create(string? local, string domain, string? resource = null) =>
        TryCreate(local, domain, resource, out var jid) ? jid : throw new FormatException("Not a valid JID");

    /// <summary>This JID without its resource.</summary>
    public Jid Bare => Resource is null ? this : new(Local, Domain, null, _text![..(_text!.Length - Resource.Length - 1)]);

    /// <summary>Whether <paramref name="other"/> has the same bare JID (localpart and domainpart), as
    /// <c>Bare == other.Bare</c> says, without making either bare form.</summary>
    public bool BareEquals(Jid other) => string.Equals(Local, other.Local, StringComparison.Ordinal) && string.Equals(Domain, other.Domain, StringComparison.Ordinal);

    /// <summary>Whether there is no resourcepart.</summary>
    public bool IsBare => Resource is null;

    /// <summary>Whether this is a domain JID (no localpart, no resourcepart).</summary>
    public bool IsDomain => Local is null && Resource is null;

    /// <summary>Whether this value was produced by parsing (default(Jid) is not).</summary>
    public bool IsValid => Domain is not null;

    /// <summary>This JID's bare form with the given resource (prepared and validated).</summary>
    public Jid WithResource(string resource) => Create(Local, Domain, resource);

    /// <inheritdoc />
    public override string ToString() => _text ?? "";

    private static bool FitsPart(string part) => part.Length > 0 && (part.Length <= MaxPartBytes / 3 || Encoding.UTF8.GetByteCount(part) <= MaxPartBytes);

    // RFC 7622 §3.2: an IP literal, or an IDNA domain name (a trailing dot is removed).
    private static bool TryPrepareDomain(string? domain, out string prepared)
    {
        prepared = "";
        if (string.IsNullOrEmpty(domain)) return false;
        if (domain.EndsWith('.')) domain = domain[..^1];
        if (domain.Length == 0) return false;
        if (domain[0] == '[')
        {
            if (domain[^1] != ']' || !IPAddress.TryParse(domain[1..^1], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
            prepared = "[" + v6 + "]";
            return true;
        }
        if (IsLdhAscii(domain))
        {
            prepared = domain.ToLowerInvariant();
            if (!prepared.Contains("xn--", StringComparison.Ordinal)) return LabelsFit(prepared);
        }
        try
        {
            var ascii = Idn.GetAscii(domain);
            if (!LabelsFit(ascii)) return false;
            prepared = Idn.GetUnicode(ascii).ToLowerInvariant().Normalize(NormalizationForm.FormC);
            return Encoding.UTF8.GetByteCount(prepared) <= MaxPartBytes;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsLdhAscii(string s)
    {
        foreach (var c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')) return false;
        return true;
    }

    private static bool LabelsFit(string ascii)
    {
        if (ascii.Length is 0 or > MaxPartBytes) return false;
        var start = 0;
        for (var i = 0; i <= ascii.Length; i++)
        {
            if (i < ascii.Length && ascii[i] != '.') continue;
            var length = i - start;
            if (length is 0 or > 63) return false;
            if (ascii[start] == '-' || ascii[i - 1] == '-') return false;
            start = i + 1;
        }
        return true;
    }
}
