using Parley.Client;
using Parley.Protocol;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>Stanzas the tests build again and again.</summary>
public static class Stanzas
{
    public static Element Presence(string? type = null, string? to = null, string? show = null)
    {
        var p = new Element("presence", Ns.Client);
        if (type is not null) p.SetAttribute("type", type);
        if (to is not null) p.SetAttribute("to", to);
        if (show is not null) p.Add(new Element("show", Ns.Client).AddText(show));
        return p;
    }

    public static Element Chat(string to, string text) =>
        new Element("message", Ns.Client).SetAttribute("to", to).SetAttribute("type", "chat").Add(new Element("body", Ns.Client).AddText(text));

    /// <summary>The next stanza of this kind the client receives (others are skipped), within five seconds.</summary>
    public static async Task<Element> NextAsync(XmppClient client, string localName)
    {
        using var timeout = new CancellationTokenSource(5000);
        while (true)
        {
            var e = await client.ReceiveAsync(timeout.Token);
            if (e.LocalName == localName) return e;
        }
    }
}
