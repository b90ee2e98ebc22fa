using System.Runtime.CompilerServices;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// What one worker read in a slice.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>Samples counted in windows <c>[FirstStep, EndStep)</c>, the first of them at <c>FirstTimestamp</c>.</summary>
    private record struct Run(int FirstStep, int EndStep, long Count, long FirstTimestamp);

    /// <summary>
    /// What one worker read in a slice, in flat arrays: its records (a sample, or for count-only functions a run of
    /// samples in the same windows), each tagged with its segment (one cursor's samples of one series, ranked among
    /// other cursors' by the labels of its first sample), and the series (labels after grouping) of each segment.
    /// No object per sample or per series (a sample's labels are not kept: the series' and the carried samples' pairs
    /// are copied into columns). Column growth and each new series' labels are reserved in <paramref name="memory"/>.
    /// <paramref name="seriesKey"/> is the range aggregation's grouping, null when a series is its samples' labels;
    /// <paramref name="keepLabels"/> keeps each series' first label set for the steps (when they are not projected).
    /// </summary>
    private sealed class SliceLog(Func<LabelSet, LabelSet>? seriesKey, bool keepLabels, int seriesLimit, QueryMemoryBudget? memory,
        ArrayShelf shelf)
    {
        private readonly SeriesKeyTable _seriesKeys = new(memory, shelf);
        // With a grouping, the labels of each segment's first sample (they decide the order of segments sharing a series).
        private readonly List<LabelSet>? _segmentLabels = seriesKey is null ? null : [];
        private int _cursor;
        private long _seriesReserved;

        // The segments of the label sets the current cursor's samples had lately, by reference: within a cursor a set's
        // segment stays the same, and a grouped count (by status, by level) alternates between a few sets line by line.
        private const int RecentSlotBits = 4;
        private readonly LabelSet?[] _recentLabels = new LabelSet?[1 << RecentSlotBits];
        private readonly int[] _recentSegments = new int[1 << RecentSlotBits];
        private GrowableArray<LabelSet> _seriesLabels;

        /// <summary>How many series this log met.</summary>
        public int SeriesCount => _seriesKeys.Count;

        public GrowableArray<long> SeriesFirstTimestamp;

        public GrowableArray<int> SeriesFirstStep;

        public GrowableArray<int> SeriesEndStep;

        private GrowableArray<int> _seriesLastCursor;

        private GrowableArray<int> _seriesLastSegment;

        public GrowableArray<int> SegmentSeries;

        public GrowableArray<int> SegmentCursor;

        public GrowableArray<int> SegmentRank;

        // The index of each segment's latest run (count-only functions), -1 before its first.
        private GrowableArray<int> _segmentLastRecord;

        public GrowableArray<int> RecordSegment;

        public GrowableArray<long> Timestamps;

        public GrowableArray<double> Values;

        public GrowableArray<Run> Runs;

        /// <summary>The samples whose windows reach into the next slice, with the number of the cursor that gave them.</summary>
        public GrowableArray<int> TailCursor;

        public GrowableArray<long> TailTimestamps;

        public GrowableArray<double> TailValues;

        // Each carried sample's series in this log (whose labels stay until the tail is replayed), and with a grouping
        // the sample's own labels.
        private GrowableArray<int> _tailSeries;

        private GrowableArray<LabelSet> _tailLabels;

        // The labels of carried samples that lie in no window of this slice (so have no series here), numbered ~series.
        // Consecutive such samples of one label set share a number.
        private GrowableArray<LabelSet> _tailOrphans;

        public int RecordCount => RecordSegment.Count;

        /// <summary>How many series this worker may meet before the slice starts over shorter; 0 for no limit.</summary>
        public int RestartAbove { get; set; }

        public int TailCount => TailCursor.Count;

        public void BeginCursor(int order)
        {
            _cursor = order;
            Array.Clear(_recentLabels);
        }

        /// <summary>
        /// Empties the per-record and per-series columns and forgets the series, keeping every table's capacity (and
        /// what it reserved) for a later slice's log, once the slice is gathered: a log carried to the next slice keeps
        /// only its tail (and its series' labels, until the tail is replayed). A new array per column and slice churned the
        /// large object heap when every line is a series.
        /// </summary>
        public void Release()
        {
            RecordSegment.Reset();
            Timestamps.Reset();
            Values.Reset();
            Runs.Reset();
            if (TailCount == 0)
            {
                _seriesKeys.Reset();
                _seriesLabels.Reset();
            }

            _segmentLabels?.Clear();
            Array.Clear(_recentLabels);
            SeriesFirstTimestamp.Reset();
            SeriesFirstStep.Reset();
            SeriesEndStep.Reset();
            _seriesLastCursor.Reset();
            _seriesLastSegment.Reset();
            SegmentSeries.Reset();
            SegmentCursor.Reset();
            SegmentRank.Reset();
            _segmentLastRecord.Reset();
            memory?.Release(_seriesReserved);
            _seriesReserved = 0;
        }

        /// <summary>Empties the carried samples' columns (keeping their capacity) once the next slice has replayed them.</summary>
        public void ReleaseTail()
        {
            TailCursor.Reset();
            TailTimestamps.Reset();
            TailValues.Reset();
            _tailSeries.Reset();
            _tailLabels.Reset();
            _tailOrphans.Reset();
            _seriesKeys.Reset();
            _seriesLabels.Reset();
        }

        /// <summary>Returns every column to the pool and gives back what they reserved, when the query is done with the log.</summary>
        public void ReleaseAll()
        {
            Release();
            RecordSegment.Release(memory);
            Timestamps.Release(memory);
            Values.Release(memory);
            Runs.Release(memory);
            SeriesFirstTimestamp.Release(memory);
            SeriesFirstStep.Release(memory);
            SeriesEndStep.Release(memory);
            _seriesLastCursor.Release(memory);
            _seriesLastSegment.Release(memory);
            SegmentSeries.Release(memory);
            SegmentCursor.Release(memory);
            SegmentRank.Release(memory);
            _segmentLastRecord.Release(memory);
            TailCursor.Release(memory);
            TailTimestamps.Release(memory);
            TailValues.Release(memory);
            _tailSeries.Release(memory);
            _tailLabels.Release(memory);
            _tailOrphans.Release(memory);
            _seriesKeys.Release();
            _seriesLabels.Release(memory);
        }

        /// <summary>
        /// Carries a sample of <paramref name="segment"/> (-1 when it lies in no window of this slice) into the next slice;
        /// <paramref name="labels"/> are the sample's own, kept with a grouping or without a segment (else they are the
        /// series').
        /// </summary>
        public void AddTail(long ts, double value, int segment, LabelSet labels)
        {
            TailCursor.Add(_cursor, memory);
            TailTimestamps.Add(ts, memory);
            TailValues.Add(value, memory);
            if (segment >= 0)
            {
                _tailSeries.Add(SegmentSeries[segment], memory);
            }
            else
            {
                if (_tailOrphans.Count == 0 || !ReferenceEquals(_tailOrphans[_tailOrphans.Count - 1], labels))
                {
                    _tailOrphans.Add(labels, memory);
                }

                _tailSeries.Add(~(_tailOrphans.Count - 1), memory);
            }

            if (seriesKey is not null)
            {
                _tailLabels.Add(labels, memory);
            }
        }

        /// <summary>Carried sample <paramref name="r"/>'s own labels (or, without a grouping, its series').</summary>
        public LabelSet TailLabels(int r) => seriesKey is not null ? _tailLabels[r] : _tailSeries[r] is var series && series < 0
            ? _tailOrphans[~series]
            : SeriesLabels(series);

        /// <summary>The series (in this log) of carried sample <paramref name="r"/>.</summary>
        public int TailSeries(int r) => _tailSeries[r];

        /// <summary>Carried sample <paramref name="r"/>'s segment in <paramref name="next"/>, the log replaying it.</summary>
        public int SegmentIn(SliceLog next, int r)
        {
            if (seriesKey is not null)
            {
                return next.SegmentOf(_tailLabels[r]);
            }

            var series = _tailSeries[r];
            if (series < 0)
            {
                return next.SegmentOf(_tailOrphans[~series]);
            }

            return keepLabels ? next.SegmentOf(_seriesLabels[series]) : next.SegmentOf(_seriesKeys.KeyOf(series), _seriesKeys.HashOf(series));
        }

        /// <summary>This worker's number of the series with the sorted pairs <paramref name="key"/>, if it met it.</summary>
        public bool TryGetSeries(ReadOnlySpan<LabelPair> key, int hash, out int series)
        {
            series = _seriesKeys.Find(key, hash);
            return series >= 0;
        }

        /// <summary>The sorted pairs of series <paramref name="series"/> (until the log changes).</summary>
        public ReadOnlySpan<LabelPair> SeriesKey(int series) => _seriesKeys.KeyOf(series);

        /// <summary>The hash of series <paramref name="series"/>'s labels.</summary>
        public int SeriesHash(int series) => _seriesKeys.HashOf(series);

        /// <summary>The labels of series <paramref name="series"/>: those kept, or else a new set.</summary>
        public LabelSet SeriesLabels(int series) => keepLabels ? _seriesLabels[series] : _seriesKeys.LabelsOf(series);

        /// <summary>
        /// The text of segment <paramref name="segment"/>'s first sample labels; empty without a grouping, where every
        /// segment of a series has the series' labels, so they never decide between them.
        /// </summary>
        public string SegmentText(int segment) => _segmentLabels is null ? string.Empty : _segmentLabels[segment].ToString();

        public int SegmentOf(LabelSet labels)
        {
            var slot = (int)((uint)(RuntimeHelpers.GetHashCode(labels) * -1640531535) >> (32 - RecentSlotBits));
            if (ReferenceEquals(_recentLabels[slot], labels))
            {
                return _recentSegments[slot];
            }

            var key = seriesKey is null ? labels : seriesKey(labels);
            var segment = SegmentOf(key.AsSpan(), key.GetHashCode(), key, labels);
            _recentLabels[slot] = labels;
            _recentSegments[slot] = segment;
            return segment;
        }

        /// <summary>The segment of a replayed sample given by its series' pairs and hash (no grouping, labels not kept).</summary>
        private int SegmentOf(ReadOnlySpan<LabelPair> labels, int hash) => SegmentOf(labels, hash, null, null);

        /// <param name="key">The series' sorted pairs.</param>
        /// <param name="hash">Their hash.</param>
        /// <param name="keySet">The series' label set, when there is one (kept with <c>keepLabels</c>).</param>
        /// <param name="labels">The sample's labels, when there is a grouping.</param>
        private int SegmentOf(ReadOnlySpan<LabelPair> key, int hash, LabelSet? keySet, LabelSet? labels)
        {
            var series = _seriesKeys.Find(key, hash);
            if (series < 0)
            {
                series = SeriesCount;
                if (RestartAbove > 0 && series >= RestartAbove)
                {
                    throw new SliceTooLargeException();
                }

                if (seriesLimit > 0 && series >= seriesLimit)
                {
                    // This worker alone has seen more series than the whole result may hold.
                    throw MetricQueryException.SeriesLimit(seriesLimit);
                }

                if (memory is not null)
                {
                    var bytes = LabelBytes(key, keepLabels);
                    memory.Reserve(bytes);
                    _seriesReserved += bytes;
                }

                _seriesKeys.Add(key, hash);
                if (keepLabels)
                {
                    _seriesLabels.Add(keySet!, memory);
                }

                SeriesFirstTimestamp.Add(long.MaxValue, memory);
                SeriesFirstStep.Add(int.MaxValue, memory);
                SeriesEndStep.Add(0, memory);
                _seriesLastCursor.Add(-1, memory);
                _seriesLastSegment.Add(-1, memory);
            }
            else if (_seriesLastCursor[series] == _cursor)
            {
                return _seriesLastSegment[series];
            }

            var segment = SegmentSeries.Count;
            SegmentSeries.Add(series, memory);
            _segmentLastRecord.Add(-1, memory);
            SegmentCursor.Add(_cursor, memory);
            SegmentRank.Add(0, memory);
            _segmentLabels?.Add(labels!);
            _seriesLastCursor[series] = _cursor;
            _seriesLastSegment[series] = segment;
            return segment;
        }

        /// <summary>
        /// What a new series holds that no column counts. Its entries in the series and key columns, the key table's slots
        /// and its label pairs (in the table's chunks) are reserved as those grow; left are the label values' strings,
        /// which the pairs keep alive (a parser's values are new per line; names are shared: the stream's from the index,
        /// a parser's from its key cache), and with <paramref name="kept"/> the label set's object and pair array.
        /// </summary>
        private static long LabelBytes(ReadOnlySpan<LabelPair> key, bool kept)
        {
            var bytes = kept ? (2 * QueryMemoryBudget.ObjectOverhead) + ((long)key.Length * Unsafe.SizeOf<LabelPair>()) : 0;
            foreach (var pair in key)
            {
                bytes += QueryMemoryBudget.ObjectOverhead + (2L * pair.Value.Length);
            }

            return bytes;
        }

        public void AddCount(int segment, int firstStep, int endStep, long ts)
        {
            // The segment's own last run, not the log's: a stream whose lines alternate between series (parsed labels)
            // would otherwise start a run per line, and sorting those runs grew faster than the data.
            ref var lastRecord = ref _segmentLastRecord[segment];
            if (lastRecord >= 0)
            {
                ref var last = ref Runs[lastRecord];
                if (last.FirstStep == firstStep && last.EndStep == endStep)
                {
                    last.Count++;
                    return;
                }
            }

            lastRecord = RecordSegment.Count;
            RecordSegment.Add(segment, memory);
            Runs.Add(new Run(firstStep, endStep, 1, ts), memory);
            Note(segment, firstStep, endStep, ts);
        }

        public void AddSample(int segment, int firstStep, int endStep, long ts, double value)
        {
            RecordSegment.Add(segment, memory);
            Timestamps.Add(ts, memory);
            Values.Add(value, memory);
            Note(segment, firstStep, endStep, ts);
        }

        private void Note(int segment, int firstStep, int endStep, long ts)
        {
            var series = SegmentSeries[segment];
            if (ts < SeriesFirstTimestamp[series])
            {
                SeriesFirstTimestamp[series] = ts;
            }

            if (firstStep < SeriesFirstStep[series])
            {
                SeriesFirstStep[series] = firstStep;
            }

            if (endStep > SeriesEndStep[series])
            {
                SeriesEndStep[series] = endStep;
            }
        }
    }
}
