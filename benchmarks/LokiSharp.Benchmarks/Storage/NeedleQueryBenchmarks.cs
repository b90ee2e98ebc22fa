using BenchmarkDotNet.Attributes;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>
/// <c>count_over_time({app="shop"} |= "declined")</c> over 64 MB of stored logs, with and without the content
/// index; setup prints the block-skip rate and the stored/raw ratio of chunks + index.
/// </summary>
public class NeedleQueryBenchmarks
{
    private const int RawBytes = 64 * 1024 * 1024;
    private readonly List<Sample> _samples = [];
    private string _root = string.Empty;
    private ChunkStore? _store;
    private SelectedStream _stream;
    private long _from;
    private long _through;

    /// <summary>Codec of the stored chunks.</summary>
    [Params("snappy", "zstd")]
    public string Encoding { get; set; } = "snappy";

    /// <summary>Writes the data set.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("lokisharp-bench-").FullName;
        _store = ChunkStore.Open(new StorageOptions { RootDirectory = _root, ChunkEncoding = Encoding });
        var lines = SyntheticLogs.Generate(RawBytes);
        var labels = LabelSet.From(("app", "shop"), ("namespace", "jewelry-shop"));
        using var builder = _store.Options.CreateChunkBuilder();
        var writes = new List<ChunkWrite>();
        long raw = 0;
        foreach (var (ts, line) in lines)
        {
            builder.Append(ts, line);
            raw += line.Length;

            // Loki's default target chunk size is 1.5 MB compressed.
            if (builder.ApproximateSize >= 1536 * 1024)
            {
                writes.Add(Finish(builder, labels));
            }
        }

        writes.Add(Finish(builder, labels));
        _store.Write("bench", writes);
        _from = lines[0].Ts;
        _through = lines[^1].Ts + 1;
        _stream = _store.SelectStreams("bench", [new LabelMatcher("app", MatchType.Equal, "shop")], _from, _through)[0];

        long stored = 0;
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            stored += new FileInfo(file).Length;
        }

        ILogSource source = _store;
        var stats = source.ExtractSamples("bench", _stream, new EntryQuery(_from, _through, Filter: new LiteralPrefilter("declined")), null, _samples);
        var total = stats.BlocksDecoded + stats.BlocksSkippedByContent;
        Console.WriteLine($"// {Encoding}: stored (chunks + index) / raw = {(double)stored / raw:F3}; needle matches = {_samples.Count}; " +
            $"blocks skipped by content index = {stats.BlocksSkippedByContent}/{total} ({(double)stats.BlocksSkippedByContent / total:P1})");
    }

    /// <summary>The needle query using content filters.</summary>
    [Benchmark]
    public int NeedleCount() => Count(new LiteralPrefilter("declined"), useContentIndex: true);

    /// <summary>The same query scanning every block (filter applied per line only).</summary>
    [Benchmark(Baseline = true)]
    public int NeedleCountFullScan() => Count(new LiteralPrefilter("declined"), useContentIndex: false);

    /// <summary>Removes the data set.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private int Count(LiteralPrefilter filter, bool useContentIndex)
    {
        _samples.Clear();
        ILogSource source = _store!;
        if (useContentIndex)
        {
            source.ExtractSamples("bench", _stream, new EntryQuery(_from, _through, Filter: filter), null, _samples);
            return _samples.Count;
        }

        var count = 0;
        using var it = source.OpenEntries("bench", _stream, new EntryQuery(_from, _through));
        while (it.MoveNext())
        {
            if (filter.Matches(it.Current.Line))
            {
                count++;
            }
        }

        return count;
    }

    private static ChunkWrite Finish(ChunkBuilder builder, LabelSet labels)
    {
        var output = new PooledBufferWriter(2 * 1024 * 1024);
        var summary = builder.Finish(output);
        return new ChunkWrite(labels, output.WrittenSpan.ToArray(), summary);
    }
}
