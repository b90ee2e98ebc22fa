using BenchmarkDotNet.Attributes;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>
/// <c>count_over_time({app="shop"} |= "declined")</c> over 64 or 256 MB of stored logs, with and without the content
/// index, and the same for a trace id that occurs exactly once (the id filter's case); setup prints the block-skip
/// rates, the blocks and bytes the id needle reads, and the stored/raw ratio of chunks + index.
/// Short run of the id cases: <c>--filter *NeedleQueryBenchmarks.IdNeedle* --job short</c>.
/// </summary>
public class NeedleQueryBenchmarks
{
    private readonly List<Sample> _samples = [];
    private string _idNeedle = string.Empty;
    private string _root = string.Empty;
    private ChunkStore? _store;
    private SelectedStream _stream;
    private long _from;
    private long _through;

    /// <summary>Codec of the stored chunks.</summary>
    [Params("snappy", "zstd")]
    public string Encoding { get; set; } = "snappy";

    /// <summary>Raw megabytes of log lines stored.</summary>
    [Params(64, 256)]
    public int MegaBytes { get; set; } = 64;

    /// <summary>Writes the data set.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("lokisharp-bench-").FullName;
        _store = ChunkStore.Open(new StorageOptions { RootDirectory = _root, ChunkEncoding = Encoding });
        var lines = SyntheticLogs.Generate(MegaBytes * 1024 * 1024);
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
        Console.WriteLine($"// {Encoding} {MegaBytes} MB: stored (chunks + index) / raw = {(double)stored / raw:F3}; needle matches = {_samples.Count}; " +
            $"blocks skipped by content index = {stats.BlocksSkippedByContent}/{total} ({(double)stats.BlocksSkippedByContent / total:P1})");

        // The id needle: the trace id of the middle line, which occurs in no other line (checked).
        var middle = System.Text.Encoding.ASCII.GetString(lines[lines.Count / 2].Line);
        var at = middle.IndexOf("trace_id=", StringComparison.Ordinal) + "trace_id=".Length;
        _idNeedle = middle.Substring(at, 16);
        var needle = System.Text.Encoding.ASCII.GetBytes(_idNeedle);
        var occurrences = lines.Count(l => l.Line.AsSpan().IndexOf(needle) >= 0);
        if (occurrences != 1)
        {
            throw new InvalidOperationException($"trace id {_idNeedle} occurs in {occurrences} lines");
        }

        _samples.Clear();
        stats = source.ExtractSamples("bench", _stream, new EntryQuery(_from, _through, Filter: new LiteralPrefilter(_idNeedle)), null, _samples);
        total = stats.BlocksDecoded + stats.BlocksSkippedByContent;
        Console.WriteLine($"// {Encoding} {MegaBytes} MB: id needle {_idNeedle} matches = {_samples.Count}; blocks read = {stats.BlocksDecoded}/{total}; " +
            $"chunk bytes loaded = {stats.LoadedBytes}/{stored} (decoded {stats.CompressedBytes})");
    }

    /// <summary>count_over_time of a trace id that occurs once, using the content and id filters.</summary>
    [Benchmark]
    public int IdNeedleCount() => Count(new LiteralPrefilter(_idNeedle), useContentIndex: true);

    /// <summary>The same id needle as a log query: the first (only) matching line, newest first.</summary>
    [Benchmark]
    public int IdNeedleLogs()
    {
        ILogSource source = _store!;
        var count = 0;
        using var it = source.OpenEntries("bench", _stream, new EntryQuery(_from, _through, Direction.Backward, new LiteralPrefilter(_idNeedle)));
        while (count < 100 && it.MoveNext())
        {
            count++;
        }

        return count;
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
