namespace Parley.Protocol;

/// <summary>Namespace URIs, each beside the specification that defines it.</summary>
public static class Ns
{
    /// <summary>RFC 6120 §4.8.1: the stream namespace.</summary>
    public const string Streams = "http://etherx.jabber.org/streams";
    /// <summary>RFC 6120 §4.8.2: content namespace of client streams.</summary>
    public const string Client = "jabber:client";
    /// <summary>RFC 6120 §4.8.2: content namespace of server streams.</summary>
    public const string Server = "jabber:server";
    /// <summary>XEP-0220: server dialback elements (db:result, db:verify).</summary>
    public const string Dialback = "jabber:server:dialback";
    /// <summary>XEP-0220 §2.4: the dialback stream feature.</summary>
    public const string DialbackFeature = "urn:xmpp:features:dialback";
    /// <summary>XEP-0288 §2.2: the request for a bidirectional server stream.</summary>
    public const string Bidi = "urn:xmpp:bidi";
    /// <summary>XEP-0288 §2.1: the bidirectional server stream feature.</summary>
    public const string BidiFeature = "urn:xmpp:features:bidi";
    /// <summary>XEP-0114: content namespace of accepted component streams.</summary>
    public const string ComponentAccept = "jabber:component:accept";
    /// <summary>RFC 6120 §4.9.3: stream error conditions.</summary>
    public const string StreamErrors = "urn:ietf:params:xml:ns:xmpp-streams";
    /// <summary>RFC 6120 §8.3.3: stanza error conditions.</summary>
    public const string Stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
    /// <summary>RFC 6120 §5: STARTTLS.</summary>
    public const string Tls = "urn:ietf:params:xml:ns:xmpp-tls";
    /// <summary>RFC 6120 §6: SASL.</summary>
    public const string Sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
    /// <summary>RFC 6120 §7: resource binding.</summary>
    public const string Bind = "urn:ietf:params:xml:ns:xmpp-bind";
    /// <summary>RFC 3921 §3 (kept as optional by draft-cridland-xmpp-session): legacy session establishment.</summary>
    public const string Session = "urn:ietf:params:xml:ns:xmpp-session";
    /// <summary>XML namespace bound to the xml: prefix.</summary>
    public const string Xml = "http://www.w3.org/XML/1998/namespace";
    /// <summary>Namespace of xmlns declarations (never appears on an element).</summary>
    public const string Xmlns = "http://www.w3.org/2000/xmlns/";
    /// <summary>RFC 6121 §2: the roster.</summary>
    public const string Roster = "jabber:iq:roster";
    /// <summary>RFC 6121 §2.6.1: the roster versioning stream feature.</summary>
    public const string RosterVersioning = "urn:xmpp:features:rosterver";
    /// <summary>XEP-0030: service discovery, information.</summary>
    public const string DiscoInfo = "http://jabber.org/protocol/disco#info";
    /// <summary>XEP-0030: service discovery, items.</summary>
    public const string DiscoItems = "http://jabber.org/protocol/disco#items";
    /// <summary>XEP-0115: entity capabilities.</summary>
    public const string Caps = "http://jabber.org/protocol/caps";
    /// <summary>XEP-0092: software version.</summary>
    public const string Version = "jabber:iq:version";
    /// <summary>XEP-0202: entity time.</summary>
    public const string Time = "urn:xmpp:time";
    /// <summary>XEP-0049: private XML storage.</summary>
    public const string PrivateXml = "jabber:iq:private";
    /// <summary>XEP-0054: vcard-temp.</summary>
    public const string VCard = "vcard-temp";
    /// <summary>XEP-0060: publish-subscribe.</summary>
    public const string PubSub = "http://jabber.org/protocol/pubsub";
    /// <summary>XEP-0060 §12: the owner use cases.</summary>
    public const string PubSubOwner = "http://jabber.org/protocol/pubsub#owner";
    /// <summary>XEP-0060 §7: event notifications.</summary>
    public const string PubSubEvent = "http://jabber.org/protocol/pubsub#event";
    /// <summary>XEP-0060 §14: application-specific error conditions.</summary>
    public const string PubSubErrors = "http://jabber.org/protocol/pubsub#errors";
    /// <summary>XEP-0313: message archive management.</summary>
    public const string Mam = "urn:xmpp:mam:2";
    /// <summary>XEP-0313 §6.1: before-id, after-id, ids, flip-page and metadata.</summary>
    public const string MamExtended = "urn:xmpp:mam:2#extended";
    /// <summary>XEP-0059: result set management.</summary>
    public const string Rsm = "http://jabber.org/protocol/rsm";
    /// <summary>XEP-0359: unique and stable stanza ids.</summary>
    public const string StanzaId = "urn:xmpp:sid:0";
    /// <summary>XEP-0280: message carbons.</summary>
    public const string Carbons = "urn:xmpp:carbons:2";
    /// <summary>XEP-0297: stanza forwarding.</summary>
    public const string Forward = "urn:xmpp:forward:0";
    /// <summary>XEP-0334: message processing hints.</summary>
    public const string Hints = "urn:xmpp:hints";
    /// <summary>XEP-0184: message delivery receipts.</summary>
    public const string Receipts = "urn:xmpp:receipts";
    /// <summary>XEP-0085: chat state notifications.</summary>
    public const string ChatStates = "http://jabber.org/protocol/chatstates";
    /// <summary>XEP-0333: chat markers.</summary>
    public const string ChatMarkers = "urn:xmpp:chat-markers:0";
    /// <summary>XEP-0045: the user namespace of multi-user chat.</summary>
    public const string MucUser = "http://jabber.org/protocol/muc#user";
    /// <summary>XEP-0198: stream management.</summary>
    public const string StreamManagement = "urn:xmpp:sm:3";
    /// <summary>XEP-0191: blocking command.</summary>
    public const string Blocking = "urn:xmpp:blocking";
    /// <summary>XEP-0191 §3.5: the application error for stanzas to a blocked entity.</summary>
    public const string BlockingErrors = "urn:xmpp:blocking:errors";
    /// <summary>XEP-0203: delayed delivery.</summary>
    public const string Delay = "urn:xmpp:delay";
    /// <summary>XEP-0160 / XEP-0013: the disco feature of offline message storage.</summary>
    public const string OfflineMessages = "msgoffline";
    /// <summary>XEP-0012: last activity.</summary>
    public const string LastActivity = "jabber:iq:last";
    /// <summary>XEP-0077: in-band registration.</summary>
    public const string Register = "jabber:iq:register";
    /// <summary>XEP-0077 §4: the registration stream feature.</summary>
    public const string RegisterFeature = "http://jabber.org/features/iq-register";
    /// <summary>XEP-0050: ad-hoc commands.</summary>
    public const string Commands = "http://jabber.org/protocol/commands";
    /// <summary>XEP-0004: data forms.</summary>
    public const string DataForms = "jabber:x:data";
    /// <summary>XEP-0199: ping.</summary>
    public const string Ping = "urn:xmpp:ping";
    /// <summary>XEP-0440: SASL channel-binding type capability.</summary>
    public const string SaslChannelBinding = "urn:xmpp:sasl-cb:0";
    /// <summary>RFC 7395 §3.3: WebSocket framing.</summary>
    public const string Framing = "urn:ietf:params:xml:ns:xmpp-framing";
    /// <summary>XEP-0124 §6: the BOSH &lt;body/&gt; wrapper.</summary>
    public const string HttpBind = "http://jabber.org/protocol/httpbind";
    /// <summary>XEP-0206 §3: XMPP attributes of the BOSH wrapper (version, restart, restartlogic).</summary>
    public const string XBosh = "urn:xmpp:xbosh";
    /// <summary>XEP-0363: HTTP file upload.</summary>
    public const string HttpUpload = "urn:xmpp:http:upload:0";
    /// <summary>XEP-0045: multi-user chat (entering a room).</summary>
    public const string Muc = "http://jabber.org/protocol/muc";
    /// <summary>XEP-0045: the admin namespace of multi-user chat.</summary>
    public const string MucAdmin = "http://jabber.org/protocol/muc#admin";
    /// <summary>XEP-0045: the owner namespace of multi-user chat.</summary>
    public const string MucOwner = "http://jabber.org/protocol/muc#owner";
    /// <summary>XEP-0388: extensible SASL profile.</summary>
    public const string Sasl2 = "urn:xmpp:sasl:2";
    /// <summary>XEP-0386: resource binding inside SASL2.</summary>
    public const string Bind2 = "urn:xmpp:bind:0";
    /// <summary>XEP-0484: fast authentication streamlining tokens.</summary>
    public const string Fast = "urn:xmpp:fast:0";
}
