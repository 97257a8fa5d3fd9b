namespace Parley.Protocol;

/// <summary>The three stanza kinds (RFC 6120 §8).</summary>
public enum StanzaKind
{
    /// <summary>&lt;message/&gt;</summary>
    Message,
    /// <summary>&lt;presence/&gt;</summary>
    Presence,
    /// <summary>&lt;iq/&gt;</summary>
    Iq,
}

/// <summary>RFC 6120 §8.2.3: the four IQ types.</summary>
public enum IqType
{
    /// <summary>A request for information.</summary>
    Get,
    /// <summary>A request that provides data or changes state.</summary>
    Set,
    /// <summary>A successful response.</summary>
    Result,
    /// <summary>An error response.</summary>
    Error,
}

/// <summary>
/// A stanza: its element plus the addressing parsed once at ingress. Setting <see cref="To"/> or
/// <see cref="From"/> updates the element.
/// </summary>
public sealed class Stanza
{
    private Jid? _to;
    private Jid? _from;

    private Stanza(Element element, StanzaKind kind, Jid? to, Jid? from)
    {
        Element = element;
        Kind = kind;
        _to = to;
        _from = from;
    }

    /// <summary>The stanza's element (namespace jabber:client).</summary>
    public Element Element { get; }

    /// <summary>message, presence or iq.</summary>
    public StanzaKind Kind { get; }

    /// <summary>The 'id' attribute.</summary>
    public string? Id => Element.GetAttribute("id");

    /// <summary>The 'type' attribute.</summary>
    public string? Type => Element.GetAttribute("type");

    /// <summary>The parsed 'to' address, or null when absent.</summary>
    public Jid? To
    {
        get => _to;
        set { _to = value; Element.SetAttribute("to", value?.ToString()); }
    }

    /// <summary>The parsed 'from' address, or null when absent.</summary>
    public Jid? From
    {
        get => _from;
        set { _from = value; Element.SetAttribute("from", value?.ToString()); }
    }

    /// <summary>The IQ type; only meaningful for IQs (unknown types read as null).</summary>
    public IqType? IqType => Kind != StanzaKind.Iq ? null : Type switch
    {
        "get" => Protocol.IqType.Get,
        "set" => Protocol.IqType.Set,
        "result" => Protocol.IqType.Result,
        "error" => Protocol.IqType.Error,
        _ => null,
    };

    /// <summary>Whether the element is a stanza by name (message, presence or iq in jabber:client).</summary>
    public static bool IsStanza(Element element) =>
        element.Namespace == Ns.Client && element.LocalName is "message" or "presence" or "iq";

    /// <summary>
    /// Wraps an element, parsing 'to' and 'from'. Returns false with jid-malformed (RFC 6120 §8.3.3.8) when an
    /// address is not a valid JID, or bad-request when the element is not a stanza.
    /// </summary>
    public static bool TryCreate(Element element, out Stanza stanza, out StanzaError? error)
    {
        stanza = null!;
        error = null;
        StanzaKind kind;
        switch (element.LocalName)
        {
            case "message" when element.Namespace == Ns.Client: kind = StanzaKind.Message; break;
            case "presence" when element.Namespace == Ns.Client: kind = StanzaKind.Presence; break;
            case "iq" when element.Namespace == Ns.Client: kind = StanzaKind.Iq; break;
            default: error = StanzaError.BadRequest("Not a stanza"); return false;
        }
        Jid? to = null, from = null;
        var toText = element.GetAttribute("to");
        if (toText is not null)
        {
            if (!Jid.TryParse(toText, out var t)) { error = StanzaError.JidMalformed("Malformed 'to' address"); return false; }
            to = t;
        }
        var fromText = element.GetAttribute("from");
        if (fromText is not null)
        {
            if (!Jid.TryParse(fromText, out var f)) { error = StanzaError.JidMalformed("Malformed 'from' address"); return false; }
            from = f;
        }
        stanza = new Stanza(element, kind, to, from);
        return true;
    }

    /// <summary>Wraps an element known to be a stanza with valid addresses; throws otherwise.</summary>
    public static Stanza Create(Element element) =>
        TryCreate(element, out var s, out var e) ? s : throw new StanzaException(e!);

    /// <summary>
    /// RFC 6120 §8.3.1: an error reply to this stanza: same kind and id, type 'error', 'to' and 'from' swapped,
    /// with the original payload kept for messages and presence and dropped for IQs.
    /// </summary>
    public Element CreateErrorReply(StanzaError error)
    {
        var reply = new Element(Element.Name);
        if (Id is not null) reply.SetAttribute("id", Id);
        reply.SetAttribute("type", "error");
        if (From is { } from) reply.SetAttribute("to", from.ToString());
        if (To is { } to) reply.SetAttribute("from", to.ToString());
        if (Kind != StanzaKind.Iq)
        {
            foreach (var node in Element.Nodes)
                if (node is Element child && child.Name.LocalName != "error") reply.Add(child.Clone());
        }
        reply.Add(error.ToElement());
        return reply;
    }

    /// <summary>An IQ result for this IQ request, with an optional payload.</summary>
    public Element CreateIqResult(Element? payload = null)
    {
        var reply = new Element("iq", Ns.Client).SetAttribute("type", "result");
        if (Id is not null) reply.SetAttribute("id", Id);
        if (From is { } from) reply.SetAttribute("to", from.ToString());
        if (To is { } to) reply.SetAttribute("from", to.ToString());
        if (payload is not null) reply.Add(payload);
        return reply;
    }
}
