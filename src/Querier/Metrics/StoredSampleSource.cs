using System.Text;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Querier.Logs;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Metrics;

/// <summary>
/// Feeds the metric evaluator from the head and the chunk store: per stream, the entries of every source are
/// merged in time order (dropping the duplicates a flush briefly leaves in both) and run through the range
/// aggregation's compiled sample extractor, lazily, so no line is materialised as a string.
/// </summary>
public sealed class StoredSampleSource(IReadOnlyList<ILogSource> sources, string tenant, QueryStatistics stats) : ISampleSource
{
    /// <inheritdoc />
    public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken)
    {
        var aggregation = selection.Aggregation;
        var extractor = LogQL.Pipeline.SampleExtractor.Compile(aggregation.Op, aggregation.Range, aggregation.Grouping ?? selection.SumGrouping);
        IReadOnlyList<LabelMatcher> matchers = aggregation.Range.Left.Matchers;
        var from = selection.StartExclusiveNs + 1;
        var through = selection.EndInclusiveNs + 1;
        var literals = extractor.Pipeline.RequiredLiterals;
        var query = new EntryQuery(from, through, Direction.Forward, literals.Count > 0 ? new LineFilter(literals) : null);

        var byStream = new Dictionary<LabelSet, List<IEntryIterator>>();
        foreach (var source in sources)
        {
            foreach (var stream in source.SelectStreams(tenant, matchers, from, through))
            {
                if (!byStream.TryGetValue(stream.Labels, out var iterators))
                {
                    byStream[stream.Labels] = iterators = [];
                }

                iterators.Add(source.OpenEntries(tenant, stream, query));
            }
        }

        var cursors = new List<ISampleCursor>(byStream.Count);
        foreach (var (labels, iterators) in byStream)
        {
            cursors.Add(new StreamSampleCursor(extractor.ForStream(labels), iterators, stats, cancellationToken));
        }

        return cursors;
    }

    /// <summary>One stream's samples: its source iterators merged oldest first, each entry run through the extractor.</summary>
    private sealed class StreamSampleCursor : ISampleCursor
    {
        private readonly StreamSampleExtractor _extractor;
        private readonly List<IEntryIterator> _iterators;
        private readonly bool[] _live;
        private readonly QueryStatistics _stats;
        private readonly CancellationToken _cancellationToken;
        private readonly MetadataDecoder _metadata = new();
        private readonly HashSet<int> _linesAtTimestamp = [];
        private long _lastTimestamp = long.MinValue;
        private int _processed;

        public StreamSampleCursor(StreamSampleExtractor extractor, List<IEntryIterator> iterators, QueryStatistics stats, CancellationToken cancellationToken)
        {
            _extractor = extractor;
            _iterators = iterators;
            _stats = stats;
            _cancellationToken = cancellationToken;
            _live = new bool[iterators.Count];
            for (var i = 0; i < iterators.Count; i++)
            {
                _live[i] = iterators[i].MoveNext();
            }
        }

        public long TimestampNs { get; private set; }

        public double Value { get; private set; }

        public LabelSet Labels { get; private set; } = LabelSet.Empty;

        public bool MoveNext()
        {
            while (true)
            {
                var next = -1;
                for (var i = 0; i < _iterators.Count; i++)
                {
                    if (_live[i] && (next < 0 || _iterators[i].Current.Timestamp < _iterators[next].Current.Timestamp))
                    {
                        next = i;
                    }
                }

                if (next < 0)
                {
                    return false;
                }

                if (++_processed % 4096 == 0)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                }

                var iterator = _iterators[next];
                var accepted = Extract(iterator.Current);
                _live[next] = iterator.MoveNext();
                if (accepted)
                {
                    return true;
                }
            }
        }

        private bool Extract(LogEntry entry)
        {
            if (entry.Timestamp != _lastTimestamp)
            {
                _lastTimestamp = entry.Timestamp;
                _linesAtTimestamp.Clear();
            }

            // Only a stream read from more than one source (head and store) can hold the same entry twice.
            if (_iterators.Count > 1)
            {
                var hash = new HashCode();
                hash.AddBytes(entry.Line);
                if (!_linesAtTimestamp.Add(hash.ToHashCode()))
                {
                    _stats.Duplicates++;
                    return false;
                }
            }

            _stats.TotalLinesProcessed++;
            _stats.TotalBytesProcessed += entry.Line.Length;
            if (!_extractor.Process(entry.Timestamp, entry.Line, _metadata.Decode(entry.Metadata), out var value, out var labels))
            {
                return false;
            }

            _stats.PostFilterLines++;
            TimestampNs = entry.Timestamp;
            Value = value;
            Labels = labels.All;
            return true;
        }

        public void Dispose()
        {
            foreach (var iterator in _iterators)
            {
                _stats.ChunksReferenced += iterator.Stats.Chunks;
                _stats.DecompressedBytes += iterator.Stats.DecompressedBytes;
                iterator.Dispose();
            }
        }
    }
}
