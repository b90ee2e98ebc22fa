using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Evaluates a range aggregation step by step over merged, time-ordered samples. Each step's window is
/// <c>(t − offset − range, t − offset]</c>. When windows overlap (range ≥ step) every series keeps a sliding buffer
/// of the samples in its window; otherwise each window is folded sample by sample and nothing is buffered, so
/// memory is bounded by one window either way. <c>absent_over_time</c> emits its single sample on empty steps.
/// </summary>
internal sealed class RangeVectorEvaluator : StepEvaluator
{
    private readonly SampleMerger _samples;
    private readonly RangeAggregationExpr _expr;
    private readonly CancellationToken _cancellation;
    private readonly long _step;
    private readonly long _end;
    private readonly long _range;
    private readonly long _offset;
    private readonly bool _overlap;
    private readonly bool _countOnly;
    private readonly LabelSet? _absentLabels;
    private readonly int _seriesLimit;
    private readonly Func<RangeAccumulator> _newAccumulator;
    private readonly RangeAccumulator _batchAccumulator;
    private readonly Dictionary<LabelSet, WindowSeries> _windows = [];
    private readonly Dictionary<LabelSet, RangeAccumulator> _folds = [];
    private readonly Stack<RangeAccumulator> _spareAccumulators = new();
    private readonly List<VectorSample> _vector = [];
    private long _current;
    private int _sinceCancellationCheck;
    private long _stepIndex;

    /// <param name="seriesLimit">
    /// When this aggregation is the whole query, <c>max_query_series</c>: every series in a window becomes a result
    /// series, so exceeding it while loading fails before the window grows further. 0 when not applicable.
    /// </param>
    public RangeVectorEvaluator(RangeAggregationExpr expr, SampleMerger samples, MetricQueryParameters parameters, LabelSet? absentLabels, int seriesLimit, CancellationToken cancellation)
    {
        _seriesLimit = seriesLimit;
        _expr = expr;
        _samples = samples;
        _cancellation = cancellation;
        _absentLabels = absentLabels;
        _step = parameters.StepNs == 0 ? 1 : parameters.StepNs;
        _offset = expr.Range.Offset.Nanoseconds;
        _range = expr.Range.Interval.Nanoseconds;
        var start = parameters.StartNs - _offset;
        _end = parameters.EndNs - _offset;
        _overlap = _range >= _step && start != _end;
        _current = start - _step;
        _countOnly = RangeAccumulator.IsCountOnly(expr);
        _newAccumulator = RangeAccumulator.Factory(expr);
        _batchAccumulator = _newAccumulator();
    }

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        _cancellation.ThrowIfCancellationRequested();
        vector = _vector;
        _vector.Clear();
        _current += _step;
        if (_current > _end)
        {
            timestampMs = 0;
            return false;
        }

        var rangeEnd = _current;
        var rangeStart = rangeEnd - _range;
        _stepIndex++;

        // Loki truncates both parts to milliseconds separately.
        timestampMs = (_current / 1_000_000) + (_offset / 1_000_000);
        if (_overlap)
        {
            Evict(rangeStart);
            LoadWindows(rangeStart, rangeEnd);
            foreach (var series in _windows.Values)
            {
                _vector.Add(new VectorSample(series.Labels, timestampMs, WindowValue(series, rangeEnd)));
            }
        }
        else
        {
            foreach (var fold in _folds.Values)
            {
                _spareAccumulators.Push(fold);
            }

            _folds.Clear();
            LoadFolds(rangeStart, rangeEnd);
            foreach (var (labels, fold) in _folds)
            {
                _vector.Add(new VectorSample(labels, timestampMs, fold.Result()));
            }
        }

        foreach (var sample in _vector)
        {
            if (ErrorLabels.FailsQuery(sample.Labels))
            {
                throw MetricQueryException.PipelineError(sample.Labels);
            }
        }

        if (_absentLabels is not null)
        {
            var empty = _vector.Count == 0;
            _vector.Clear();
            if (empty)
            {
                _vector.Add(new VectorSample(_absentLabels, timestampMs, 1.0));
            }
        }

        return true;
    }

    public override void Dispose() => _samples.Dispose();

    private double WindowValue(WindowSeries series, long rangeEnd)
    {
        if (_countOnly)
        {
            return RangeAccumulator.CountOnlyValue(_expr, series.Count);
        }

        var accumulator = _batchAccumulator;
        accumulator.Reset(rangeEnd);
        series.FeedTo(accumulator);
        return accumulator.Result();
    }

    private void Evict(long rangeStart)
    {
        foreach (var (labels, series) in _windows)
        {
            series.DropThrough(rangeStart);
            if (series.Count == 0)
            {
                series.Evicted = true;
                _windows.Remove(labels);
            }
        }
    }

    private void LoadWindows(long rangeStart, long rangeEnd)
    {
        while (_samples.HasCurrent)
        {
            var ts = _samples.TimestampNs;
            if (ts > rangeEnd)
            {
                return;
            }

            // The window's lower bound is exclusive.
            if (ts > rangeStart)
            {
                if (_samples.CurrentSlot is not WindowSeries { Evicted: false } series)
                {
                    var key = _samples.SeriesKey;
                    if (!_windows.TryGetValue(key, out var found))
                    {
                        CheckSeriesLimit(_windows.Count);
                        found = new WindowSeries(key);
                        _windows.Add(key, found);
                    }

                    series = found;
                    _samples.CurrentSlot = series;
                }

                series.Append(ts, _samples.Value);
            }

            _samples.MoveNext();
            PollCancellation();
        }
    }

    private void LoadFolds(long rangeStart, long rangeEnd)
    {
        while (_samples.HasCurrent)
        {
            var ts = _samples.TimestampNs;
            if (ts > rangeEnd)
            {
                return;
            }

            if (ts > rangeStart)
            {
                if (_samples.CurrentSlot is not FoldSlot slot || slot.StepIndex != _stepIndex)
                {
                    var key = _samples.SeriesKey;
                    if (!_folds.TryGetValue(key, out var fold))
                    {
                        CheckSeriesLimit(_folds.Count);
                        fold = _spareAccumulators.Count > 0 ? _spareAccumulators.Pop() : _newAccumulator();
                        fold.Reset(rangeEnd);
                        _folds.Add(key, fold);
                    }

                    slot = new FoldSlot(fold, _stepIndex);
                    _samples.CurrentSlot = slot;
                }

                slot.Accumulator.Add(ts, _samples.Value);
            }

            _samples.MoveNext();
            PollCancellation();
        }
    }

    private void CheckSeriesLimit(int seriesSoFar)
    {
        if (_seriesLimit > 0 && seriesSoFar >= _seriesLimit)
        {
            throw MetricQueryException.SeriesLimit(_seriesLimit);
        }
    }

    // A single window can hold millions of samples; honour cancellation inside it, not only between steps.
    private void PollCancellation()
    {
        if (++_sinceCancellationCheck == 4096)
        {
            _sinceCancellationCheck = 0;
            _cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <summary>A cursor's link to the accumulator of its series for one step.</summary>
    private sealed record FoldSlot(RangeAccumulator Accumulator, long StepIndex);

    /// <summary>The samples of one series inside the current window, in a growable ring buffer.</summary>
    private sealed class WindowSeries(LabelSet labels)
    {
        /// <summary>Set once the series left the window map; cursors holding it must look their series up again.</summary>
        public bool Evicted { get; set; }

        private long[] _timestamps = new long[8];
        private double[] _values = new double[8];
        private int _head;

        public LabelSet Labels { get; } = labels;

        public int Count { get; private set; }

        public void Append(long timestampNs, double value)
        {
            if (Count == _timestamps.Length)
            {
                Grow();
            }

            var index = (_head + Count) % _timestamps.Length;
            _timestamps[index] = timestampNs;
            _values[index] = value;
            Count++;
        }

        public void DropThrough(long limitNs)
        {
            while (Count > 0 && _timestamps[_head] <= limitNs)
            {
                _head = (_head + 1) % _timestamps.Length;
                Count--;
            }

            if (Count == 0)
            {
                _head = 0;
            }
        }

        public void FeedTo(RangeAccumulator accumulator)
        {
            var capacity = _timestamps.Length;
            for (var i = 0; i < Count; i++)
            {
                var index = (_head + i) % capacity;
                accumulator.Add(_timestamps[index], _values[index]);
            }
        }

        private void Grow()
        {
            var timestamps = new long[_timestamps.Length * 2];
            var values = new double[_values.Length * 2];
            for (var i = 0; i < Count; i++)
            {
                var index = (_head + i) % _timestamps.Length;
                timestamps[i] = _timestamps[index];
                values[i] = _values[index];
            }

            _timestamps = timestamps;
            _values = values;
            _head = 0;
        }
    }
}
