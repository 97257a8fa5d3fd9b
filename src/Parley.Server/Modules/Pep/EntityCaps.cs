using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Parley.Protocol;
using Parley.Server.Routing;

namespace Parley.Server.Modules.Pep;

/// <summary>
/// XEP-0115 entity capabilities of client sessions, for PEP's +notify filtering (XEP-0163 §4.4): the 'ver' a
/// session announced, and for each verified 'ver' its features. An unknown 'ver' is learned by asking the session
/// for disco#info of node#ver and checking the answer against the hash (§5.4, data forms included); an answer
/// that does not verify is used for that session only and never cached.
/// </summary>
public sealed class EntityCaps
{
    private readonly ConcurrentDictionary<string, HashSet<string>> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IClientSession, HashSet<string>> _sessions = new(ReferenceEqualityComparer.Instance);

    /// <summary>The features of a session, if known.</summary>
    public HashSet<string>? Features(IClientSession session) => _sessions.TryGetValue(session, out var f) ? f : null;

    /// <summary>Whether a session wants notifications of <paramref name="node"/>.</summary>
    public bool WantsNotify(IClientSession session, string node) =>
        _sessions.TryGetValue(session, out var features) && features.Contains(node + "+notify");

    /// <summary>The features for a verified ver, if cached.</summary>
    public bool TryGetVerified(string ver, out HashSet<string> features) => _verified.TryGetValue(ver, out features!);

    /// <summary>Records a session's features.</summary>
    public void Set(IClientSession session, HashSet<string> features) => _sessions[session] = features;

    /// <summary>Caches features under a verified ver.</summary>
    public void Cache(string ver, HashSet<string> features) => _verified.TryAdd(ver, features);

    /// <summary>Forgets a session.</summary>
    public void Forget(IClientSession session) => _sessions.TryRemove(session, out _);

    /// <summary>The features listed in a disco#info result.</summary>
    public static HashSet<string> FeaturesOf(Element query)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in query.Children)
            if (child.LocalName == "feature" && child.GetAttribute("var") is { } var) set.Add(var);
        return set;
    }

    /// <summary>XEP-0115 §5.1 and §5.4: the verification string of a disco#info result, hashed with <paramref name="hash"/>.</summary>
    public static string? Ver(Element query, string hash)
    {
        var identities = new List<string>();
        var features = new List<string>();
        var forms = new List<(string FormType, string Text)>();
        foreach (var child in query.Children)
        {
            switch (child.LocalName)
            {
                case "identity" when child.Namespace == Ns.DiscoInfo:
                    identities.Add($"{child.GetAttribute("category")}/{child.GetAttribute("type")}/{child.GetAttribute("lang", Ns.Xml)}/{child.GetAttribute("name")}");
                    break;
                case "feature" when child.Namespace == Ns.DiscoInfo:
                    features.Add(child.GetAttribute("var") ?? "");
                    break;
                case "x" when child.Namespace == Ns.DataForms:
                    if (FormText(child) is not { } form) return null;
                    forms.Add(form);
                    break;
            }
        }
        identities.Sort(StringComparer.Ordinal);
        features.Sort(StringComparer.Ordinal);
        forms.Sort((a, b) => string.CompareOrdinal(a.FormType, b.FormType));
        var s = new StringBuilder();
        foreach (var i in identities) s.Append(i).Append('<');
        foreach (var f in features) s.Append(f).Append('<');
        foreach (var (_, text) in forms) s.Append(text);
        var bytes = Encoding.UTF8.GetBytes(s.ToString());
#pragma warning disable CA5350 // XEP-0115 names SHA-1 for 'ver'; it identifies a feature set, it secures nothing.
        return hash switch
        {
            "sha-1" => Convert.ToBase64String(SHA1.HashData(bytes)),
            "sha-256" => Convert.ToBase64String(SHA256.HashData(bytes)),
            "sha-512" => Convert.ToBase64String(SHA512.HashData(bytes)),
            _ => null,
        };
#pragma warning restore CA5350
    }

    // §5.4 step 3.6: FORM_TYPE, then each field by var with its sorted values.
    private static (string, string)? FormText(Element form)
    {
        string? formType = null;
        var fields = new List<(string Var, List<string> Values)>();
        foreach (var field in form.Children)
        {
            if (field.LocalName != "field") continue;
            var var = field.GetAttribute("var") ?? "";
            var values = new List<string>();
            foreach (var v in field.Children)
                if (v.LocalName == "value") values.Add(v.Text);
            if (var == "FORM_TYPE")
            {
                if (formType is not null || values.Count != 1) return null;
                formType = values[0];
                continue;
            }
            values.Sort(StringComparer.Ordinal);
            fields.Add((var, values));
        }
        if (formType is null) return null;
        fields.Sort((a, b) => string.CompareOrdinal(a.Var, b.Var));
        var s = new StringBuilder().Append(formType).Append('<');
        foreach (var (var, values) in fields)
        {
            s.Append(var).Append('<');
            foreach (var v in values) s.Append(v).Append('<');
        }
        return (formType, s.ToString());
    }
}
