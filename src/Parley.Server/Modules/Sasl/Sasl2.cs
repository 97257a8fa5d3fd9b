using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Server.Connections;

namespace Parley.Server.Modules.Sasl;

/// <summary>
/// XEP-0388 SASL2 completion: no stream restart; &lt;success/&gt; names the authorization identifier and carries the
/// results of what the client asked for inline — XEP-0386 Bind2 (a resource from the client's tag, with XEP-0198
/// and XEP-0280 enabled on the way) or XEP-0198 resumption — and is followed at once by the new stream features.
/// </summary>
internal static class Sasl2
{
    public const string Namespace = Ns.Sasl2;
    public const string Bind2 = Ns.Bind2;

    public static async ValueTask SucceedAsync(XmppStream stream, Jid account, Element authenticate, byte[]? additional, Element? token, CancellationToken ct)
    {
        var success = new Element("success", Namespace);
        if (additional is not null) success.Add(new Element("additional-data", Namespace).AddText(Convert.ToBase64String(additional)));
        if (token is not null) success.Add(token);

        // §2.6.1 with XEP-0198 inline: resume instead of binding.
        if (authenticate.Child("resume", Ns.StreamManagement) is { } resume
            && resume.GetAttribute("previd") is { } previd
            && uint.TryParse(resume.GetAttribute("h"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var h))
        {
            success.Add(new Element("authorization-identifier", Namespace).AddText(account.ToString()));
            if (await stream.ResumeInlineAsync(account, previd, h, success, ct).ConfigureAwait(false)) return;
            // Resumption failed: the client is authenticated all the same and goes on to bind.
            success = new Element("success", Namespace);
            if (additional is not null) success.Add(new Element("additional-data", Namespace).AddText(Convert.ToBase64String(additional)));
            if (token is not null) success.Add(token);
            success.Add(new Element("authorization-identifier", Namespace).AddText(account.ToString()));
            success.Add(new Element("failed", Ns.StreamManagement).Add(new Element("item-not-found", Ns.Stanzas)));
            await stream.AuthenticatedInlineAsync(account, success, ct).ConfigureAwait(false);
            return;
        }

        if (authenticate.Child("bind", Bind2) is { } bind)
        {
            // XEP-0386 §3: the server picks the resource; the client's tag (if any) starts it.
            var tag = bind.ChildText("tag", Bind2);
            var prefix = string.IsNullOrWhiteSpace(tag) ? "parley" : tag.Trim();
            if (prefix.Length > 64) prefix = prefix[..64];
            // XEP-0388 §2.3 / XEP-0386 §3: the same installation (user agent id) gets the same resource each time,
            // so its session continues where it was; without an id the suffix is random.
            var agent = authenticate.Child("user-agent", Namespace)?.GetAttribute("id");
            var suffix = string.IsNullOrEmpty(agent)
                ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))
                : Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(account.Bare + "\n" + agent)))[..8];
            if (!Jid.TryCreate(account.Local, account.Domain, prefix + "." + suffix, out var full))
                full = account.WithResource("parley." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
            success.Add(new Element("authorization-identifier", Namespace).AddText(full.ToString()));
            Element? smEnable = null;
            var carbons = false;
            foreach (var child in bind.Children)
            {
                if (child.LocalName == "enable" && child.Namespace == Ns.StreamManagement) smEnable = child;
                else if (child.LocalName == "enable" && child.Namespace == Ns.Carbons) carbons = true;
            }
            await stream.BindInlineAsync(account, full, success, smEnable, carbons, ct).ConfigureAwait(false);
            return;
        }

        success.Add(new Element("authorization-identifier", Namespace).AddText(account.ToString()));
        await stream.AuthenticatedInlineAsync(account, success, ct).ConfigureAwait(false);
    }
}
