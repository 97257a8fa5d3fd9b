using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Parley.Protocol;

/// <summary>
/// Interns the names, namespace URIs and common attribute values of XMPP so that parsing a stanza does not allocate
/// a new string for "message", "jabber:client" or "chat" each time. A static table of well-known strings is shared
/// (read-only); each framer adds the names it meets to a small table of its own, up to a fixed bound so a peer
/// cannot grow it without limit.
/// </summary>
internal sealed class XmlNameTable
{
    private const int DynamicSlots = 512;
    private const int DynamicMaxEntries = 256;

    private Entry[]? _dynamic;
    private int _dynamicCount;

    private struct Entry
    {
        public int Hash;
        public byte[] Key;
        public string Value;
    }

    /// <summary>Strings worth interning: element and attribute names, namespaces, prefixes, frequent values.</summary>
    private static readonly string[] WellKnown =
    [
        // RFC 6120 / 6121 elements and attributes
        "stream", "message", "presence", "iq", "body", "subject", "thread", "show", "status", "priority", "error",
        "text", "query", "item", "features", "starttls", "proceed", "mechanisms", "mechanism", "auth", "success",
        "failure", "challenge", "response", "abort", "bind", "resource", "jid", "session", "required", "optional",
        "to", "from", "id", "type", "lang", "version", "name", "subscription", "ask", "group", "approved", "ver",
        "xml", "xmlns", "db", "open", "close", "by", "code", "reason",
        // values
        "chat", "normal", "groupchat", "headline", "get", "set", "result", "unavailable", "subscribe", "subscribed",
        "unsubscribe", "unsubscribed", "probe", "both", "none", "remove", "away", "xa", "dnd", "en", "de", "fr", "ja",
        "1.0", "sha-1", "true", "false", "0", "1", "cancel", "modify", "wait", "continue", "submit", "form",
        "PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "EXTERNAL", "ANONYMOUS",
        // XEP elements and attributes
        "c", "x", "delay", "stamp", "hash", "node", "ext", "forwarded", "fin", "first", "last", "count", "before",
        "after", "max", "index", "field", "value", "var", "label", "identity", "feature", "category", "ping",
        "active", "composing", "paused", "inactive", "gone", "request", "received", "markable", "displayed",
        "acknowledged", "origin-id", "stanza-id", "queryid", "enable", "enabled", "resume", "resumed", "r", "a",
        "h", "sm", "private", "sent", "no-store", "store", "no-permanent-store", "nick", "photo", "data", "info",
        "metadata", "pubsub", "publish", "items", "event", "retract", "complete", "queryid", "with", "start", "end",
        "vCard", "FN", "NICKNAME", "PHOTO", "TYPE", "BINVAL", "password", "destroy", "invite", "decline", "role",
        "affiliation", "participant", "moderator", "visitor", "member", "owner", "admin", "outcast",
        // namespaces
        Ns.Streams, Ns.Client, Ns.Server, Ns.ComponentAccept, Ns.StreamErrors, Ns.Stanzas, Ns.Tls, Ns.Sasl, Ns.Bind,
        Ns.Session, Ns.Xml, Ns.Ping, Ns.SaslChannelBinding, Ns.Framing, "jabber:server:dialback", "jabber:iq:roster",
        "jabber:iq:private", "jabber:iq:register", "jabber:iq:version", "jabber:iq:last", "jabber:x:data",
        "jabber:x:conference", "jabber:x:oob", "vcard-temp", "vcard-temp:x:update", "http://jabber.org/protocol/caps",
        "http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
        "http://jabber.org/protocol/chatstates", "http://jabber.org/protocol/muc", "http://jabber.org/protocol/muc#user",
        "http://jabber.org/protocol/muc#admin", "http://jabber.org/protocol/muc#owner", "http://jabber.org/protocol/rsm",
        "http://jabber.org/protocol/pubsub", "http://jabber.org/protocol/pubsub#event", "http://jabber.org/protocol/nick",
        "http://jabber.org/protocol/commands", "urn:xmpp:mam:2", "urn:xmpp:forward:0", "urn:xmpp:delay",
        "urn:xmpp:receipts", "urn:xmpp:sid:0", "urn:xmpp:chat-markers:0", "urn:xmpp:carbons:2", "urn:xmpp:sm:3",
        "urn:xmpp:hints", "urn:xmpp:time", "urn:xmpp:blocking", "urn:xmpp:csi:0", "urn:xmpp:avatar:data",
        "urn:xmpp:avatar:metadata", "urn:xmpp:http:upload:0", "urn:xmpp:message-correct:0", "urn:xmpp:reactions:0",
        "urn:xmpp:features:rosterver", "urn:xmpp:features:pre-approval", "urn:ietf:params:xml:ns:xmpp-stanzas",
        "urn:xmpp:sasl:2", "urn:xmpp:bind:0", "urn:xmpp:omemo:2", "eu.siacs.conversations.axolotl",
    ];

    // Declared after WellKnown: static initializers run in textual order.
    private static readonly Entry[] Known = BuildKnown(out KnownMask);
    private static readonly int KnownMask;

    /// <summary>The string for a name or namespace (added to this table when new). The bytes must be free of
    /// markup; they are validated as UTF-8 when decoded. Returns null when they are not valid UTF-8.</summary>
    public string? GetOrAdd(ReadOnlySpan<byte> bytes)
    {
        var hash = Hash(bytes);
        var known = Find(Known, KnownMask, hash, bytes);
        if (known is not null) return known;
        if (_dynamic is not null)
        {
            var found = Find(_dynamic, DynamicSlots - 1, hash, bytes);
            if (found is not null) return found;
        }
        var value = Decode(bytes);
        if (value is null || _dynamicCount >= DynamicMaxEntries || bytes.Length > 128) return value;
        _dynamic ??= new Entry[DynamicSlots];
        Insert(_dynamic, DynamicSlots - 1, hash, bytes.ToArray(), value);
        _dynamicCount++;
        return value;
    }

    /// <summary>A well-known string with these bytes, or null (never adds: used for attribute values).</summary>
    public static string? TryGetKnown(ReadOnlySpan<byte> bytes) =>
        bytes.Length > 64 ? null : Find(Known, KnownMask, Hash(bytes), bytes);

    /// <summary>Strict UTF-8 decoding; null when invalid.</summary>
    public static string? Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "";
        if (!Utf8.IsValid(bytes)) return null;
        return Encoding.UTF8.GetString(bytes);
    }

    private static string? Find(Entry[] table, int mask, int hash, ReadOnlySpan<byte> bytes)
    {
        var i = hash & mask;
        while (true)
        {
            ref var e = ref table[i];
            if (e.Key is null) return null;
            if (e.Hash == hash && bytes.SequenceEqual(e.Key)) return e.Value;
            i = (i + 1) & mask;
        }
    }

    private static void Insert(Entry[] table, int mask, int hash, byte[] key, string value)
    {
        var i = hash & mask;
        while (table[i].Key is not null)
        {
            if (table[i].Hash == hash && key.AsSpan().SequenceEqual(table[i].Key)) return;
            i = (i + 1) & mask;
        }
        table[i] = new Entry { Hash = hash, Key = key, Value = value };
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        // Up to three 8-byte words (start, middle, end) and the length: cheap, and enough to tell XMPP names apart.
        ulong h;
        if (bytes.Length >= 8)
        {
            h = BinaryPrimitives.ReadUInt64LittleEndian(bytes) * 0x9E3779B97F4A7C15UL;
            h ^= BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]) * 0xC2B2AE3D27D4EB4FUL;
            if (bytes.Length > 16) h ^= BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(bytes.Length / 2 - 4, 8)) * 0x165667B19E3779F9UL;
        }
        else if (bytes.Length >= 4)
        {
            // Two overlapping 4-byte words cover 4 to 7 bytes without a loop.
            h = (BinaryPrimitives.ReadUInt32LittleEndian(bytes) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) << 32))
                * 0x9E3779B97F4A7C15UL;
        }
        else
        {
            h = bytes.IsEmpty ? 0 : (bytes[0] | ((ulong)bytes[bytes.Length >> 1] << 8) | ((ulong)bytes[^1] << 16)) * 0x9E3779B97F4A7C15UL;
        }
        h ^= (ulong)bytes.Length;
        h ^= h >> 29;
        return (int)(h ^ (h >> 32));
    }

    private static Entry[] BuildKnown(out int mask)
    {
        var size = 1;
        while (size < WellKnown.Length * 4) size <<= 1;
        var table = new Entry[size];
        mask = size - 1;
        foreach (var s in WellKnown)
        {
            var key = Encoding.UTF8.GetBytes(s);
            Insert(table, mask, Hash(key), key, s);
        }
        return table;
    }
}
