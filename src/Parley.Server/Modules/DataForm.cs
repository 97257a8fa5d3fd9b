using Parley.Protocol;

namespace Parley.Server.Modules;

/// <summary>XEP-0004 data forms: just what the administrative commands need.</summary>
internal static class DataForm
{
    public static Element Create(string type, string? title, string formType, params Element[] fields)
    {
        var x = new Element("x", Ns.DataForms).SetAttribute("type", type);
        if (title is not null) x.Add(new Element("title", Ns.DataForms).AddText(title));
        x.Add(Field("FORM_TYPE", "hidden", null, false, formType));
        foreach (var f in fields) x.Add(f);
        return x;
    }

    public static Element Field(string var, string type, string? label, bool required, params string[] values)
    {
        var field = new Element("field", Ns.DataForms).SetAttribute("var", var).SetAttribute("type", type);
        if (label is not null) field.SetAttribute("label", label);
        if (required) field.Add(new Element("required", Ns.DataForms));
        foreach (var v in values) field.Add(new Element("value", Ns.DataForms).AddText(v));
        return field;
    }

    public static List<string> Values(Element form, string var)
    {
        var values = new List<string>();
        foreach (var field in form.Children)
        {
            if (field.LocalName != "field" || field.GetAttribute("var") != var) continue;
            foreach (var v in field.Children)
                if (v.LocalName == "value") values.Add(v.Text);
        }
        return values;
    }

    public static string? Value(Element form, string var)
    {
        var values = Values(form, var);
        return values.Count == 0 ? null : string.Join("\n", values);
    }

    /// <summary>Each field of a submitted form with its first value ("" when it has none).</summary>
    public static List<(string Var, string Value)> FirstValues(Element form)
    {
        var list = new List<(string, string)>();
        foreach (var field in form.Children)
        {
            if (field.LocalName != "field") continue;
            var value = "";
            foreach (var v in field.Children)
            {
                if (v.LocalName != "value") continue;
                value = v.Text;
                break;
            }
            list.Add((field.GetAttribute("var") ?? "", value));
        }
        return list;
    }
}
