using BenchmarkDotNet.Attributes;
using LokiSharp.Ingester.Distribution;
using LokiSharp.LoadTest;
using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Benchmarks.Push;

/// <summary>
/// The per-line work of the write path beyond decoding, over the load tool's mixed dataset (JSON, logfmt, access
/// and plain-text lines, about 1 MiB): building a block's n-gram content filter and sniffing each line's
/// <c>detected_level</c>. MB/s = <see cref="RawBytes"/> / mean time.
/// </summary>
[MemoryDiagnoser]
public class IngestHotPathBenchmarks
{
    private const int Streams = 100;
    private const int LinesPerStream = 100;

    private byte[][] _lines = [];
    private NGramFilterBuilder _filter = null!;

    /// <summary>Raw line bytes per operation.</summary>
    public long RawBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _lines = new byte[Streams * LinesPerStream][];
        for (var i = 0; i < _lines.Length; i++)
        {
            _lines[i] = LogDataset.Line(i % Streams, i / Streams);
            RawBytes += _lines[i].Length;
        }

        _filter = new NGramFilterBuilder();
    }

    [GlobalCleanup]
    public void Cleanup() => _filter.Dispose();

    [Benchmark]
    public void NGramFilterAddLines()
    {
        foreach (var line in _lines)
        {
            _filter.AddLine(line);
        }

        _filter.Clear();
    }

    [Benchmark]
    public int DetectLevelFromLines()
    {
        var unknown = 0;
        foreach (var line in _lines)
        {
            if (ReferenceEquals(LevelDetector.Detect((string?)null, [], line), "unknown"))
            {
                unknown++;
            }
        }

        return unknown;
    }
}
