using BenchmarkDotNet.Attributes;
using LokiSharp.Ingester.Distribution;
using LokiSharp.LoadTest;
using LokiSharp.Storage.Chunks;
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
    private NGramFilterBuilder _blockFilter = null!;

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
        // Sized as a chunk builder sizes it for a default block (256 KiB, filters at 3%).
        _blockFilter = ChunkBuilder.NewFilterBuilder(256 * 1024, 0.03);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _filter.Dispose();
        _blockFilter.Dispose();
    }

    [Benchmark]
    public void NGramFilterAddLines()
    {
        foreach (var line in _lines)
        {
            _filter.AddLine(line);
        }

        _filter.Clear();
    }

    /// <summary>
    /// The filters of the lines as a chunk builder makes them: scratches sized for the largest filters of a default
    /// block, written (and cleared) per 256 KiB of lines with the budgets of a block compressed to 30%.
    /// </summary>
    [Benchmark]
    public int NGramFiltersPerBlock()
    {
        using var output = new PooledBufferWriter(64 * 1024);
        var (written, block) = (0, 0);
        foreach (var line in _lines)
        {
            _blockFilter.AddLine(line);
            block += line.Length;
            if (block >= 256 * 1024)
            {
                written += _blockFilter.WriteAndClear(output, 75 * 1024 * 3 / 100) + _blockFilter.WriteIdsAndClear(output, 75 * 1024 * 7 / 100);
                output.Clear();
                block = 0;
            }
        }

        return written + _blockFilter.WriteAndClear(output, 1024) + _blockFilter.WriteIdsAndClear(output, 1024);
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
