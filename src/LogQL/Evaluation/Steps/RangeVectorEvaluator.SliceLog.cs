using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// What one worker read in a slice.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>Samples counted in windows <c>[FirstStep, EndStep)</c>.</summary>
    private record struct Run(int FirstStep, int EndStep, long Count);

    /// <summary>
    /// What one worker read in a slice, in flat arrays: its records (a sample, or for count-only functions a run of
    /// samples in the same windows), each tagged with its segment (one cursor's samples of one series, ranked among
    /// other cursors' by the labels of its first sample), and the series (labels after grouping) of each segment.
    /// No object per sample or per series. Column growth and each new series are reserved in <paramref name="memory"/>.
    /// </summary>
    private sealed class SliceLog(Func<LabelSet, LabelSet> seriesKey, int seriesLimit, QueryMemoryBudget? memory)
    {
        // A series' entries in the tables below, besides its labels.
        private const long SeriesBytes = 96;

        private readonly Dictionary<LabelSet, int> _seriesIds = [];
        private int _cursor;
        private long _seriesReserved;

        public List<LabelSet> SeriesKeys { get; } = [];

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

        public List<LabelSet> SegmentLabels { get; } = [];

        public GrowableArray<int> RecordSegment;

        public GrowableArray<long> Timestamps;

        public GrowableArray<double> Values;

        public GrowableArray<Run> Runs;

        /// <summary>The samples whose windows reach into the next slice, with the number of the cursor that gave them.</summary>
        public GrowableArray<int> TailCursor;

        public GrowableArray<long> TailTimestamps;

        public GrowableArray<double> TailValues;

        public GrowableArray<LabelSet> TailLabels;

        public int RecordCount => RecordSegment.Count;

        /// <summary>How many series this worker may meet before the slice starts over shorter; 0 for no limit.</summary>
        public int RestartAbove { get; set; }

        public int TailCount => TailCursor.Count;

        public void BeginCursor(int order) => _cursor = order;

        /// <summary>
        /// Empties the per-record and per-series columns and forgets the series, keeping every table's capacity (and
        /// what it reserved) for a later slice's log, once the slice is gathered: a log carried to the next slice keeps
        /// only its tail. A new array per column and slice churned the large object heap when every line is a series.
        /// </summary>
        public void Release()
        {
            RecordSegment.Reset();
            Timestamps.Reset();
            Values.Reset();
            Runs.Reset();
            _seriesIds.Clear();
            SeriesKeys.Clear();
            SegmentLabels.Clear();
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
            TailLabels.Reset();
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
            TailLabels.Release(memory);
        }

        public void AddTail(long ts, double value, LabelSet labels)
        {
            TailCursor.Add(_cursor, memory);
            TailTimestamps.Add(ts, memory);
            TailValues.Add(value, memory);
            TailLabels.Add(labels, memory);
        }

        /// <summary>This worker's number of the series <paramref name="key"/> (labels after grouping), if it met it.</summary>
        public bool TryGetSeries(LabelSet key, out int series) => _seriesIds.TryGetValue(key, out series);

        public int SegmentOf(LabelSet labels)
        {
            var key = seriesKey(labels);
            if (!_seriesIds.TryGetValue(key, out var series))
            {
                series = SeriesKeys.Count;
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
                    var bytes = SeriesBytes + QueryMemoryBudget.EstimateLabels(key);
                    memory.Reserve(bytes);
                    _seriesReserved += bytes;
                }

                _seriesIds.Add(key, series);
                SeriesKeys.Add(key);
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
            SegmentLabels.Add(labels);
            _seriesLastCursor[series] = _cursor;
            _seriesLastSegment[series] = segment;
            return segment;
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
            Runs.Add(new Run(firstStep, endStep, 1), memory);
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
