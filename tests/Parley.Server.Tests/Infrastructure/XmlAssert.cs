using System.Buffers;
using System.Text;
using Parley.Protocol;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// Canonical XML comparison for transcripts: attribute order, prefixes and whitespace-only text are ignored;
/// "{*}" in an expected attribute value or text matches anything.
/// </summary>
public static class XmlAssert
{
    public const string Any = "{*}";

    /// <summary>Parses XML snippets written in the jabber:client default namespace into elements.</summary>
    public static List<Element> ParseSnippets(string xml)
    {
        var text = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" + xml;
        var sequence = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text));
        var framer = new XmlFramer(new XmlFramerOptions { MaxElementBytes = 16 * 1024 * 1024 });
        var elements = new List<Element>();
        while (framer.TryRead(ref sequence, out var frame))
            if (frame.Kind == XmlFrameKind.Element) elements.Add(frame.Element!);
        return elements;
    }

    public static Element Parse(string xml)
    {
        var list = ParseSnippets(xml);
        Assert.Single(list);
        return list[0];
    }

    public static void Equal(Element expected, Element actual)
    {
        if (!Matches(expected, actual, out var why))
            Assert.Fail($"XML differs: {why}\nexpected: {expected}\nactual:   {actual}");
    }

    public static bool Matches(Element expected, Element actual, out string why)
    {
        why = "";
        if (expected.Name != actual.Name)
        {
            why = $"element {actual.Name} where {expected.Name} was expected";
            return false;
        }
        foreach (var a in expected.Attributes)
        {
            var value = actual.GetAttribute(a.Name, a.Namespace);
            if (value is null)
            {
                why = $"<{expected.LocalName}> lacks attribute {a.Name}";
                return false;
            }
            if (a.Value != Any && a.Value != value)
            {
                why = $"<{expected.LocalName}> attribute {a.Name} is '{value}', expected '{a.Value}'";
                return false;
            }
        }
        foreach (var a in actual.Attributes)
        {
            if (expected.GetAttribute(a.Name, a.Namespace) is null)
            {
                why = $"<{expected.LocalName}> has unexpected attribute {a.Name}='{a.Value}'";
                return false;
            }
        }
        var expectedText = expected.Text.Trim();
        var actualText = actual.Text.Trim();
        if (expectedText != Any && expectedText != actualText)
        {
            why = $"<{expected.LocalName}> text is '{actualText}', expected '{expectedText}'";
            return false;
        }
        var e = new List<Element>();
        foreach (var c in expected.Children) e.Add(c);
        var x = new List<Element>();
        foreach (var c in actual.Children) x.Add(c);
        if (e.Count != x.Count)
        {
            why = $"<{expected.LocalName}> has {x.Count} children, expected {e.Count}";
            return false;
        }
        for (var i = 0; i < e.Count; i++)
            if (!Matches(e[i], x[i], out why)) return false;
        return true;
    }
}
