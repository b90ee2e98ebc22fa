using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Evaluates a range aggregation series by series, in slices of consecutive steps (at least an hour and eight ranges
/// long, so memory is bounded by a slice while re-reading the range that slices overlap by stays cheap). Loading a
/// slice drains its cursors on up to <see cref="MetricQueryLimits.MaxParallelism"/> workers (each cursor on one
/// worker) and files every sample under its series; then each step's window <c>(t − offset − range, t − offset]</c>
/// is computed per series, whole, from the samples of its slice. Count-only
/// functions keep per series only how many samples fall into each run of windows, so memory does not grow with the
/// number of lines. Other functions keep the series' samples in one time-ordered array (merged across cursors by
/// timestamp, then sample labels, then cursor order) and fold each window in that order, so results never depend on how many workers
/// loaded them. <c>absent_over_time</c> emits its single sample on empty steps.
/// </summary>
internal sealed class RangeVectorEvaluator : StepEvaluator
{
    private const int CancellationPollInterval = 4096;
    private const long MinSliceNs = 3600L * 1_000_000_000L;
    private const int RangesPerSlice = 8;

    private readonly RangeAggregationExpr _expr;
    private readonly Func<long, long, IReadOnlyList<ISampleCursor>> _select;
    private readonly Func<LabelSet, LabelSet> _seriesKey;
    private readonly CancellationToken _cancellation;
    private readonly int _parallelism;
    private readonly long _firstStepNs;
    private readonly long _step;
    private readonly long _steps;
    private readonly long _sliceSteps;
    private readonly long _lastNs;
    private readonly long _range;
    private readonly long _offset;
    private readonly bool _countOnly;
    private readonly LabelSet? _absentLabels;
    private readonly int _seriesLimit;
    private readonly RangeAccumulator _accumulator;
    private readonly ConcurrentDictionary<LabelSet, Series> _series = new();
    private readonly List<Series> _active = [];
    private readonly List<VectorSample> _vector = [];
    private ISampleCursor?[] _cursors = [];
    private Series[] _ordered = [];
    private int _nextSeries;
    private int _seriesCount;
    private long _sliceStart;
    private long _sliceEnd;
    private long _stepIndex = -1;

    /// <param name="seriesLimit">
    /// When this aggregation is the whole query, <c>max_query_series</c>: every loaded series has a sample in some
    /// window and so becomes a result series; loading fails as soon as one slice holds one too many. 0 when not applicable.
    /// </param>
    /// <param name="select">Opens the cursors of the samples in <c>(start, end]</c> (Unix ns, offset applied).</param>
    public RangeVectorEvaluator(RangeAggregationExpr expr, Func<long, long, IReadOnlyList<ISampleCursor>> select, MetricQueryParameters parameters,
        LabelSet? absentLabels, int seriesLimit, int parallelism, CancellationToken cancellation)
    {
        _expr = expr;
        _select = select;
        _seriesKey = LabelSets.RangeGrouping(expr.Grouping);
        _seriesLimit = seriesLimit;
        _parallelism = Math.Max(1, parallelism);
        _cancellation = cancellation;
        _absentLabels = absentLabels;
        _step = parameters.StepNs == 0 ? 1 : parameters.StepNs;
        _offset = expr.Range.Offset.Nanoseconds;
        _range = expr.Range.Interval.Nanoseconds;
        _firstStepNs = parameters.StartNs - _offset;
        _steps = parameters.IsInstant ? 1 : ((parameters.EndNs - parameters.StartNs) / _step) + 1;
        _lastNs = parameters.EndNs - _offset;
        _sliceSteps = Math.Max(1, Math.Max(MinSliceNs, RangesPerSlice * _range) / _step);
        _countOnly = RangeAccumulator.IsCountOnly(expr);
        _accumulator = RangeAccumulator.Factory(expr)();
    }

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        _cancellation.ThrowIfCancellationRequested();
        vector = _vector;
        _vector.Clear();
        if (++_stepIndex >= _steps)
        {
            timestampMs = 0;
            return false;
        }

        if (_stepIndex >= _sliceEnd)
        {
            LoadSlice(_stepIndex);
        }

        var step = (int)_stepIndex;
        var rangeEnd = _firstStepNs + (_stepIndex * _step);

        // Loki truncates both parts to milliseconds separately.
        timestampMs = (rangeEnd / 1_000_000) + (_offset / 1_000_000);
        while (_nextSeries < _ordered.Length && _ordered[_nextSeries].FirstStep <= step)
        {
            _active.Add(_ordered[_nextSeries++]);
        }

        var kept = 0;
        for (var i = 0; i < _active.Count; i++)
        {
            var series = _active[i];
            if (WindowValue(series, step, rangeEnd) is { } value)
            {
                _vector.Add(new VectorSample(series.Labels, timestampMs, value));
            }

            if (series.EndStep > step + 1)
            {
                _active[kept++] = series;
            }
        }

        _active.RemoveRange(kept, _active.Count - kept);
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

    public override void Dispose() => DisposeCursors();

    private void DisposeCursors()
    {
        for (var i = 0; i < _cursors.Length; i++)
        {
            Interlocked.Exchange(ref _cursors[i], null)?.Dispose();
        }
    }

    private double? WindowValue(Series series, int step, long rangeEnd)
    {
        if (_countOnly)
        {
            var count = series.CountAt(step);
            return count > 0 ? RangeAccumulator.CountOnlyValue(_expr, count) : null;
        }

        var (from, to) = series.WindowAt(rangeEnd - _range, rangeEnd);
        if (from == to)
        {
            return null;
        }

        _accumulator.Reset(rangeEnd);
        var timestamps = series.Timestamps;
        var values = series.Values;
        for (var i = from; i < to; i++)
        {
            _accumulator.Add(timestamps[i], values[i]);
        }

        return _accumulator.Result();
    }

    /// <summary>
    /// Replaces the previous slice with the one starting at <paramref name="first"/>: drains its cursors into their
    /// series, in parallel, then orders the series for the steps.
    /// </summary>
    private void LoadSlice(long first)
    {
        DisposeCursors();
        _active.Clear();
        _series.Clear();
        _ordered = [];
        _nextSeries = 0;
        _seriesCount = 0;
        _sliceStart = first;
        _sliceEnd = Math.Min(_steps, first + _sliceSteps);
        var end = _sliceEnd == _steps ? _lastNs : _firstStepNs + ((_sliceEnd - 1) * _step);
        _cursors = [.. _select(_firstStepNs + (first * _step) - _range, end)];
        var workers = Math.Min(_parallelism, _cursors.Length);
        if (workers <= 1)
        {
            DrainCursors(_cancellation);
        }
        else
        {
            LoadInParallel(workers);
        }

        var ordered = new Series[_series.Count];
        var n = 0;
        foreach (var series in _series.Values)
        {
            series.Seal(_countOnly);
            ordered[n++] = series;
        }

        // Deterministic whatever the load order: by first step, first sample, then labels.
        Array.Sort(ordered, static (a, b) =>
        {
            var c = a.FirstStep.CompareTo(b.FirstStep);
            if (c == 0)
            {
                c = a.FirstTimestamp.CompareTo(b.FirstTimestamp);
            }

            return c != 0 ? c : LabelOrder.Instance.Compare(a.Labels, b.Labels);
        });
        _ordered = ordered;
        _series.Clear();
    }

    private void LoadInParallel(int workers)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_cancellation);
        var token = stop.Token;
        var tasks = new Task[workers - 1];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = Task.Run(() => DrainOrStop(stop, token), CancellationToken.None);
        }

        // This thread works too, so the query progresses even when the pool is slow to start the others.
        var failures = new List<Exception>();
        try
        {
            DrainOrStop(stop, token);
        }
        catch (Exception e)
        {
            failures.Add(e);
        }

        foreach (var task in tasks)
        {
            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        if (failures.Count == 0)
        {
            return;
        }

        _cancellation.ThrowIfCancellationRequested();

        // The first real failure stopped the others; their cancellations are only its echo.
        var cause = failures.Find(static e => e is not OperationCanceledException) ?? failures[0];
        ExceptionDispatchInfo.Capture(cause).Throw();
    }

    private void DrainOrStop(CancellationTokenSource stop, CancellationToken token)
    {
        try
        {
            DrainCursors(token);
        }
        catch
        {
            stop.Cancel();
            throw;
        }
    }

    /// <summary>Takes cursors one by one until none is left; each cursor is read by exactly one worker.</summary>
    private void DrainCursors(CancellationToken token)
    {
        var cells = new WindowCells(_firstStepNs, _step, _sliceStart, _sliceEnd, _range);
        var local = new Dictionary<LabelSet, Segment>();
        for (var i = 0; i < _cursors.Length; i++)
        {
            var cursor = Interlocked.Exchange(ref _cursors[i], null);
            if (cursor is null)
            {
                continue;
            }

            token.ThrowIfCancellationRequested();
            using (cursor)
            {
                local.Clear();
                Drain(cursor, i, ref cells, local, token);
            }
        }
    }

    private void Drain(ISampleCursor cursor, int order, ref WindowCells cells, Dictionary<LabelSet, Segment> local, CancellationToken token)
    {
        LabelSet? lastLabels = null;
        Segment? segment = null;
        var poll = 0;
        while (cursor.MoveNext())
        {
            if (++poll == CancellationPollInterval)
            {
                poll = 0;
                token.ThrowIfCancellationRequested();
            }

            var ts = cursor.TimestampNs;
            if (!cells.Contains(ts))
            {
                cells.MoveTo(ts);
            }

            if (cells.FirstStep >= cells.EndStep)
            {
                continue;
            }

            var labels = cursor.Labels;
            if (!ReferenceEquals(labels, lastLabels))
            {
                lastLabels = labels;
                segment = SegmentOf(labels, order, local);
            }

            if (_countOnly)
            {
                segment!.AddCount(cells.FirstStep, cells.EndStep, ts);
            }
            else
            {
                segment!.AddSample(cells.FirstStep, cells.EndStep, ts, cursor.Value);
            }
        }
    }

    /// <summary>The segment of the cursor's samples with these labels (one per distinct label set, to order ties).</summary>
    private Segment SegmentOf(LabelSet labels, int order, Dictionary<LabelSet, Segment> local)
    {
        if (local.TryGetValue(labels, out var segment))
        {
            return segment;
        }

        var key = _seriesKey(labels);

        if (!_series.TryGetValue(key, out var series))
        {
            var created = new Series(key);
            series = _series.GetOrAdd(key, created);
            if (ReferenceEquals(series, created) && Interlocked.Increment(ref _seriesCount) > _seriesLimit && _seriesLimit > 0)
            {
                throw MetricQueryException.SeriesLimit(_seriesLimit);
            }
        }

        segment = new Segment(labels, order);
        series.Attach(segment);
        local.Add(labels, segment);
        return segment;
    }

    /// <summary>
    /// Which steps' windows contain a timestamp: steps <c>[FirstStep, EndStep)</c>, constant between consecutive
    /// window edges, so time-ordered samples recompute it only when they cross an edge.
    /// </summary>
    private struct WindowCells(long firstStepNs, long step, long firstStep, long endStep, long range)
    {
        private long _low = long.MaxValue;
        private long _high = long.MinValue;

        public int FirstStep { get; private set; }

        public int EndStep { get; private set; }

        public readonly bool Contains(long ts) => ts > _low && ts <= _high;

        public void MoveTo(long ts)
        {
            // Steps k with t_k ≥ ts start at the number of steps before ts; windows still open end past ts - range.
            var first = Math.Clamp(CeilDiv(ts - firstStepNs, step), firstStep, endStep);
            var end = Math.Clamp(CeilDiv(ts + range - firstStepNs, step), firstStep, endStep);
            FirstStep = (int)first;
            EndStep = (int)end;
            _low = Math.Max(first > firstStep ? At(first - 1) : long.MinValue, end > firstStep ? At(end - 1) - range : long.MinValue);
            _high = Math.Min(first < endStep ? At(first) : long.MaxValue, end < endStep ? At(end) - range : long.MaxValue);
        }

        private readonly long At(long k) => firstStepNs + (k * step);

        private static long CeilDiv(long a, long b) => (a / b) + (a % b > 0 ? 1 : 0);
    }

    /// <summary>The samples one cursor gave with one label set, in the cursor's time order.</summary>
    private sealed class Segment(LabelSet labels, int order)
    {
        public LabelSet Labels { get; } = labels;

        public int Order { get; } = order;

        public long FirstTimestamp { get; private set; } = long.MaxValue;

        public Run[] Runs { get; private set; } = [];

        public int RunCount { get; private set; }

        public long[] Timestamps { get; private set; } = [];

        public double[] Values { get; private set; } = [];

        public int SampleCount { get; private set; }

        public int FirstStep { get; private set; } = int.MaxValue;

        public int EndStep { get; private set; }

        public void AddCount(int firstStep, int endStep, long ts)
        {
            if (RunCount > 0)
            {
                ref var last = ref Runs[RunCount - 1];
                if (last.FirstStep == firstStep && last.EndStep == endStep)
                {
                    last.Count++;
                    return;
                }
            }
            else
            {
                FirstTimestamp = ts;
                FirstStep = firstStep;
            }

            if (RunCount == Runs.Length)
            {
                var grown = new Run[Math.Max(1, RunCount * 2)];
                Runs.AsSpan(0, RunCount).CopyTo(grown);
                Runs = grown;
            }

            Runs[RunCount++] = new Run(firstStep, endStep, 1);
            EndStep = endStep;
        }

        public void AddSample(int firstStep, int endStep, long ts, double value)
        {
            if (SampleCount == 0)
            {
                FirstTimestamp = ts;
                FirstStep = firstStep;
            }

            if (SampleCount == Timestamps.Length)
            {
                var capacity = Math.Max(1, SampleCount * 2);
                var timestamps = new long[capacity];
                var values = new double[capacity];
                Timestamps.AsSpan(0, SampleCount).CopyTo(timestamps);
                Values.AsSpan(0, SampleCount).CopyTo(values);
                Timestamps = timestamps;
                Values = values;
            }

            Timestamps[SampleCount] = ts;
            Values[SampleCount++] = value;
            EndStep = endStep;
        }
    }

    /// <summary>Samples counted in windows <c>[FirstStep, EndStep)</c>.</summary>
    private record struct Run(int FirstStep, int EndStep, long Count);

    /// <summary>One result series: the segments cursors filed under it, then, sealed, its merged form.</summary>
    private sealed class Series(LabelSet labels)
    {
        // Most series come from one cursor (and many hold a single sample): start as small as possible.
        private readonly List<Segment> _segments = new(1);
        private Run[] _byFirst = [];
        private Run[] _byEnd = [];
        private int _nextFirst;
        private int _nextEnd;
        private long _count;
        private int _from;
        private int _to;

        public LabelSet Labels { get; } = labels;

        public int FirstStep { get; private set; }

        public int EndStep { get; private set; }

        public long FirstTimestamp { get; private set; }

        public long[] Timestamps { get; private set; } = [];

        public double[] Values { get; private set; } = [];

        private int SampleCount { get; set; }

        public void Attach(Segment segment)
        {
            lock (_segments)
            {
                _segments.Add(segment);
            }
        }

        /// <summary>Merges the segments; afterwards only this thread reads the series.</summary>
        public void Seal(bool countOnly)
        {
            // Samples at one timestamp are ordered by their labels, then by cursor, as Loki's sample heap orders
            // them; never by which worker attached its segment first.
            _segments.Sort(static (a, b) =>
            {
                var c = ReferenceEquals(a.Labels, b.Labels) ? 0 : string.CompareOrdinal(a.Labels.ToString(), b.Labels.ToString());
                return c != 0 ? c : a.Order.CompareTo(b.Order);
            });
            FirstStep = int.MaxValue;
            FirstTimestamp = long.MaxValue;
            foreach (var segment in _segments)
            {
                FirstStep = Math.Min(FirstStep, segment.FirstStep);
                EndStep = Math.Max(EndStep, segment.EndStep);
                FirstTimestamp = Math.Min(FirstTimestamp, segment.FirstTimestamp);
            }

            if (countOnly)
            {
                SealRuns();
            }
            else
            {
                SealSamples();
            }

            _segments.Clear();
        }

        /// <summary>How many samples lie in the window of <paramref name="step"/>; steps must be asked in order.</summary>
        public long CountAt(int step)
        {
            while (_nextFirst < _byFirst.Length && _byFirst[_nextFirst].FirstStep <= step)
            {
                _count += _byFirst[_nextFirst++].Count;
            }

            while (_nextEnd < _byEnd.Length && _byEnd[_nextEnd].EndStep <= step)
            {
                _count -= _byEnd[_nextEnd++].Count;
            }

            return _count;
        }

        /// <summary>The sample index range inside <c>(low, high]</c>; windows must be asked in time order.</summary>
        public (int From, int To) WindowAt(long low, long high)
        {
            while (_to < SampleCount && Timestamps[_to] <= high)
            {
                _to++;
            }

            while (_from < _to && Timestamps[_from] <= low)
            {
                _from++;
            }

            return (_from, _to);
        }

        private void SealRuns()
        {
            if (_segments.Count == 1)
            {
                // One cursor's runs are in time order, so sorted both by first and by end step.
                var only = _segments[0];
                _byFirst = _byEnd = only.RunCount == only.Runs.Length ? only.Runs : only.Runs.AsSpan(0, only.RunCount).ToArray();
                return;
            }

            var runs = new List<Run>();
            foreach (var segment in _segments)
            {
                runs.AddRange(segment.Runs.AsSpan(0, segment.RunCount));
            }

            _byFirst = [.. runs];
            _byEnd = [.. runs];
            Array.Sort(_byFirst, static (a, b) => a.FirstStep.CompareTo(b.FirstStep));
            Array.Sort(_byEnd, static (a, b) => a.EndStep.CompareTo(b.EndStep));
        }

        private void SealSamples()
        {
            if (_segments.Count == 1)
            {
                var only = _segments[0];
                Timestamps = only.Timestamps;
                Values = only.Values;
                SampleCount = only.SampleCount;
                return;
            }

            var total = 0;
            foreach (var segment in _segments)
            {
                total += segment.SampleCount;
            }

            var timestamps = new long[total];
            var values = new double[total];
            var positions = new int[_segments.Count];

            // Oldest first; on equal timestamps the segment sorted first wins.
            var heads = new PriorityQueue<int, (long Timestamp, int Segment)>(_segments.Count);
            for (var s = 0; s < _segments.Count; s++)
            {
                heads.Enqueue(s, (_segments[s].Timestamps[0], s));
            }

            var n = 0;
            while (heads.TryDequeue(out var s, out _))
            {
                var segment = _segments[s];
                var p = positions[s];
                timestamps[n] = segment.Timestamps[p];
                values[n++] = segment.Values[p];
                positions[s] = ++p;
                if (p < segment.SampleCount)
                {
                    heads.Enqueue(s, (segment.Timestamps[p], s));
                }
            }

            Timestamps = timestamps;
            Values = values;
            SampleCount = total;
        }
    }
}
