using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// The read side shared by the on-disk chunk store and the ingester's in-memory head, so the querier reads
/// recent and old data the same way. Times are Unix ns; ranges are <c>[from, through)</c>. Implementations
/// are thread-safe; iterators are not and must be disposed.
/// </summary>
public interface ILogSource
{
    /// <summary>Streams of <paramref name="tenant"/> matching every matcher with data in the range.</summary>
    IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through);

    /// <summary>
    /// Iterates one stream's entries in <c>[query.From, query.Through)</c> in the query's direction, skipping
    /// blocks by time and content filter. Entries failing <see cref="EntryQuery.Filter"/> are not returned.
    /// Corrupt data is skipped and reported in <see cref="IEntryIterator.Warnings"/>.
    /// </summary>
    IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query);

    /// <summary>
    /// Metric-query entry point: appends one sample per entry (oldest first) that passes the filter and the
    /// extractor, without materialising lines as strings. A null extractor counts entries (value 1).
    /// </summary>
    ReadStats ExtractSamples(string tenant, SelectedStream stream, in EntryQuery query, SampleExtractor? extractor,
        List<Sample> output)
    {
        using var entries = OpenEntries(tenant, stream, query with { Direction = Direction.Forward });
        while (entries.MoveNext())
        {
            var entry = entries.Current;
            if (extractor is null)
            {
                output.Add(new Sample(entry.Timestamp, 1));
            }
            else if (extractor(in entry, out var value))
            {
                output.Add(new Sample(entry.Timestamp, value));
            }
        }

        return entries.Stats;
    }

    /// <summary>
    /// Damage known before any stream is read that may hide data in <c>[from, through)</c> (an index table whose
    /// file failed to load), as warnings for the query; empty when there is none.
    /// </summary>
    IReadOnlyList<string> KnownDamage(string tenant, long from, long through) => [];

    /// <summary>Label names of matching streams (all streams when <paramref name="matchers"/> is empty).</summary>
    IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through);

    /// <summary>Values of label <paramref name="name"/> among matching streams.</summary>
    IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers,
        long from, long through);

    /// <summary>Streams, chunks, bytes and entries of matching streams, for <c>index/stats</c>.</summary>
    IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through);

    /// <summary>Uncompressed bytes per matching stream, for <c>index/volume</c> (the caller aggregates).</summary>
    IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through);
}

/// <summary>Iterates entries in place; <see cref="Current"/> is valid until the next <see cref="MoveNext"/>.</summary>
public interface IEntryIterator : IDisposable
{
    /// <summary>Advances; false at the end.</summary>
    bool MoveNext();

    /// <summary>The current entry, a view into pooled memory.</summary>
    LogEntry Current { get; }

    /// <summary>What was read and skipped so far.</summary>
    ReadStats Stats { get; }

    /// <summary>Problems met and skipped (corrupt blocks, missing files), for the query's warnings.</summary>
    IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// Whether <see cref="TryTakeRun"/> can ever hand out a run, so a reader asks only iterators that may (false by default).
    /// </summary>
    bool HandsOutRuns => false;

    /// <summary>
    /// Once <see cref="MoveNext"/> returned true, reading forward: hands out the current entry and the entries this iterator
    /// would return after it that lie in the same decoded block and are older than <paramref name="before"/>, and leaves the
    /// iterator at the run's end: the reader must call <see cref="MoveNext"/> next (not <see cref="Current"/>, which may be
    /// an entry the filter drops, nor another TryTakeRun), which continues after the run. A reader walks a run without
    /// a call per entry through the iterator's layers. False (the default) when the iterator cannot, or the current entry is
    /// not older than <paramref name="before"/>: nothing moved, <see cref="Current"/> is read as usual.
    /// </summary>
    bool TryTakeRun(long before, out EntryRun run)
    {
        run = default;
        return false;
    }
}

/// <summary>Which way entries are returned.</summary>
public enum Direction
{
    /// <summary>Oldest first.</summary>
    Forward,

    /// <summary>Newest first.</summary>
    Backward,
}

/// <summary>What to read from a stream.</summary>
/// <param name="From">Inclusive start, Unix ns.</param>
/// <param name="Through">Exclusive end, Unix ns.</param>
/// <param name="Direction">Order of entries.</param>
/// <param name="Filter">Literal substrings every line must contain, or null.</param>
/// <param name="Memory">The query's memory budget: the chunk bytes and decoded blocks an iterator holds are reserved in it.</param>
public readonly record struct EntryQuery(long From, long Through, Direction Direction = Direction.Forward,
    LiteralPrefilter? Filter = null, QueryMemoryBudget? Memory = null);

/// <summary>A stream chosen by a selector: its labels and fingerprint.</summary>
/// <param name="Labels">The stream's labels.</param>
/// <param name="Fingerprint">Its <see cref="Index.Fingerprint"/>.</param>
public readonly record struct SelectedStream(LabelSet Labels, ulong Fingerprint);

/// <summary>One metric sample.</summary>
/// <param name="Timestamp">Unix ns of the entry.</param>
/// <param name="Value">Extracted value.</param>
public readonly record struct Sample(long Timestamp, double Value);

/// <summary>Turns an entry into a sample value; false drops the entry (e.g. unwrap of a non-number).</summary>
public delegate bool SampleExtractor(in LogEntry entry, out double value);

/// <summary>Counters of one read, for query statistics and the content index's skip rate.</summary>
public sealed class ReadStats
{
    /// <summary>Chunks opened.</summary>
    public int Chunks { get; set; }

    /// <summary>Blocks decompressed.</summary>
    public int BlocksDecoded { get; set; }

    /// <summary>Blocks skipped because their time range lies outside the query.</summary>
    public int BlocksSkippedByTime { get; set; }

    /// <summary>Blocks skipped because their content filter rules out the line filter.</summary>
    public int BlocksSkippedByContent { get; set; }

    /// <summary>Blocks or chunks skipped as corrupt.</summary>
    public int Corrupt { get; set; }

    /// <summary>Bytes decompressed.</summary>
    public long DecompressedBytes { get; set; }

    /// <summary>Compressed bytes of the blocks decompressed.</summary>
    public long CompressedBytes { get; set; }

    /// <summary>Compressed bytes of the blocks skipped by their content filter.</summary>
    public long SkippedByContentBytes { get; set; }

    /// <summary>Encoded chunk bytes loaded (read from disk or the bucket, or handed over from memory).</summary>
    public long LoadedBytes { get; set; }

    /// <summary>Adds another read's counters.</summary>
    public void Add(ReadStats other)
    {
        Chunks += other.Chunks;
        BlocksDecoded += other.BlocksDecoded;
        BlocksSkippedByTime += other.BlocksSkippedByTime;
        BlocksSkippedByContent += other.BlocksSkippedByContent;
        Corrupt += other.Corrupt;
        DecompressedBytes += other.DecompressedBytes;
        CompressedBytes += other.CompressedBytes;
        SkippedByContentBytes += other.SkippedByContentBytes;
        LoadedBytes += other.LoadedBytes;
    }
}
