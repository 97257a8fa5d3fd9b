using System.Buffers;
using System.Xml;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Parley.Protocol;

namespace Parley.Benchmarks;

/// <summary>
/// Parses the corpus (one stream of 1000 stanzas) with <see cref="XmlFramer"/> and, for comparison, reads the same
/// bytes with System.Xml's <see cref="XmlReader"/>. The framer checks every stanza in full and returns its root
/// <see cref="Element"/>; what lies below it (attribute arrays, plain values and text, child elements) is kept as the
/// stanza's bytes and records until read (the _routing_reads and _read_all variants read them); the reader only visits
/// every node, name, attribute and value (it builds nothing). On a shared machine run the <c>interleaved</c> mode
/// (<see cref="Interleaved"/>) for the ratio to XmlReader.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class FramerBenchmarks
{
    private ReadOnlySequence<byte> _whole;
    private ReadOnlySequence<byte> _segmented;
    private readonly XmlReaderSettings _settings = new()
    {
        ConformanceLevel = ConformanceLevel.Document,
        DtdProcessing = DtdProcessing.Prohibit,
        IgnoreWhitespace = false,
        IgnoreComments = false,
        IgnoreProcessingInstructions = false,
        CheckCharacters = true,
    };

    [GlobalSetup]
    public void Setup()
    {
        _whole = new ReadOnlySequence<byte>(Corpus.Bytes);
        _segmented = Segments.Split(Corpus.Bytes, 4096);
    }

    /// <summary>The whole corpus as one segment.</summary>
    [Benchmark(Baseline = true)]
    public int Framer_one_segment()
    {
        var framer = new XmlFramer();
        var buffer = _whole;
        var count = 0;
        while (framer.TryRead(ref buffer, out var frame))
            if (frame.Kind == XmlFrameKind.Element) count++;
        return count;
    }

    /// <summary>
    /// As <see cref="Framer_one_segment"/>, then what routing reads of each stanza: its name and its to, from, type and
    /// id attributes (values are decoded when first read).
    /// </summary>
    [Benchmark]
    public int Framer_one_segment_routing_reads()
    {
        var framer = new XmlFramer();
        var buffer = _whole;
        var length = 0;
        while (framer.TryRead(ref buffer, out var frame))
        {
            if (frame.Kind != XmlFrameKind.Element) continue;
            var e = frame.Element!;
            length += e.LocalName.Length + (e.GetAttribute("to")?.Length ?? 0) + (e.GetAttribute("from")?.Length ?? 0)
                + (e.GetAttribute("type")?.Length ?? 0) + (e.GetAttribute("id")?.Length ?? 0);
        }
        return length;
    }

    /// <summary>
    /// As <see cref="Framer_one_segment"/>, then every attribute value and every text node of every element is read,
    /// so every string the tree can hold is made: the whole cost of a tree that is read in full.
    /// </summary>
    [Benchmark]
    public int Framer_one_segment_read_all()
    {
        var framer = new XmlFramer();
        var buffer = _whole;
        var length = 0;
        while (framer.TryRead(ref buffer, out var frame))
            if (frame.Kind == XmlFrameKind.Element) length += ReadAll(frame.Element!);
        return length;
    }

    internal static int ReadAll(Element e)
    {
        var length = e.LocalName.Length;
        var attributes = e.Attributes;
        for (var i = 0; i < attributes.Count; i++) length += attributes[i].Value.Length;
        var nodes = e.Nodes;
        for (var i = 0; i < nodes.Count; i++) length += nodes[i] is Element child ? ReadAll(child) : ((string)nodes[i]).Length;
        return length;
    }

    /// <summary>
    /// The corpus arriving 4 KiB at a time, as from a PipeReader: each read presents the unconsumed bytes plus the
    /// next 4 KiB segment, so stanzas straddle segments and reads.
    /// </summary>
    [Benchmark]
    public int Framer_4KiB_reads()
    {
        var framer = new XmlFramer();
        var count = 0;
        var start = _segmented.Start;
        for (long end = 4096; ; end += 4096)
        {
            var available = _segmented.Slice(start, _segmented.GetPosition(Math.Min(end, _segmented.Length)));
            var buffer = available;
            while (framer.TryRead(ref buffer, out var frame))
                if (frame.Kind == XmlFrameKind.Element) count++;
            start = buffer.Start;
            if (end >= _segmented.Length) break;
        }
        return count;
    }

    /// <summary>XmlReader over the same bytes, reading every node, every attribute and every value.</summary>
    [Benchmark]
    public int XmlReader_all_nodes()
    {
        using var stream = new MemoryStream(Corpus.Bytes, writable: false);
        using var reader = XmlReader.Create(stream, _settings);
        var count = 0;
        var length = 0;
        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    if (reader.Depth == 1) count++;
                    length += reader.LocalName.Length + reader.NamespaceURI.Length;
                    while (reader.MoveToNextAttribute())
                        length += reader.LocalName.Length + reader.NamespaceURI.Length + reader.Value.Length;
                    reader.MoveToElement();
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    length += reader.Value.Length;
                    break;
            }
        }
        return count + (length & 0);
    }

    /// <summary>
    /// XmlReader building an <see cref="System.Xml.Linq.XElement"/> per top-level element of the stream: what a
    /// server built on System.Xml does to get a tree per stanza. A second reference point, not the 2× target's.
    /// </summary>
    [Benchmark]
    public int XmlReader_XElement_per_stanza()
    {
        using var stream = new MemoryStream(Corpus.Bytes, writable: false);
        using var reader = XmlReader.Create(stream, _settings);
        var count = 0;
        reader.MoveToContent();
        reader.Read();
        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == 1)
            {
                if (System.Xml.Linq.XNode.ReadFrom(reader) is System.Xml.Linq.XElement) count++;
            }
            else
            {
                reader.Read();
            }
        }
        return count;
    }
}

/// <summary>Adds throughput (MB/s of corpus) and bytes allocated per stanza to the summary table.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig()
    {
        AddColumn(new CorpusColumn("MB/s", (summary, bc) =>
        {
            var mean = summary[bc]?.ResultStatistics?.Mean;
            return mean is null ? "NA" : (Corpus.Bytes.Length / (mean.Value / 1e9) / 1e6).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }));
        AddColumn(new CorpusColumn("Alloc/stanza", (summary, bc) =>
        {
            var report = summary[bc];
            if (report is null) return "NA";
            var bytes = report.GcStats.GetBytesAllocatedPerOperation(bc);
            return bytes is null ? "NA" : (bytes.Value / (double)Corpus.StanzaCount).ToString("F0", System.Globalization.CultureInfo.InvariantCulture) + " B";
        }));
    }

    private sealed class CorpusColumn(string name, Func<Summary, BenchmarkCase, string> value) : IColumn
    {
        public string Id => "Corpus." + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => name == "MB/s" ? "Corpus bytes (10^6) parsed per second" : "Bytes allocated per operation / stanzas in the corpus";
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => value(summary, benchmarkCase);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => value(summary, benchmarkCase);
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }
}

/// <summary>Builds multi-segment sequences.</summary>
public static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var memory = bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset));
            var segment = new Segment(memory, offset);
            if (last is null) first = segment;
            else last.SetNext(segment);
            last = segment;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
