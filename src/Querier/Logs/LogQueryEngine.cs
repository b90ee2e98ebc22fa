using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Logs;

/// <summary>One log line of a result, with the labels the pipeline gave it, split as Loki 3 categorises them.</summary>
public readonly record struct ResultEntry(long Timestamp, string Line, LabelsResult Labels);

/// <summary>What a log query read and returned, for the response's <c>stats</c>.</summary>
public sealed class QueryStatistics
{
    public long TotalBytesProcessed { get; set; }

    public long TotalLinesProcessed { get; set; }

    public long TotalStructuredMetadataBytesProcessed { get; set; }

    public long PostFilterLines { get; set; }

    public long EntriesReturned { get; set; }

    public long HeadChunkBytes { get; set; }

    public long HeadChunkLines { get; set; }

    public long DecompressedBytes { get; set; }

    public long DecompressedLines { get; set; }

    public long ChunksReferenced { get; set; }

    public long Duplicates { get; set; }

    public double ExecTimeSeconds { get; set; }

    /// <summary>What the metric results cache did for this query.</summary>
    public Cache.CacheStatistics ResultCache { get; } = new();
}

/// <summary>The lines of a log query in output order, plus warnings and statistics.</summary>
public sealed class LogQueryResult
{
    public List<ResultEntry> Entries { get; } = [];

    public List<string> Warnings { get; } = [];

    public QueryStatistics Stats { get; } = new();
}

/// <summary>
/// Runs log queries: selects streams from every source (the ingester's head and the chunk store), merges their
/// entries in time order in the query's direction with a heap, drops exact duplicates between sources (a block
/// is briefly in both while it is flushed), runs the compiled pipeline per stream and stops at the limit.
/// </summary>
public sealed class LogQueryEngine(IReadOnlyList<ILogSource> sources)
{
    /// <summary>Runs <paramref name="selector"/> over <c>[start, end)</c>.</summary>
    public LogQueryResult Select(string tenant, LogSelectorExpr selector, long start, long end, int limit, Direction direction,
        long interval, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = new LogQueryResult();
        var pipeline = LogPipeline.Compile(selector);
        IReadOnlyList<LabelMatcher> matchers = selector.Matchers;
        var filter = pipeline.RequiredLiterals.Count > 0 ? new LineFilter(pipeline.RequiredLiterals) : null;
        var query = new EntryQuery(start, end, direction, filter);

        var cursors = new List<Cursor>();
        var streamIds = new Dictionary<LabelSet, int>();
        try
        {
            for (var s = 0; s < sources.Count; s++)
            {
                foreach (var stream in sources[s].SelectStreams(tenant, matchers, start, end))
                {
                    if (!streamIds.TryGetValue(stream.Labels, out var id))
                    {
                        id = streamIds.Count;
                        streamIds[stream.Labels] = id;
                    }

                    var iterator = sources[s].OpenEntries(tenant, stream, query);
                    var cursor = new Cursor(iterator, id, stream.Labels, isHead: s == 0);
                    if (cursor.Advance())
                    {
                        cursors.Add(cursor);
                    }
                    else
                    {
                        cursor.Close(result);
                    }
                }
            }

            Merge(cursors, pipeline, limit, direction, interval, result, cancellationToken);
        }
        finally
        {
            foreach (var cursor in cursors)
            {
                cursor.Close(result);
            }
        }

        result.Stats.EntriesReturned = result.Entries.Count;
        result.Stats.ExecTimeSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        return result;
    }

    private static void Merge(List<Cursor> cursors, LogPipeline pipeline, int limit, Direction direction, long interval,
        LogQueryResult result, CancellationToken cancellationToken)
    {
        var backward = direction == Direction.Backward;
        var heap = new PriorityQueue<Cursor, (long, int)>(cursors.Count);
        foreach (var cursor in cursors)
        {
            heap.Enqueue(cursor, Key(cursor, backward));
        }

        // Per stream read from several sources: the timestamp last emitted and the line hashes seen at it, to drop
        // the duplicates a flush briefly leaves in both the head and the store.
        var sourcesPerStream = new Dictionary<int, int>();
        foreach (var cursor in cursors)
        {
            sourcesPerStream[cursor.StreamId] = sourcesPerStream.GetValueOrDefault(cursor.StreamId) + 1;
        }

        var lastSeen = new Dictionary<int, (long Timestamp, HashSet<int> Lines)>();
        var stages = new Dictionary<int, StreamPipeline>();
        var metadata = new MetadataDecoder();
        var lastOutput = long.MinValue;
        var checkedAt = 0;
        while (result.Entries.Count < limit && heap.TryDequeue(out var cursor, out _))
        {
            if (++checkedAt % 1024 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var entry = cursor.Current;
            if (sourcesPerStream[cursor.StreamId] > 1)
            {
                var lineHash = HashLine(entry.Line);
                if (lastSeen.TryGetValue(cursor.StreamId, out var seen) && seen.Timestamp == entry.Timestamp)
                {
                    if (!seen.Lines.Add(lineHash))
                    {
                        result.Stats.Duplicates++;
                        Requeue(heap, cursor, backward, result);
                        continue;
                    }
                }
                else
                {
                    lastSeen[cursor.StreamId] = (entry.Timestamp, [lineHash]);
                }
            }

            result.Stats.TotalLinesProcessed++;
            result.Stats.TotalBytesProcessed += entry.Line.Length;
            if (cursor.IsHead)
            {
                result.Stats.HeadChunkLines++;
                result.Stats.HeadChunkBytes += entry.Line.Length;
            }

            if (!stages.TryGetValue(cursor.StreamId, out var stage))
            {
                stages[cursor.StreamId] = stage = pipeline.ForStream(cursor.Labels);
            }

            if (stage.Process(entry.Timestamp, entry.Line, metadata.Decode(entry.Metadata), out var line, out var labels))
            {
                result.Stats.PostFilterLines++;
                var due = interval == 0 || lastOutput == long.MinValue
                    || (backward ? entry.Timestamp <= lastOutput - interval : entry.Timestamp >= lastOutput + interval);
                if (due)
                {
                    result.Entries.Add(new ResultEntry(entry.Timestamp, Encoding.UTF8.GetString(line), labels));
                    lastOutput = entry.Timestamp;
                }
            }

            Requeue(heap, cursor, backward, result);
        }

        while (heap.TryDequeue(out var rest, out _))
        {
            rest.Close(result);
        }

        result.Stats.TotalStructuredMetadataBytesProcessed = metadata.Bytes;
    }

    private static void Requeue(PriorityQueue<Cursor, (long, int)> heap, Cursor cursor, bool backward, LogQueryResult result)
    {
        if (cursor.Advance())
        {
            heap.Enqueue(cursor, Key(cursor, backward));
        }
        else
        {
            cursor.Close(result);
        }
    }

    // Oldest first (forward) or newest first (backward); equal times in stream order.
    private static (long, int) Key(Cursor cursor, bool backward) =>
        (backward ? -cursor.Current.Timestamp : cursor.Current.Timestamp, cursor.StreamId);

    private static int HashLine(ReadOnlySpan<byte> line)
    {
        var hash = new HashCode();
        hash.AddBytes(line);
        return hash.ToHashCode();
    }

    /// <summary>One stream's iterator from one source, positioned on its current entry.</summary>
    private sealed class Cursor(IEntryIterator iterator, int streamId, LabelSet labels, bool isHead)
    {
        private bool _closed;

        public int StreamId { get; } = streamId;

        public LabelSet Labels { get; } = labels;

        public bool IsHead { get; } = isHead;

        public LogEntry Current => iterator.Current;

        public bool Advance() => iterator.MoveNext();

        public void Close(LogQueryResult result)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            var stats = iterator.Stats;
            result.Stats.ChunksReferenced += stats.Chunks;
            result.Stats.DecompressedBytes += stats.DecompressedBytes;
            foreach (var warning in iterator.Warnings)
            {
                if (!result.Warnings.Contains(warning))
                {
                    result.Warnings.Add(warning);
                }
            }

            iterator.Dispose();
        }
    }
}
