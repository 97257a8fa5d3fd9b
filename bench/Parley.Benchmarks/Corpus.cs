using System.Text;

namespace Parley.Benchmarks;

/// <summary>
/// A realistic client-to-server stream, generated deterministically: chat messages (some German, Japanese and emoji),
/// presence with XEP-0115 caps, roster results of 20 items and XEP-0313 MAM results.
/// </summary>
public static class Corpus
{
    public const int StanzaCount = 1000;

    private static readonly string[] Bodies =
    [
        "Hi! Are we still on for lunch tomorrow?",
        "Sure, 12:30 at the usual place. I'll bring the documents & the <draft> we talked about.",
        "Grüße aus München! Das Wetter ist großartig, wir sitzen draußen im Biergarten.",
        "明日の会議は午後三時からです。資料を準備しておいてください。",
        "On my way 🚲 — be there in 10 minutes 😀👍",
        "Could you review the pull request when you get a chance? It touches the router and the MAM store.",
        "ok",
        "Ça marche, à demain ! Ελληνικά, русский текст, 한국어도 괜찮아요.",
    ];

    // After Bodies: static initializers run in textual order.
    public static readonly byte[] Bytes = Encoding.UTF8.GetBytes(Build());

    private static string Build()
    {
        var random = new Random(6120);
        var sb = new StringBuilder(1 << 20);
        sb.Append("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ")
          .Append("to='example.com' from='juliet@example.com' version='1.0' xml:lang='en'>");
        for (var i = 0; i < StanzaCount; i++)
        {
            var kind = random.Next(100);
            if (kind < 45) Chat(sb, i, random);
            else if (kind < 70) Presence(sb, i, random);
            else if (kind < 75) Roster(sb, i);
            else Mam(sb, i, random);
            if (i % 10 == 0) sb.Append('\n'); // an occasional whitespace keepalive
        }
        sb.Append("</stream:stream>");
        return sb.ToString();
    }

    private static void Chat(StringBuilder sb, int i, Random random)
    {
        var body = Bodies[random.Next(Bodies.Length)].Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
        sb.Append("<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='msg-").Append(i).Append("' xml:lang='en'>")
          .Append("<body>").Append(body).Append("</body>")
          .Append("<active xmlns='http://jabber.org/protocol/chatstates'/>")
          .Append("<origin-id xmlns='urn:xmpp:sid:0' id='a1b2c3d4-").Append(i).Append("'/>")
          .Append("<request xmlns='urn:xmpp:receipts'/>")
          .Append("</message>");
    }

    private static void Presence(StringBuilder sb, int i, Random random)
    {
        sb.Append("<presence from='juliet@example.com/balcony' id='p").Append(i).Append("'>");
        if (random.Next(2) == 0) sb.Append("<show>away</show><status>In a meeting until 15:00</status>");
        sb.Append("<priority>5</priority>")
          .Append("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>")
          .Append("</presence>");
    }

    private static void Roster(StringBuilder sb, int i)
    {
        sb.Append("<iq type='result' id='roster-").Append(i).Append("' to='juliet@example.com/balcony'><query xmlns='jabber:iq:roster' ver='ver").Append(i).Append("'>");
        for (var n = 0; n < 20; n++)
        {
            sb.Append("<item jid='contact").Append(n).Append("@example.org' name='Contact ").Append(n).Append("' subscription='both'>")
              .Append("<group>").Append(n % 3 == 0 ? "Friends" : "Colleagues").Append("</group></item>");
        }
        sb.Append("</query></iq>");
    }

    private static void Mam(StringBuilder sb, int i, Random random)
    {
        var body = Bodies[random.Next(Bodies.Length)].Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
        sb.Append("<message to='juliet@example.com/balcony' id='mam-").Append(i).Append("'>")
          .Append("<result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-").Append(73623 + i).Append("'>")
          .Append("<forwarded xmlns='urn:xmpp:forward:0'>")
          .Append("<delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>")
          .Append("<message xmlns='jabber:client' to='juliet@example.com/balcony' from='romeo@example.net/orchard' type='chat' id='orig-").Append(i).Append("'>")
          .Append("<body>").Append(body).Append("</body></message>")
          .Append("</forwarded></result></message>");
    }
}
