using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Querier.Responses;
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

    /// <summary>Corrupt or unreadable data skipped while reading, for the response's <c>warnings</c>.</summary>
    public QueryWarnings Warnings { get; init; } = new();

    public QueryStatistics Stats { get; } = new();

    /// <summary>Whether the query was paginated, so the response carries <see cref="Next"/> (null once exhausted).</summary>
    public bool Paginated { get; set; }

    /// <summary>Where the next page starts; null when this page is the last.</summary>
    public LogCursor? Next { get; set; }
}

/// <summary>
/// Runs log queries: selects streams from every source (the ingester's head and the chunk store), merges their
/// entries in time order in the query's direction with a heap, drops exact duplicates between sources (a block
/// is briefly in both while it is flushed), runs the compiled pipeline per stream and stops at the limit.
/// The chunks held open and the lines returned are reserved in <paramref name="memory"/>; skipped corrupt data
/// goes to <paramref name="warnings"/> (the result's own when null).
/// </summary>
public sealed class LogQueryEngine(IReadOnlyList<ILogSource> sources, QueryMemoryBudget? memory = null, QueryWarnings? warnings = null)
{
    // What a returned line costs besides its text: the entry, its string header, its share of the response.
    private const long EntryOverhead = 96;

    /// <summary>
    /// Runs <paramref name="selector"/> over <c>[start, end)</c>, with LokiSharp's opt-in <paramref name="extras"/>
    /// (a pagination cursor, context lines) when given.
    /// </summary>
    public LogQueryResult Select(string tenant, LogSelectorExpr selector, long start, long end, int limit, Direction direction,
        long interval, CancellationToken cancellationToken, LogQueryExtras? extras = null)
    {
        extras ??= LogQueryExtras.None;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = new LogQueryResult { Paginated = extras.Paginate || extras.After is not null, Warnings = warnings ?? new QueryWarnings() };
        if (extras.After is { } after)
        {
            // The page resumes at the previous page's last timestamp, which is included again and partly skipped.
            if (direction == Direction.Backward)
            {
                end = Math.Min(end, after.Timestamp + 1);
            }
            else
            {
                start = Math.Max(start, after.Timestamp);
            }
        }

        var pipeline = LogPipeline.Compile(selector);
        IReadOnlyList<LabelMatcher> matchers = selector.Matchers;

        // Context needs the lines around a match, so storage must not drop the lines lacking the query's literals.
        var filter = pipeline.LiteralRequirements.Count > 0 && !extras.WantsContext ? new LiteralPrefilter(pipeline.LiteralRequirements) : null;
        var query = new EntryQuery(start, end, direction, filter, memory);

        var cursors = new List<Cursor>();
        var streamIds = new Dictionary<LabelSet, int>();
        try
        {
            for (var s = 0; s < sources.Count; s++)
            {
                result.Warnings.AddRange(sources[s].KnownDamage(tenant, start, end));
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

            if (result.Paginated)
            {
                OrderByLabels(cursors);
            }

            if (extras.After is null || start < end)
            {
                Merge(cursors, pipeline, limit, direction, interval, extras, result, memory, cancellationToken);
            }
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

    // Paging needs an order of equal timestamps that does not depend on the order streams were found in.
    private static void OrderByLabels(List<Cursor> cursors)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var cursor in cursors)
        {
            names.Add(cursor.Labels.ToString());
        }

        var rank = new Dictionary<string, int>(names.Count, StringComparer.Ordinal);
        foreach (var name in names)
        {
            rank[name] = rank.Count;
        }

        foreach (var cursor in cursors)
        {
            cursor.Order = rank[cursor.Labels.ToString()];
        }
    }

    private static void Merge(List<Cursor> cursors, LogPipeline pipeline, int limit, Direction direction, long interval,
        LogQueryExtras extras, LogQueryResult result, QueryMemoryBudget? memory, CancellationToken cancellationToken)
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

        // Context lines are read in stream order: going backward, the lines before a match in time come after it.
        var context = extras.WantsContext
            ? new ContextLines(backward ? extras.ContextAfter : extras.ContextBefore, backward ? extras.ContextBefore : extras.ContextAfter, memory)
            : null;
        var bareSelector = context is null ? null : LogPipeline.Compile([]);
        var bareStages = new Dictionary<int, StreamPipeline>();
        var skipAt = extras.After?.Timestamp ?? 0;
        var skip = extras.After?.Skip ?? 0;
        var (pageTimestamp, pageAtTimestamp) = (skipAt, skip);
        var matches = 0;
        var accounted = 0;
        LabelsResult? accountedLabels = null;
        while (heap.Count > 0)
        {
            if (matches >= limit && context is not { Pending: true })
            {
                break;
            }

            var cursor = heap.Dequeue();
            if (matches >= limit && !context!.Wants(cursor.StreamId))
            {
                cursor.Close(result);
                continue;
            }

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

            var matched = false;
            var structuredMetadata = metadata.Decode(entry.Metadata);
            if (stage.Process(entry.Timestamp, entry.Line, structuredMetadata, out var line, out var labels))
            {
                result.Stats.PostFilterLines++;
                matched = matches < limit && (interval == 0 || lastOutput == long.MinValue
                    || (backward ? entry.Timestamp <= lastOutput - interval : entry.Timestamp >= lastOutput + interval));
            }

            if (matched && skip > 0 && entry.Timestamp == skipAt)
            {
                // Returned by an earlier page.
                skip--;
            }
            else if (matched)
            {
                context?.BeforeMatch(cursor.StreamId, result.Entries);
                result.Entries.Add(new ResultEntry(entry.Timestamp, Encoding.UTF8.GetString(line), labels));
                context?.AfterMatch(cursor.StreamId);
                lastOutput = entry.Timestamp;
                matches++;
                if (entry.Timestamp != pageTimestamp)
                {
                    (pageTimestamp, pageAtTimestamp) = (entry.Timestamp, 0);
                }

                pageAtTimestamp++;
            }
            else if (context is not null)
            {
                if (!bareStages.TryGetValue(cursor.StreamId, out var bare))
                {
                    bareStages[cursor.StreamId] = bare = bareSelector!.ForStream(cursor.Labels);
                }

                bare.Process(entry.Timestamp, entry.Line, structuredMetadata, out _, out var bareLabels);
                context.NotMatched(cursor.StreamId, entry.Timestamp, entry.Line, bareLabels, result.Entries);
            }

            if (memory is not null && accounted < result.Entries.Count)
            {
                Reserve(memory, result.Entries, ref accounted, ref accountedLabels);
            }

            Requeue(heap, cursor, backward, result);
        }

        // More may follow only when the page filled up before every stream ran out.
        if (result.Paginated && matches >= limit && heap.Count > 0)
        {
            result.Next = new LogCursor(pageTimestamp, pageAtTimestamp);
        }

        while (heap.TryDequeue(out var rest, out _))
        {
            rest.Close(result);
        }

        if (context is not null)
        {
            SortByTime(result.Entries, backward);
        }

        result.Stats.TotalStructuredMetadataBytesProcessed = metadata.Bytes;
    }

    // Lines returned are held until the response is written, as strings and then as JSON text; a label set is
    // counted when it differs from the previous line's (results are shared between lines with the same labels).
    private static void Reserve(QueryMemoryBudget memory, List<ResultEntry> entries, ref int accounted, ref LabelsResult? lastLabels)
    {
        long bytes = 0;
        for (; accounted < entries.Count; accounted++)
        {
            var entry = entries[accounted];
            bytes += EntryOverhead + (3L * entry.Line.Length);
            if (!ReferenceEquals(entry.Labels, lastLabels))
            {
                lastLabels = entry.Labels;
                bytes += QueryMemoryBudget.EstimateLabels(entry.Labels.All);
            }
        }

        memory.Reserve(bytes);
    }

    // Context lines of a stream whose matches the pipeline relabels land among other streams' entries; restore
    // time order, keeping the order of equal timestamps.
    private static void SortByTime(List<ResultEntry> entries, bool backward)
    {
        var keyed = new (long Timestamp, int Index)[entries.Count];
        for (var i = 0; i < keyed.Length; i++)
        {
            keyed[i] = (backward ? -entries[i].Timestamp : entries[i].Timestamp, i);
        }

        Array.Sort(keyed);
        var sorted = new ResultEntry[keyed.Length];
        for (var i = 0; i < keyed.Length; i++)
        {
            sorted[i] = entries[keyed[i].Index];
        }

        entries.Clear();
        entries.AddRange(sorted);
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
        (backward ? -cursor.Current.Timestamp : cursor.Current.Timestamp, cursor.Order);

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

        /// <summary>Rank among streams at equal timestamps: the stream id, or the stream's label order when paging.</summary>
        public int Order { get; set; } = streamId;

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
            result.Warnings.AddRange(iterator.Warnings);
            iterator.Dispose();
        }
    }
}
