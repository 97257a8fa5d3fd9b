using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// XEP-0115 entity capabilities: the verification string of a disco#info result (§5.1, with data forms per §5.4),
/// shared by the server (PEP's +notify filtering) and the client library (its own caps and its caps cache).
/// </summary>
public static class CapsVerification
{
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
