using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Logs;

/// <summary>
/// Runs log queries: selects streams from every source (the ingester's head and the chunk store), merges their
/// entries in time order in the query's direction with a heap, drops exact duplicates between sources (a block
/// is briefly in both while it is flushed), runs the compiled pipeline per stream and stops at the limit
/// (the merge is in <c>LogQueryEngine.Merge.cs</c>).
/// The chunks held open and the lines returned are reserved in <paramref name="memory"/>; skipped corrupt data
/// goes to <paramref name="warnings"/> (the result's own when null).
/// </summary>
public sealed partial class LogQueryEngine(IReadOnlyList<ILogSource> sources, QueryMemoryBudget? memory = null, QueryWarnings? warnings = null)
{
    /// <summary>Runs <paramref name="query"/>, with LokiSharp's opt-in extras (a pagination cursor, context lines) when it has them.</summary>
    public LogQueryResult Select(LogQuery query, CancellationToken cancellationToken)
    {
        var (tenant, selector, start, end, limit, direction) = query;
        var extras = query.Extras;
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
        var entryQuery = new EntryQuery(start, end, direction, filter, memory);

        var cursors = new List<Cursor>();
        try
        {
            OpenCursors(tenant, matchers, start, end, entryQuery, cursors, result);
            if (result.Paginated)
            {
                OrderByLabels(cursors);
            }

            if (extras.After is null || start < end)
            {
                new EntryMerge(cursors, pipeline, limit, direction, query.Interval, extras, result, memory, cancellationToken).Run();
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

    // One cursor per stream and source, positioned on its first entry; a stream found in several sources keeps one
    // id, so its entries can be deduplicated. The first source is the ingester's head.
    private void OpenCursors(string tenant, IReadOnlyList<LabelMatcher> matchers, long start, long end, EntryQuery query, List<Cursor> cursors,
        LogQueryResult result)
    {
        var streamIds = new Dictionary<LabelSet, int>();
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
