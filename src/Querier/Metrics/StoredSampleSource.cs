using System.Collections.Concurrent;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Metrics;

/// <summary>
/// Feeds the metric evaluator from the head and the chunk store: one cursor per stream, whose sources' entries are
/// merged in time order (dropping the duplicates a flush briefly leaves in both) and run through the range
/// aggregation's compiled sample extractor, lazily, so no line is materialised as a string. Cursors are independent:
/// each borrows a compiled extractor from a pool while it is read, so the evaluator can read them on several threads.
/// A selector without pipeline stages skips the extractor: a count or byte sample needs only the entry's timestamp
/// and line length. Corrupt data the streams skip is reported to <paramref name="warnings"/>; the chunks the
/// cursors hold are reserved in <paramref name="memory"/>.
/// </summary>
public sealed class StoredSampleSource(IReadOnlyList<ILogSource> sources, string tenant, QueryStatistics stats,
    QueryWarnings? warnings = null, QueryMemoryBudget? memory = null) : ISampleSource
{
    /// <inheritdoc />
    public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken)
    {
        var aggregation = selection.Aggregation;
        var grouping = aggregation.Grouping ?? selection.SumGrouping;
        var first = LogQL.Pipeline.SampleExtractor.Compile(aggregation.Op, aggregation.Range, grouping);
        var extractors = new ExtractorPool(first, () => LogQL.Pipeline.SampleExtractor.Compile(aggregation.Op, aggregation.Range, grouping));
        IReadOnlyList<LabelMatcher> matchers = aggregation.Range.Left.Matchers;
        var from = selection.StartExclusiveNs + 1;
        var through = selection.EndInclusiveNs + 1;
        var literals = first.Pipeline.LiteralRequirements;
        var query = new EntryQuery(from, through, Direction.Forward, literals.Count > 0 ? new LiteralPrefilter(literals) : null, memory);
        SampleValueSource? direct = first.Pipeline.IsNoop && first.Source != SampleValueSource.Unwrap ? first.Source : null;
        var metadataNames = first.MetadataNamesRead;

        var byStream = new Dictionary<LabelSet, List<IEntryIterator>>();
        foreach (var source in sources)
        {
            warnings?.AddRange(source.KnownDamage(tenant, from, through));
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
            cursors.Add(new StreamSampleCursor(labels, iterators, extractors, direct, metadataNames, stats, warnings, cancellationToken));
        }

        return cursors;
    }

    /// <summary>Compiled extractors (not thread-safe) handed to one cursor at a time.</summary>
    private sealed class ExtractorPool(LogQL.Pipeline.SampleExtractor first, Func<LogQL.Pipeline.SampleExtractor> compile)
    {
        private readonly ConcurrentBag<ExtractionContext> _idle = [new ExtractionContext(first)];

        public ExtractionContext Rent() => _idle.TryTake(out var context) ? context : new ExtractionContext(compile());

        public void Return(ExtractionContext context) => _idle.Add(context);
    }

    /// <summary>An extractor with the metadata decoder that feeds it, used by one thread at a time.</summary>
    private sealed class ExtractionContext(LogQL.Pipeline.SampleExtractor extractor)
    {
        public LogQL.Pipeline.SampleExtractor Extractor { get; } = extractor;

        public MetadataDecoder Metadata { get; } = new();
    }

    /// <summary>One stream's samples: its source iterators merged oldest first, each entry run through the extractor.</summary>
    private sealed class StreamSampleCursor : ISampleCursor
    {
        private readonly LabelSet _streamLabels;
        private readonly IEntryIterator[] _iterators;
        private readonly bool[] _live;
        private readonly bool[] _handsOutRuns;
        private readonly ExtractorPool _pool;
        private readonly SampleValueSource? _direct;
        private readonly IReadOnlySet<string>? _metadataNames;
        // The last metadata pairs seen (the decoder hands out one array per distinct metadata) and whether they name
        // none of the labels metadata can change a sample through (then the entry is run as if it had none).
        private LabelPair[]? _lastPairs;
        private bool _lastPairsInert;
        private LabelSet? _keptStreamLabels;
        private readonly QueryStatistics _stats;
        private readonly QueryWarnings? _warnings;
        private readonly CancellationToken _cancellationToken;
        private readonly HashSet<int> _linesAtTimestamp = [];
        private ExtractionContext? _context;
        private StreamSampleExtractor? _extractor;
        private bool _started;
        private bool _disposed;
        private bool _trackingDuplicates;
        private long _lastTimestamp = long.MinValue;
        private int _processed;
        private long _lines;
        private long _bytes;
        private long _kept;
        private long _duplicates;

        // The run being read (IEntryIterator.TryTakeRun), while _inRun: its entries from _runNext on, from iterator _runSource.
        private EntryRun _run;
        private bool _inRun;
        private int _runNext;
        private int _runSource;

        // The run entry last given to the extractor, and the metadata pairs decoded for an entry (null when none was).
        private int _runDecoded = -2;
        private LabelPair[]? _decoded;

        public StreamSampleCursor(LabelSet streamLabels, List<IEntryIterator> iterators, ExtractorPool pool, SampleValueSource? direct,
            IReadOnlySet<string>? metadataNames, QueryStatistics stats, QueryWarnings? warnings, CancellationToken cancellationToken)
        {
            _metadataNames = metadataNames;
            _warnings = warnings;
            _streamLabels = streamLabels;
            _iterators = [.. iterators];
            _live = new bool[iterators.Count];
            _handsOutRuns = [.. iterators.Select(static i => i.HandsOutRuns)];
            _pool = pool;
            _direct = direct;
            _stats = stats;
            _cancellationToken = cancellationToken;
        }

        public long TimestampNs { get; private set; }

        public double Value { get; private set; }

        public LabelSet Labels { get; private set; } = LabelSet.Empty;

        public bool MoveNext()
        {
            if (!_started)
            {
                _started = true;
                for (var i = 0; i < _iterators.Length; i++)
                {
                    _live[i] = _iterators[i].MoveNext();
                }
            }

            while (true)
            {
                if (_inRun && _runNext < _run.End)
                {
                    Tick();
                    var index = _runNext++;
                    var entry = _run.Block[index];

                    // The run's first entry passed the filter already.
                    if (index > _run.Start && _run.Filter is { } filter && !filter.Matches(entry.Line))
                    {
                        continue;
                    }

                    // An entry repeating the previous one's metadata bytes takes the pairs decoded for it.
                    var repeats = index == _runDecoded + 1 && _run.Block.MetadataRepeatsPrevious(index);
                    _runDecoded = index;
                    if (ExtractSample(entry, repeats))
                    {
                        return true;
                    }

                    continue;
                }

                if (_inRun)
                {
                    // The run's last entry is its iterator's current one: move past it.
                    _inRun = false;
                    _live[_runSource] = _iterators[_runSource].MoveNext();
                }

                var next = Oldest(out var before);
                if (next < 0)
                {
                    return false;
                }

                if (_handsOutRuns[next] && TryTakeRun(next, before))
                {
                    continue;
                }

                Tick();

                var iterator = _iterators[next];
                var accepted = Extract(next, iterator.Current);
                _live[next] = iterator.MoveNext();
                if (accepted)
                {
                    return true;
                }
            }
        }

        // The source holding the oldest entry (the first of equals), or -1; before: the oldest entry any other source holds.
        private int Oldest(out long before)
        {
            before = long.MaxValue;
            if (_iterators.Length == 1)
            {
                return _live[0] ? 0 : -1;
            }

            var (next, oldest) = (-1, long.MaxValue);
            for (var i = 0; i < _iterators.Length; i++)
            {
                if (!_live[i])
                {
                    continue;
                }

                var timestamp = _iterators[i].Current.Timestamp;
                if (next < 0 || timestamp < oldest)
                {
                    (before, next, oldest) = (oldest, i, timestamp);
                }
                else
                {
                    before = Math.Min(before, timestamp);
                }
            }

            return next;
        }

        private void Tick()
        {
            if (++_processed % 4096 == 0)
            {
                _cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>
        /// Reads the entries the source's iterator can hand out at once, up to the oldest entry another source holds: no
        /// entry of the run shares a timestamp with one still to come from another source, so none is a duplicate.
        /// </summary>
        private bool TryTakeRun(int source, long before)
        {
            // An entry at the timestamp of one already taken from another source may repeat it: checked one by one.
            if (_iterators.Length > 1 && _trackingDuplicates && _iterators[source].Current.Timestamp == _lastTimestamp)
            {
                return false;
            }

            if (!_iterators[source].TryTakeRun(before, out var run))
            {
                return false;
            }

            if (_iterators.Length > 1)
            {
                // As the one-by-one check would leave it after these entries: no other source had their timestamps.
                _lastTimestamp = run.Block.TimestampAt(run.End - 1);
                _trackingDuplicates = false;
                _linesAtTimestamp.Clear();
            }

            (_run, _inRun, _runNext, _runSource) = (run, true, run.Start, source);
            _runDecoded = -2;
            return true;
        }

        private bool Extract(int source, LogEntry entry)
        {
            if (_iterators.Length > 1 && IsDuplicate(source, entry))
            {
                _duplicates++;
                return false;
            }

            return ExtractSample(entry);
        }

        private bool ExtractSample(LogEntry entry, bool metadataRepeats = false)
        {
            _lines++;
            _bytes += entry.Line.Length;
            if (_direct is { } direct && entry.Metadata.Encoded.Length <= 1)
            {
                // No stages and no metadata: the sample is the stream's, its value the count or the line length.
                return Emit(entry.Timestamp, DirectValue(direct, entry), _streamLabels);
            }

            _extractor ??= Rent().Extractor.ForStream(_streamLabels);
            var metadata = metadataRepeats && _decoded is not null ? _decoded : _context!.Metadata.Decode(entry.Metadata);
            _decoded = metadata;
            if (metadata.Length > 0 && _metadataNames is not null && IsInert(metadata))
            {
                if (_direct is { } countOrBytes)
                {
                    // No stages: the sample's labels are those of an entry without metadata, the same for every entry.
                    if (_keptStreamLabels is null)
                    {
                        _extractor.Process(entry.Timestamp, entry.Line, [], out _, out var plain);
                        _keptStreamLabels = plain.All;
                    }

                    return Emit(entry.Timestamp, DirectValue(countOrBytes, entry), _keptStreamLabels);
                }

                // The stages never see this metadata: without it they take their per-stream shortcuts.
                metadata = [];
            }

            return _extractor.Process(entry.Timestamp, entry.Line, metadata, out var value, out var labels) &&
                Emit(entry.Timestamp, value, labels.All);
        }

        private static double DirectValue(SampleValueSource source, LogEntry entry) => source == SampleValueSource.Bytes ? entry.Line.Length : 1;

        /// <summary>Makes the sample the cursor's current one (always true, for the callers' returns).</summary>
        private bool Emit(long timestampNs, double value, LabelSet labels)
        {
            _kept++;
            TimestampNs = timestampNs;
            Value = value;
            Labels = labels;
            return true;
        }

        /// <summary>
        /// Whether another source already gave this line at this timestamp. Only entries sharing a timestamp with
        /// another source's current entry can be duplicates, so other lines are not hashed.
        /// </summary>
        private bool IsDuplicate(int source, LogEntry entry)
        {
            if (entry.Timestamp != _lastTimestamp)
            {
                _lastTimestamp = entry.Timestamp;
                _linesAtTimestamp.Clear();
                _trackingDuplicates = false;
                for (var i = 0; i < _iterators.Length; i++)
                {
                    if (i != source && _live[i] && _iterators[i].Current.Timestamp == entry.Timestamp)
                    {
                        _trackingDuplicates = true;
                        break;
                    }
                }
            }

            if (!_trackingDuplicates)
            {
                return false;
            }

            var hash = new HashCode();
            hash.AddBytes(entry.Line);
            return !_linesAtTimestamp.Add(hash.ToHashCode());
        }

        private bool IsInert(LabelPair[] metadata)
        {
            if (ReferenceEquals(metadata, _lastPairs))
            {
                return _lastPairsInert;
            }

            var inert = true;
            foreach (var pair in metadata)
            {
                if (_metadataNames!.Contains(pair.Name))
                {
                    inert = false;
                    break;
                }
            }

            _lastPairs = metadata;
            _lastPairsInert = inert;
            return inert;
        }

        private ExtractionContext Rent() => _context = _pool.Rent();

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            long chunks = 0, decompressed = 0;
            foreach (var iterator in _iterators)
            {
                chunks += iterator.Stats.Chunks;
                decompressed += iterator.Stats.DecompressedBytes;
                _warnings?.AddRange(iterator.Warnings);
                iterator.Dispose();
            }

            if (_context is not null)
            {
                _pool.Return(_context);
                _context = null;
                _extractor = null;
            }

            // Cursors finish on different threads; the shared statistics are updated once each, under a lock.
            lock (_stats)
            {
                _stats.ChunksReferenced += chunks;
                _stats.DecompressedBytes += decompressed;
                _stats.TotalLinesProcessed += _lines;
                _stats.TotalBytesProcessed += _bytes;
                _stats.PostFilterLines += _kept;
                _stats.Duplicates += _duplicates;
            }
        }
    }
}
