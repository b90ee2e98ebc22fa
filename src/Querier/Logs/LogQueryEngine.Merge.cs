using System.Text;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Logs;

public sealed partial class LogQueryEngine
{
    // What a returned line costs besides its text: the entry, its string header, its share of the response.
    private const long EntryOverhead = 96;

    /// <summary>
    /// One query's merge of its cursors: the heap in time order, duplicates between sources dropped, statistics,
    /// the pipeline and <c>interval</c>, pagination and context lines, and the memory of the lines returned. One
    /// instance per query; nothing is allocated per entry beyond what the result keeps.
    /// </summary>
    private sealed class EntryMerge
    {
        private readonly PriorityQueue<Cursor, (long, int)> _heap;
        private readonly LogPipeline _pipeline;
        private readonly int _limit;
        private readonly long _interval;
        private readonly bool _backward;
        private readonly LogQueryResult _result;
        private readonly QueryMemoryBudget? _memory;
        private readonly CancellationToken _cancellationToken;

        // Per stream read from several sources: the timestamp last emitted and the line hashes seen at it, to drop
        // the duplicates a flush briefly leaves in both the head and the store.
        private readonly Dictionary<int, int> _sourcesPerStream = [];
        private readonly Dictionary<int, (long Timestamp, HashSet<int> Lines)> _lastSeen = [];

        private readonly Dictionary<int, StreamPipeline> _stages = [];
        private readonly MetadataDecoder _metadata = new();
        private long _lastOutput = long.MinValue;
        private int _checkedAt;
        private int _matches;

        private readonly ContextLines? _context;
        private readonly LogPipeline? _bareSelector;
        private readonly Dictionary<int, StreamPipeline> _bareStages = [];

        // Pagination: the entries at the resumed page's first timestamp that an earlier page returned, and where
        // this page stands.
        private readonly long _skipAt;
        private int _skip;
        private long _pageTimestamp;
        private int _pageAtTimestamp;

        private int _accounted;
        private LabelsResult? _accountedLabels;

        public EntryMerge(List<Cursor> cursors, LogPipeline pipeline, int limit, Direction direction, long interval, LogQueryExtras extras,
            LogQueryResult result, QueryMemoryBudget? memory, CancellationToken cancellationToken)
        {
            _pipeline = pipeline;
            _limit = limit;
            _interval = interval;
            _backward = direction == Direction.Backward;
            _result = result;
            _memory = memory;
            _cancellationToken = cancellationToken;
            _heap = new PriorityQueue<Cursor, (long, int)>(cursors.Count);
            foreach (var cursor in cursors)
            {
                _heap.Enqueue(cursor, Key(cursor, _backward));
            }

            foreach (var cursor in cursors)
            {
                _sourcesPerStream[cursor.StreamId] = _sourcesPerStream.GetValueOrDefault(cursor.StreamId) + 1;
            }

            // Context lines are read in stream order: going backward, the lines before a match in time come after it.
            _context = extras.WantsContext
                ? new ContextLines(_backward ? extras.ContextAfter : extras.ContextBefore, _backward ? extras.ContextBefore : extras.ContextAfter, memory)
                : null;
            _bareSelector = _context is null ? null : LogPipeline.Compile([]);
            _skipAt = extras.After?.Timestamp ?? 0;
            _skip = extras.After?.Skip ?? 0;
            (_pageTimestamp, _pageAtTimestamp) = (_skipAt, _skip);
        }

        public void Run()
        {
            while (_heap.Count > 0)
            {
                if (_matches >= _limit && _context is not { Pending: true })
                {
                    break;
                }

                var cursor = _heap.Dequeue();
                if (_matches >= _limit && !_context!.Wants(cursor.StreamId))
                {
                    cursor.Close(_result);
                    continue;
                }

                if (++_checkedAt % 1024 == 0)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                }

                var entry = cursor.Current;
                if (IsDuplicate(cursor.StreamId, entry))
                {
                    _result.Stats.Duplicates++;
                    Requeue(cursor);
                    continue;
                }

                CountRead(cursor, entry.Line.Length);
                Process(cursor, entry);
                if (_memory is not null && _accounted < _result.Entries.Count)
                {
                    Reserve(_memory);
                }

                Requeue(cursor);
            }

            FinishPage();
            while (_heap.TryDequeue(out var rest, out _))
            {
                rest.Close(_result);
            }

            if (_context is not null)
            {
                SortByTime(_result.Entries, _backward);
            }

            _result.Stats.TotalStructuredMetadataBytesProcessed = _metadata.Bytes;
        }

        // Only streams read from more than one source can repeat a line.
        private bool IsDuplicate(int streamId, LogEntry entry)
        {
            if (_sourcesPerStream[streamId] <= 1)
            {
                return false;
            }

            var lineHash = HashLine(entry.Line);
            if (_lastSeen.TryGetValue(streamId, out var seen) && seen.Timestamp == entry.Timestamp)
            {
                return !seen.Lines.Add(lineHash);
            }

            _lastSeen[streamId] = (entry.Timestamp, [lineHash]);
            return false;
        }

        private void CountRead(Cursor cursor, int lineBytes)
        {
            _result.Stats.TotalLinesProcessed++;
            _result.Stats.TotalBytesProcessed += lineBytes;
            if (cursor.IsHead)
            {
                _result.Stats.HeadChunkLines++;
                _result.Stats.HeadChunkBytes += lineBytes;
            }
        }

        // The pipeline decides whether the entry matches; a match within the limit and the interval is returned
        // unless an earlier page did, and a line that is not returned may still be a context line.
        private void Process(Cursor cursor, LogEntry entry)
        {
            if (!_stages.TryGetValue(cursor.StreamId, out var stage))
            {
                _stages[cursor.StreamId] = stage = _pipeline.ForStream(cursor.Labels);
            }

            var matched = false;
            var structuredMetadata = _metadata.Decode(entry.Metadata);
            if (stage.Process(entry.Timestamp, entry.Line, structuredMetadata, out var line, out var labels))
            {
                _result.Stats.PostFilterLines++;
                matched = _matches < _limit && (_interval == 0 || _lastOutput == long.MinValue
                    || (_backward ? entry.Timestamp <= _lastOutput - _interval : entry.Timestamp >= _lastOutput + _interval));
            }

            if (matched)
            {
                if (!ReturnedByEarlierPage(entry.Timestamp))
                {
                    Emit(cursor.StreamId, entry.Timestamp, line, labels);
                }
            }
            else if (_context is not null)
            {
                if (!_bareStages.TryGetValue(cursor.StreamId, out var bare))
                {
                    _bareStages[cursor.StreamId] = bare = _bareSelector!.ForStream(cursor.Labels);
                }

                bare.Process(entry.Timestamp, entry.Line, structuredMetadata, out _, out var bareLabels);
                _context.NotMatched(cursor.StreamId, entry.Timestamp, entry.Line, bareLabels, _result.Entries);
            }
        }

        private void Emit(int streamId, long timestamp, ReadOnlySpan<byte> line, LabelsResult labels)
        {
            _context?.BeforeMatch(streamId, _result.Entries);
            _result.Entries.Add(new ResultEntry(timestamp, Encoding.UTF8.GetString(line), labels));
            _context?.AfterMatch(streamId);
            _lastOutput = timestamp;
            _matches++;
            if (timestamp != _pageTimestamp)
            {
                (_pageTimestamp, _pageAtTimestamp) = (timestamp, 0);
            }

            _pageAtTimestamp++;
        }

        private bool ReturnedByEarlierPage(long timestamp)
        {
            if (_skip > 0 && timestamp == _skipAt)
            {
                _skip--;
                return true;
            }

            return false;
        }

        // More may follow only when the page filled up before every stream ran out.
        private void FinishPage()
        {
            if (_result.Paginated && _matches >= _limit && _heap.Count > 0)
            {
                _result.Next = new LogCursor(_pageTimestamp, _pageAtTimestamp);
            }
        }

        // Lines returned are held until the response is written, as strings and then as JSON text; a label set is
        // counted when it differs from the previous line's (results are shared between lines with the same labels).
        private void Reserve(QueryMemoryBudget memory)
        {
            var entries = _result.Entries;
            long bytes = 0;
            for (; _accounted < entries.Count; _accounted++)
            {
                var entry = entries[_accounted];
                bytes += EntryOverhead + (3L * entry.Line.Length);
                if (!ReferenceEquals(entry.Labels, _accountedLabels))
                {
                    _accountedLabels = entry.Labels;
                    bytes += QueryMemoryBudget.EstimateLabels(entry.Labels.All);
                }
            }

            memory.Reserve(bytes);
        }

        private void Requeue(Cursor cursor)
        {
            if (cursor.Advance())
            {
                _heap.Enqueue(cursor, Key(cursor, _backward));
            }
            else
            {
                cursor.Close(_result);
            }
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

        // Oldest first (forward) or newest first (backward); equal times in stream order.
        private static (long, int) Key(Cursor cursor, bool backward) =>
            (backward ? -cursor.Current.Timestamp : cursor.Current.Timestamp, cursor.Order);

        private static int HashLine(ReadOnlySpan<byte> line)
        {
            var hash = new HashCode();
            hash.AddBytes(line);
            return hash.ToHashCode();
        }
    }
}
