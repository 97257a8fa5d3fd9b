using System.Buffers;
using System.Xml;
using BenchmarkDotNet.Attributes;
using Parley.Protocol;

namespace Parley.Benchmarks;

/// <summary>
/// <see cref="ElementWriter"/> on the corpus (bench/Parley.Benchmarks/Corpus.cs): the 1000 stanzas written into one
/// buffer (as parsed, and read in full), and the relay path a router runs for each stanza, bytes in to bytes out (<see cref="XmlFramer"/> then
/// <see cref="ElementWriter"/>), beside System.Xml's reader copying the same stream into an <see cref="XmlWriter"/>.
/// MB/s is of the corpus's bytes; the writer's output is the same size within a few per cent.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class WriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(Corpus.Bytes.Length * 2);
    private Element[] _stanzas = [];
    private readonly MemoryStream _sink = new(Corpus.Bytes.Length * 2);

    private Element[] _read = [];

    [GlobalSetup]
    public void Setup()
    {
        _stanzas = Parse();
        _read = Parse();
        // Every attribute value and text node made a string, as in a stanza built in code or read in full.
        foreach (var stanza in _read) FramerBenchmarks.ReadAll(stanza);
    }

    private static Element[] Parse()
    {
        var stanzas = new List<Element>(Corpus.StanzaCount);
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Corpus.Bytes);
        while (framer.TryRead(ref buffer, out var frame))
            if (frame.Kind == XmlFrameKind.Element) stanzas.Add(frame.Element!);
        return [.. stanzas];
    }

    /// <summary>The 1000 parsed stanzas, not read, written one after another in a client stream's namespace: plain
    /// values and text go out as the parser kept them.</summary>
    [Benchmark(Baseline = true)]
    public int Write_corpus_as_parsed() => Write(_stanzas);

    /// <summary>The same stanzas read in full first: every value and text node is a string to encode.</summary>
    [Benchmark]
    public int Write_corpus_read_in_full() => Write(_read);

    private int Write(Element[] stanzas)
    {
        _output.ResetWrittenCount();
        foreach (var stanza in stanzas) ElementWriter.Write(_output, stanza, Ns.Client);
        return _output.WrittenCount;
    }

    /// <summary>Bytes in, bytes out: each stanza parsed from the corpus and written, as a router relays it.</summary>
    [Benchmark]
    public int Parse_and_write_corpus()
    {
        _output.ResetWrittenCount();
        var framer = new XmlFramer();
        var buffer = new ReadOnlySequence<byte>(Corpus.Bytes);
        while (framer.TryRead(ref buffer, out var frame))
            if (frame.Kind == XmlFrameKind.Element) ElementWriter.Write(_output, frame.Element!, Ns.Client);
        return _output.WrittenCount;
    }

    /// <summary>System.Xml's relay of the same stream: XmlReader's nodes copied into an XmlWriter (UTF-8, no
    /// indentation), for comparison with <see cref="Parse_and_write_corpus"/>.</summary>
    [Benchmark]
    public long XmlReader_to_XmlWriter_copy()
    {
        _sink.SetLength(0);
        using (var input = new MemoryStream(Corpus.Bytes, writable: false))
        using (var reader = XmlReader.Create(input, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit }))
        using (var writer = XmlWriter.Create(_sink, new XmlWriterSettings { Indent = false, CloseOutput = false }))
        {
            writer.WriteNode(reader, defattr: false);
        }
        return _sink.Length;
    }
}
