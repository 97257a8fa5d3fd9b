using Parley.Protocol;
using static Parley.Protocol.Tests.Framing.FramingHelpers;

namespace Parley.Protocol.Tests.Elements;

/// <summary>
/// A parsed element behaves exactly like one built in code: its attribute values (some kept as raw bytes until read)
/// and its exact-size node array are invisible through the public API, whatever is read or changed first.
/// </summary>
public sealed class ElementTests
{
    private const string Stanza =
        "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='m-1' xml:lang='en' " +
        "x='a&amp;b' n='Grüße' w='a\tb' long='" + Long + "'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";

    private const string Long = "a-value-that-is-longer-than-thirty-two-bytes-and-plain";

    [Fact]
    public void Attributes_read_in_any_order_have_their_decoded_values()
    {
        var e = ParseStanza(Stanza);
        Assert.Equal("chat", e.GetAttribute("type"));
        Assert.Equal("romeo@example.net/orchard", e.GetAttribute("to"));
        Assert.Equal("en", e.GetAttribute("lang", Ns.Xml));
        Assert.Equal("a&b", e.GetAttribute("x"));
        Assert.Equal("Grüße", e.GetAttribute("n"));
        Assert.Equal("a b", e.GetAttribute("w"));
        Assert.Equal(Long, e.GetAttribute("long"));
        Assert.Null(e.GetAttribute("lang"));
        Assert.Equal(
            ["to=romeo@example.net/orchard", "from=juliet@example.com/balcony", "type=chat", "id=m-1", "{http://www.w3.org/XML/1998/namespace}lang=en",
             "x=a&b", "n=Grüße", "w=a b", "long=" + Long],
            Describe(e.Attributes));
    }

    [Fact]
    public void Setting_and_removing_attributes_of_a_parsed_element_keeps_the_others()
    {
        var e = ParseStanza(Stanza);
        e.SetAttribute("from", "juliet@example.com/tomb").SetAttribute("id", null).SetAttribute("new", "v");
        Assert.Equal("romeo@example.net/orchard", e.GetAttribute("to"));
        Assert.Equal("juliet@example.com/tomb", e.GetAttribute("from"));
        Assert.Null(e.GetAttribute("id"));
        Assert.Equal("chat", e.GetAttribute("type"));
        Assert.Equal("en", e.GetAttribute("lang", Ns.Xml));
        Assert.Equal(Long, e.GetAttribute("long"));
        Assert.Equal("v", e.GetAttribute("new"));
        Assert.Equal(9, e.Attributes.Count);
    }

    [Fact]
    public void A_clone_and_its_original_change_independently()
    {
        var e = ParseStanza(Stanza);
        var copy = e.Clone();
        copy.SetAttribute("to", "nurse@example.com");
        e.SetAttribute("type", "normal");
        copy.Child("body", Ns.Client)!.SetText("bye");
        Assert.Equal("romeo@example.net/orchard", e.GetAttribute("to"));
        Assert.Equal("nurse@example.com", copy.GetAttribute("to"));
        Assert.Equal("normal", e.GetAttribute("type"));
        Assert.Equal("chat", copy.GetAttribute("type"));
        Assert.Equal("hi", e.Child("body", Ns.Client)!.Text);
        Assert.Equal("bye", copy.Child("body", Ns.Client)!.Text);
        Assert.Equal(e.ToString().Replace("'normal'", "'chat'", StringComparison.Ordinal),
            copy.ToString().Replace("'nurse@example.com'", "'romeo@example.net/orchard'", StringComparison.Ordinal).Replace("bye", "hi", StringComparison.Ordinal));
    }

    [Fact]
    public void Nodes_of_a_parsed_element_can_be_added_to_removed_and_replaced()
    {
        var e = ParseStanza("<message><body>one</body>text<x xmlns='urn:x'/><body>two</body></message>");
        Assert.Equal(4, e.Nodes.Count);
        Assert.Equal(3, e.ChildCount);
        Assert.Equal("text", e.Text);
        e.AddText(" more").Add(new Element("y", "urn:y"));
        Assert.Equal("text more", e.Text);
        Assert.Equal(2, e.RemoveAll(new QName(Ns.Client, "body")));
        Assert.Equal(["{urn:x}x", "{urn:y}y"], Names(e));
        Assert.True(e.Remove(e.FirstChild()!));
        e.SetText("only");
        Assert.Equal(["{urn:y}y", "only"], e.Nodes.Select(n => n is Element c ? c.Name.ToString() : (string)n));
        Assert.Equal("<message xmlns='jabber:client'><y xmlns='urn:y'/>only</message>", e.ToString());
    }

    [Theory]
    [InlineData("<body>plain</body>", "plain")]
    [InlineData("<body>Grüße aus München 😀 日本語</body>", "Grüße aus München 😀 日本語")]
    [InlineData("<body>a &amp; b</body>", "a & b")]
    [InlineData("<body>line\r\nend</body>", "line\nend")]
    [InlineData("<body>x<![CDATA[<y>]]>z</body>", "x<y>z")]
    public void Text_of_a_parsed_element_reads_the_same_through_every_member(string xml, string text)
    {
        Assert.Equal(text, ParseStanza(xml).Text);
        Assert.Equal([text], ParseStanza(xml).Nodes);
        Assert.Equal(text + "!", ParseStanza(xml).AddText("!").Text);
        Assert.Equal(text, ParseStanza(xml).Clone().Text);
        var e = ParseStanza(xml);
        Assert.Equal(0, e.ChildCount);
        Assert.Null(e.FirstChild());
        Assert.Null(e.Child("x", "urn:x"));
        Assert.False(e.IsEmpty);
        Assert.Equal(0, e.RemoveAll(new QName("urn:x", "x")));
        e.Add(new Element("x", "urn:x"));
        Assert.Equal(text, e.Text);
        Assert.Equal(2, e.Nodes.Count);
        Assert.Equal(1, e.ChildCount);
        Assert.True(ParseStanza(xml).SetText(null).IsEmpty);
        Assert.Equal("new", ParseStanza(xml).SetText("new").Text);
        Assert.Equal("<body xmlns='jabber:client'>" + System.Security.SecurityElement.Escape(text).Replace("&apos;", "'", StringComparison.Ordinal).Replace("&quot;", "\"", StringComparison.Ordinal) + "</body>",
            ParseStanza(xml).ToString().Replace("&#xD;", "\r", StringComparison.Ordinal));
    }

    [Fact]
    public void Attributes_of_every_kind_read_the_same_whichever_member_reads_them_first()
    {
        // A name too long for the name cache, a prefix declared on the element and one on its parent, an empty value,
        // a decoded value, and the same names on a child: whether Attributes, GetAttribute or Clone comes first.
        const string xml =
            "<iq xmlns:p='urn:p' type='set' id='i'><query xmlns='urn:q' xmlns:r='urn:r' a-very-long-attribute-name='long' " +
            "p:x='1' r:x='2' empty='' amp='&lt;&gt;' xml:lang='de'><item type='t' a-very-long-attribute-name='child'/></query></iq>";
        string[] expected =
        [
            "a-very-long-attribute-name=long", "{urn:p}x=1", "{urn:r}x=2", "empty=", "amp=<>",
            "{http://www.w3.org/XML/1998/namespace}lang=de",
        ];
        Assert.Equal(expected, Describe(ParseStanza(xml).FirstChild()!.Attributes));

        var query = ParseStanza(xml).FirstChild()!;
        Assert.Equal("long", query.GetAttribute("a-very-long-attribute-name"));
        Assert.Equal("2", query.GetAttribute("x", "urn:r"));
        Assert.Equal("", query.GetAttribute("empty"));
        Assert.Equal(expected, Describe(query.Attributes));

        var original = ParseStanza(xml);
        var copy = original.Clone();
        copy.FirstChild()!.SetAttribute("empty", "no longer");
        Assert.Equal(expected, Describe(original.FirstChild()!.Attributes));
        Assert.Equal("no longer", copy.FirstChild()!.GetAttribute("empty"));
        Assert.Equal(["type=t", "a-very-long-attribute-name=child"], Describe(copy.FirstChild()!.FirstChild()!.Attributes));
        Assert.Equal(["type=set", "id=i"], Describe(copy.Attributes));
        Assert.Equal("set", original.GetAttribute("type"));
    }

    [Fact]
    public void An_element_built_in_code_grows_and_trims_its_nodes()
    {
        var e = new Element("query", "jabber:iq:roster");
        for (var i = 0; i < 20; i++) e.Add(new Element("item", "jabber:iq:roster").SetAttribute("jid", "c" + i + "@example.org"));
        Assert.Equal(20, e.Nodes.Count);
        Assert.Equal(20, e.ChildCount);
        e.Add(new Element("item", "jabber:iq:roster"));
        Assert.Equal(21, e.Nodes.Count);
        var n = 0;
        foreach (var child in e.Children) n++;
        Assert.Equal(21, n);
        Assert.True(new Element("empty", "urn:e").IsEmpty);
        Assert.Empty(new Element("empty", "urn:e").Nodes);
        Assert.Empty(new Element("empty", "urn:e").Attributes);
    }

    // Plain values and text the writer copies as parsed, values with a quote or '>' it must escape, decoded values,
    // a namespaced attribute, mixed content and a body that is the element's only node.
    private const string Mixed =
        "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='m-1' xml:lang='en' " +
        "q=\"it's\" g='a&gt;b' h='x>y' x='a&amp;b' n='Grüße' w='a\tb' xmlns:e='urn:e' e:k='v' long='" + Long + "'>" +
        "<body>Grüße, Ελληνικά 😀 — plain text that is longer than thirty-two bytes</body>" +
        "<p>one <b>two</b> three &amp; four</p><active xmlns='http://jabber.org/protocol/chatstates'/></message>";

    private static string Written(Element e)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        ElementWriter.Write(output, e, Ns.Client);
        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static void ReadEverything(Element e)
    {
        _ = e.Attributes;
        foreach (var node in e.Nodes)
            if (node is Element child) ReadEverything(child);
    }

    [Fact]
    public void A_parsed_element_written_unread_gives_the_same_bytes_as_when_read_in_full_or_changed()
    {
        var unread = Written(ParseStanza(Mixed));
        var read = ParseStanza(Mixed);
        ReadEverything(read);
        Assert.Equal(Written(read), unread);
        Assert.Contains("q='it&apos;s'", unread);
        Assert.Contains("g='a&gt;b' h='x&gt;y' x='a&amp;b'", unread);
        Assert.Contains("<p>one <b>two</b> three &amp; four</p>", unread);

        // Only the routing attributes read, as a router does, then one changed: the rest is still written as parsed.
        var routed = ParseStanza(Mixed);
        Assert.Equal("chat", routed.GetAttribute("type"));
        Assert.Equal(unread, Written(routed));
        routed.SetAttribute("from", "juliet@example.com/tomb");
        Assert.Equal(unread.Replace("juliet@example.com/balcony", "juliet@example.com/tomb"), Written(routed));
        var copy = ParseStanza(Mixed).Clone();
        Assert.Equal(unread, Written(copy));
    }

    [Fact]
    public void Writing_a_parsed_stanza_makes_no_strings_or_arrays_of_its_plain_values()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>(4096);
        const string Chat = "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='m-1'>" +
            "<body>Grüße aus München, plain and long enough to be kept as bytes</body>" +
            "<origin-id xmlns='urn:xmpp:sid:0' id='a1b2c3d4'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>";
        // Two stanzas of one stream: writing the first readies the writer's code and statics and the UTF-8 forms of the
        // stream's names (made once per name the framer has cached).
        var framer = new XmlFramer();
        var input = new System.Buffers.ReadOnlySequence<byte>(Utf8(ClientHeader + Chat + Chat));
        var stanzas = new List<Element>();
        while (framer.TryRead(ref input, out var frame))
            if (frame.Kind == XmlFrameKind.Element) stanzas.Add(frame.Element!);
        Assert.Equal(2, stanzas.Count);
        ElementWriter.Write(output, stanzas[0], Ns.Client);
        var stanza = stanzas[1];
        output.ResetWrittenCount();
        var before = GC.GetAllocatedBytesForCurrentThread();
        ElementWriter.Write(output, stanza, Ns.Client);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(Chat.Replace(" xmlns='jabber:client'", ""), System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
    }

    // Elements below the root, nested, with white space between them, mixed content and a decoded string: all kept as
    // records by the parser until read.
    private const string Nested =
        "<message to='romeo@example.net' from='juliet@example.com/balcony' id='mam-1'>\n" +
        " <result xmlns='urn:xmpp:mam:2' queryid='q1' id='28482-98726-73623'>" +
        "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\n" +
        "  <message xmlns='jabber:client' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat'>" +
        "<body>Call me but love, and I'll be new baptized &amp; Henceforth I never will be Romeo.</body>" +
        "<p xmlns='urn:p'>one <b>two</b> three &amp; four<![CDATA[ <five> ]]></p><x:e xmlns:x='urn:x' x:a='1'/></message>" +
        "</forwarded></result>\n</message>";

    [Fact]
    public void Child_elements_are_made_once_on_first_read_and_are_the_same_objects_for_every_member_and_reader()
    {
        var stanza = ParseStanza(Nested);
        var seen = new Element?[8];
        var forwarded = new Element?[8];
        using var start = new Barrier(seen.Length);
        var threads = Enumerable.Range(0, seen.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            seen[i] = i % 2 == 0 ? stanza.Child("result", "urn:xmpp:mam:2") : (Element)stanza.Nodes[1];
            if (i % 3 == 0)
            {
                forwarded[i] = seen[i]!.FirstChild();
            }
            else
            {
                foreach (var child in seen[i]!.Children)
                {
                    forwarded[i] = child;
                    break;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(30))));

        var result = seen[0]!;
        Assert.All(seen, e => Assert.Same(result, e));
        Assert.All(forwarded, e => Assert.Same(forwarded[0], e));
        Assert.Same(result, stanza.FirstChild());
        Assert.Equal("28482-98726-73623", result.GetAttribute("id"));
        var inner = forwarded[0]!.Child("message", Ns.Client)!;
        Assert.Equal("Call me but love, and I'll be new baptized & Henceforth I never will be Romeo.", inner.ChildText("body", Ns.Client));
        var p = inner.Child("p", "urn:p")!;
        Assert.Equal("one  three & four <five> ", p.Text);
        Assert.Equal("two", p.Child("b", "urn:p")!.Text);
        Assert.Equal("1", inner.Child("e", "urn:x")!.GetAttribute("a", "urn:x"));
        Assert.Equal(["\n ", "{urn:xmpp:mam:2}result", "\n"], stanza.Nodes.Select(n => n is Element e ? e.Name.ToString() : (string)n));

        // Identity holds for changes: the child found is the one removed.
        Assert.True(stanza.Remove(result));
        Assert.Null(stanza.Child("result", "urn:xmpp:mam:2"));
        Assert.Equal(2, stanza.NodeCount);
    }

    [Fact]
    public void A_stanza_read_in_part_writes_the_same_bytes_as_unread_or_read_in_full()
    {
        var unread = Written(ParseStanza(Nested));
        Assert.Contains("<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>", unread);
        Assert.Contains("<p xmlns='urn:p'>one <b>two</b> three &amp; four &lt;five&gt; </p>", unread);
        Assert.Contains("<e xmlns='urn:x' xmlns:ns0='urn:x' ns0:a='1'/>", unread);

        var full = ParseStanza(Nested);
        ReadEverything(full);
        Assert.Equal(unread, Written(full));

        // The root's children made, theirs not; then one grandchild made; then a clone of that.
        var part = ParseStanza(Nested);
        var result = part.Child("result", "urn:xmpp:mam:2")!;
        Assert.Equal(unread, Written(part));
        _ = result.FirstChild()!.Child("message", Ns.Client)!.Attributes;
        Assert.Equal(unread, Written(part));
        Assert.Equal(unread, Written(part.Clone()));
        Assert.Equal(unread, Written(ParseStanza(Nested).Clone()));

        // A change deep inside is written, and the rest as parsed.
        result.FirstChild()!.Child("message", Ns.Client)!.Child("body", Ns.Client)!.SetText("changed");
        Assert.Equal(System.Text.RegularExpressions.Regex.Replace(unread, "<body>[^<]*</body>", "<body>changed</body>"), Written(part));
    }

    [Fact]
    public void An_element_name_whose_namespace_keeps_changing_reads_right_in_every_stanza()
    {
        // Each change gives the name a new slot in the framer's table of expanded names until it is full (1024), then
        // the stanza keeps the name itself: stanzas from before and after read the same.
        const int Count = 2500;
        var xml = new System.Text.StringBuilder(ClientHeader);
        for (var i = 0; i < Count; i++) xml.Append("<message id='m").Append(i).Append("'><x xmlns='urn:").Append(i % 2 == 0 ? 'a' : 'b').Append("'><y/></x></message>");
        var framer = new XmlFramer();
        var buffer = new System.Buffers.ReadOnlySequence<byte>(Utf8(xml.ToString()));
        var stanzas = new List<Element>();
        while (framer.TryRead(ref buffer, out var frame))
            if (frame.Kind == XmlFrameKind.Element) stanzas.Add(frame.Element!);
        Assert.Equal(Count, stanzas.Count);
        for (var i = 0; i < Count; i++)
        {
            var ns = i % 2 == 0 ? "urn:a" : "urn:b";
            Assert.Equal($"<message id='m{i}'><x xmlns='{ns}'><y/></x></message>", Written(stanzas[i]));
            Assert.Equal(1, stanzas[i].ChildCount);
            var x = stanzas[i].FirstChild()!;
            Assert.Equal(new QName(ns, "x"), x.Name);
            Assert.Equal(new QName(ns, "y"), x.FirstChild()!.Name);
        }
    }

    [Theory]
    [InlineData(40_000, 1, 0)] // values and text past 32 KiB: offsets that need 32 bits
    [InlineData(10, 1, 8_000)] // more than 32 Ki ints of records (few bytes): indices that need 32 bits
    [InlineData(10, 2_000, 0)] // both
    [InlineData(10, 3, 3)] // small: records kept as 16-bit ints
    public void Records_of_small_and_large_stanzas_read_and_write_the_same(int bodyLength, int items, int empties)
    {
        // The parser keeps a stanza's records as 16-bit ints when every one fits, else as 32-bit ints.
        var body = new string('b', bodyLength);
        var xml = new System.Text.StringBuilder("<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='v1'><body>")
            .Append(body).Append("</body>");
        for (var i = 0; i < items; i++)
            xml.Append("<item jid='c").Append(i).Append("@example.org' name='C ").Append(i).Append("'><group>G</group></item>");
        xml.Append("<y xmlns='urn:y'").Append(empties == 0 ? "/>" : ">");
        for (var i = 0; i < empties; i++) xml.Append("<e/>");
        xml.Append(empties == 0 ? "" : "</y>").Append("<x xmlns='urn:x' a='1' b='two'>tail &amp; end</x></query></iq>");
        var text = xml.ToString();

        var unread = ParseStanza(text);
        Assert.Equal(text, Written(unread));

        var read = ParseStanza(text);
        var query = read.Child("query", "jabber:iq:roster")!;
        Assert.Equal("v1", query.GetAttribute("ver"));
        Assert.Equal(body, query.Child("body", "jabber:iq:roster")!.Text);
        var itemList = new List<Element>();
        foreach (var child in query.Children)
            if (child.LocalName == "item") itemList.Add(child);
        Assert.Equal(items, itemList.Count);
        Assert.Equal($"c{items - 1}@example.org", itemList[^1].GetAttribute("jid"));
        Assert.Equal($"C {items - 1}", itemList[^1].GetAttribute("name"));
        Assert.Equal("G", itemList[^1].Child("group", "jabber:iq:roster")!.Text);
        Assert.Equal(empties, query.Child("y", "urn:y")!.ChildCount);
        var x = query.Child("x", "urn:x")!;
        Assert.Equal(["a=1", "b=two"], Describe(x.Attributes));
        Assert.Equal("tail & end", x.Text);
        ReadEverything(read);
        Assert.Equal(text, Written(read));
    }

    private static List<string> Describe(IReadOnlyList<XAttribute> attributes) =>
        attributes.Select(a => (a.Namespace.Length == 0 ? "" : "{" + a.Namespace + "}") + a.Name + "=" + a.Value).ToList();

    private static List<string> Names(Element e)
    {
        var names = new List<string>();
        foreach (var c in e.Children) names.Add(c.Name.ToString());
        return names;
    }
}
