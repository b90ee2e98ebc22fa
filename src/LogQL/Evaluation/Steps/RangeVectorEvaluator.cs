using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Evaluates a range aggregation series by series, in slices of consecutive steps (at least an hour and two ranges
/// long), so memory holds the series of one slice and not of the whole query. Each slice reads only the
/// samples after the previous one; the previous slice's samples whose windows reach into it (its last range) are
/// carried over rather than read again. Loading a slice drains its cursors on up to <see cref="MetricQueryLimits.MaxParallelism"/> workers (each cursor on one
/// worker), each worker appending samples to flat arrays; then every series' samples are gathered and each step's
/// window <c>(t − offset − range, t − offset]</c> is computed per series, whole. Count-only functions keep only how
/// many samples fall into each run of windows; other functions fold each window's samples in time order (ties
/// between cursors by the labels of their first sample in the series, then cursor order), so results never depend
/// on how many workers loaded them.
/// <c>absent_over_time</c> emits its single sample on empty steps. The slice's columns are reserved in the query's
/// <see cref="QueryMemoryBudget"/> as they grow and released with the slice, so a slice too large for it fails the
/// query rather than the process.
/// </summary>
internal sealed class RangeVectorEvaluator : StepEvaluator
{
    private const int CancellationPollInterval = 4096;
    // Each slice re-opens every stream's chunks, so slices are an hour (or two ranges) long when they hold few series;
    // but a parser can make every line its own series: a first slice whose worker meets more than twice the target
    // series starts over shorter, and a slice holding more than the target makes the next ones shorter (growing back
    // by SliceGrowth when few), so a slice's memory follows its series.
    private const long MinSliceNs = 3600L * 1_000_000_000L;
    private const int RangesPerSlice = 2;
    private const int SliceGrowth = 4;

    // A restartable slice starts over as soon as its worker's series, scaled to its share of the cursors, exceed this
    // many times the limit; a projection nearer the limit waits for the limit itself.
    private const int EarlyRestartMargin = 2;
    // How many series' first appearances are remembered across slices for series that pause (beyond that, only for
    // series still in their windows at a slice's end), so the order of a step's samples does not depend on slicing.
    private const int OriginsKeptForPausedSeries = 10_000;
    private const long OriginBytes = 64;

    private readonly Func<long, long, IReadOnlyList<ISampleCursor>> _select;
    private readonly Func<LabelSet, LabelSet> _seriesKey;
    private readonly CancellationToken _cancellation;
    private readonly int _parallelism;
    private readonly long _firstStepNs;
    private readonly long _step;
    private readonly long _steps;
    private readonly long _minSliceSteps;
    private readonly long _maxSliceSteps;
    private readonly int _targetSeries;
    private long _sliceSteps;
    private Dictionary<LabelSet, (int Step, long Timestamp)> _origins = [];
    private long _originsReserved;
    private bool _keepPausedOrigins = true;
    private readonly long _lastNs;
    private readonly long _range;
    private readonly long _offset;
    private readonly bool _countOnly;
    private readonly Func<long, double, double>? _countValue;
    private readonly double _rangeSeconds;
    private readonly LabelSet? _absentLabels;
    private readonly int _seriesLimit;
    private readonly QueryMemoryBudget? _memory;
    private readonly RangeAccumulator _accumulator;
    private readonly List<int> _active = [];
    private readonly List<VectorSample> _vector = [];
    private ISampleCursor?[] _cursors = [];
    private SliceLog[] _carry = [];
    // Logs of earlier slices, emptied: their series tables keep their capacity, so a slice of as many series as the
    // last one fills them without growing new large arrays.
    private readonly Stack<SliceLog> _spareLogs = new();
    private int _cursorBase;
    // Workers draining the current slice (each takes about its share of the cursors).
    private int _workers = 1;
    private long _readThrough = long.MinValue;
    private long _carryFrom = long.MaxValue;
    private SliceSeries _series = SliceSeries.Empty;
    private int _nextSeries;
    private long _sliceStart;
    private long _sliceEnd;
    private long _stepIndex = -1;

    /// <summary>Evaluates <paramref name="expr"/> step by step, loading samples one time slice at a time.</summary>
    /// <param name="expr">The range aggregation.</param>
    /// <param name="parameters">The query's start, end, step and lookback.</param>
    /// <param name="absentLabels">The labels <c>absent_over_time</c> reports, or null for other functions.</param>
    /// <param name="parallelism">How many series cursors may be read at once.</param>
    /// <param name="cancellation">Stops loading when the query is cancelled.</param>
    /// <param name="seriesLimit">
    /// When this aggregation is the whole query, <c>max_query_series</c>: every loaded series has a sample in some
    /// window and so becomes a result series; loading fails as soon as one slice holds one too many. 0 when not applicable.
    /// </param>
    /// <param name="select">Opens the cursors of the samples in <c>(start, end]</c> (Unix ns, offset applied).</param>
    /// <param name="memory">The query's memory budget, or null for none.</param>
    /// <param name="targetSeries">Series a slice may hold before later slices get shorter (<see cref="MetricQueryLimits.SliceSeriesTarget"/>).</param>
    public RangeVectorEvaluator(RangeAggregationExpr expr, Func<long, long, IReadOnlyList<ISampleCursor>> select, MetricQueryParameters parameters,
        LabelSet? absentLabels, int seriesLimit, int parallelism, CancellationToken cancellation, QueryMemoryBudget? memory = null,
        int targetSeries = 100_000)
    {
        _targetSeries = Math.Max(1, targetSeries);
        _memory = memory;
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
        // At least one range long, so a slice's carried tail never reaches past the next slice.
        _maxSliceSteps = StepsIn(Math.Max(MinSliceNs, RangesPerSlice * _range));
        _minSliceSteps = StepsIn(RangesPerSlice * _range);
        _sliceSteps = _maxSliceSteps;
        var function = RangeFunction.Of(expr.Op);
        _countOnly = function.IsCountOnly(expr);
        _countValue = function.CountValue;
        _rangeSeconds = RangeAccumulator.GoSeconds(_range);
        _accumulator = function.AccumulatorFactory(expr)();
    }

    private long StepsIn(long ns) => Math.Max(1, (ns / _step) + (ns % _step > 0 ? 1 : 0));

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
        var series = _series;
        var order = series.Order;
        while (_nextSeries < order.Length && series.FirstStep[order[_nextSeries]] <= step)
        {
            Activate(series.Rank, order[_nextSeries++]);
        }

        var kept = 0;
        for (var i = 0; i < _active.Count; i++)
        {
            var id = _active[i];
            if (_countOnly)
            {
                var count = series.CountAt(id, step);
                if (count > 0)
                {
                    _vector.Add(new VectorSample(series.Labels[id], timestampMs, _countValue!(count, _rangeSeconds)));
                }
            }
            else
            {
                var (from, to) = series.WindowAt(id, rangeEnd - _range, rangeEnd);
                if (from < to)
                {
                    _accumulator.Reset(rangeEnd);
                    var timestamps = series.Timestamps;
                    var values = series.Values;
                    for (var j = from; j < to; j++)
                    {
                        _accumulator.Add(timestamps[j], values[j]);
                    }

                    _vector.Add(new VectorSample(series.Labels[id], timestampMs, _accumulator.Result()));
                }
            }

            if (series.EndStep[id] > step + 1)
            {
                _active[kept++] = id;
            }
        }

        _active.RemoveRange(kept, _active.Count - kept);
        if (series.AnyFails)
        {
            foreach (var sample in _vector)
            {
                if (ErrorLabels.FailsQuery(sample.Labels))
                {
                    throw MetricQueryException.PipelineError(sample.Labels);
                }
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

    /// <summary>
    /// Adds a series to the active ones, kept in rank order (where it first appeared in the query): a series starting
    /// now goes last, one that paused across slices back to its place.
    /// </summary>
    private void Activate(int[] rank, int id)
    {
        if (_active.Count == 0 || rank[_active[^1]] < rank[id])
        {
            _active.Add(id);
            return;
        }

        int low = 0, high = _active.Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (rank[_active[mid]] < rank[id])
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        _active.Insert(low, id);
    }

    public override void Dispose()
    {
        DisposeCursors();
        _series.Release();
        _series = SliceSeries.Empty;
        ReleaseTails(_carry);
        _carry = [];
        _spareLogs.Clear();
        _origins = [];
        _memory?.Release(_originsReserved);
        _originsReserved = 0;
    }

    private static void ReleaseTails(SliceLog[] logs)
    {
        foreach (var log in logs)
        {
            log.ReleaseTail();
        }
    }

    private void DisposeCursors()
    {
        for (var i = 0; i < _cursors.Length; i++)
        {
            Interlocked.Exchange(ref _cursors[i], null)?.Dispose();
        }
    }

    /// <summary>
    /// Replaces the previous slice with the one starting at <paramref name="first"/>: replays the samples the previous
    /// slice carried over (those within a range of this slice's first step), drains the cursors of the samples after
    /// the previous slice in parallel, then gathers each series' samples and orders the series for the steps. Nothing
    /// is read twice, and a series is held only while its samples are within a range of the slice.
    /// </summary>
    private void LoadSlice(long first)
    {
        while (true)
        {
            // Only a slice with nothing carried into it can simply start over.
            var restartable = _carry.Length == 0 && _sliceSteps > _minSliceSteps;
            var readThrough = _readThrough;
            try
            {
                LoadSlice(first, restartable ? 2 * _targetSeries : 0);
                return;
            }
            catch (SliceTooLargeException) when (restartable)
            {
                _readThrough = readThrough;
                _sliceSteps = Math.Max(_minSliceSteps, _sliceSteps / SliceGrowth);
            }
        }
    }

    private void LoadSlice(long first, int workerSeriesLimit)
    {
        DisposeCursors();
        _active.Clear();
        _series.Release();
        _series = SliceSeries.Empty;
        _nextSeries = 0;
        _sliceStart = first;
        _sliceEnd = Math.Min(_steps, first + _sliceSteps);
        _carryFrom = _sliceEnd < _steps ? _firstStepNs + (_sliceEnd * _step) - _range : long.MaxValue;
        var end = _sliceEnd == _steps ? _lastNs : _firstStepNs + ((_sliceEnd - 1) * _step);
        var previous = _carry;
        _carry = [];
        var logs = new List<SliceLog>();
        try
        {
            if (HasTail(previous))
            {
                var carried = RentLog();
                logs.Add(carried);
                Replay(previous, carried);
            }

            ReleaseTails(previous);
            foreach (var log in previous)
            {
                _spareLogs.Push(log);
            }

            previous = [];

            // Cursor numbers grow across slices, so carried segments keep their rank among this slice's.
            _cursorBase += _cursors.Length;
            _cursors = [.. _select(Math.Max(_firstStepNs + (first * _step) - _range, _readThrough), end)];
            _readThrough = end;
            var workers = Math.Max(1, Math.Min(_parallelism, _cursors.Length));
            _workers = workers;
            var drained = new SliceLog[workers];
            for (var i = 0; i < workers; i++)
            {
                logs.Add(drained[i] = RentLog());
                drained[i].RestartAbove = workerSeriesLimit;
            }

            if (workers == 1)
            {
                DrainCursors(drained[0], _cancellation);
            }
            else
            {
                DrainInParallel(drained);
            }

            _series = SliceSeries.Build([.. logs], _countOnly, _seriesLimit, _memory, _origins);
            _carry = [.. logs];
            KeepOrigins();
            var held = _series.Labels.Length;
            _sliceSteps = Math.Clamp(held > _targetSeries ? _sliceSteps * _targetSeries / held : _sliceSteps * SliceGrowth,
                _minSliceSteps, _maxSliceSteps);
        }
        catch
        {
            ReleaseTails(previous);
            ReleaseTails([.. logs]);
            throw;
        }
        finally
        {
            foreach (var log in logs)
            {
                log.Release();
            }
        }
    }

    /// <summary>
    /// Remembers where each series of this slice first appeared (its step and sample, from an earlier slice when it
    /// began there), for the series the next slice may hold: those in their windows at this slice's end, and while
    /// they are few, every series seen. The next slice orders its series by these, as one slice would.
    /// </summary>
    private void KeepOrigins()
    {
        if (_sliceEnd >= _steps)
        {
            return;
        }

        var series = _series;
        var next = new Dictionary<LabelSet, (int Step, long Timestamp)>();
        for (var id = 0; id < series.Labels.Length; id++)
        {
            if (_keepPausedOrigins || series.EndStep[id] >= _sliceEnd)
            {
                next[series.Labels[id]] = series.Origin[id];
            }
        }

        if (_keepPausedOrigins)
        {
            foreach (var (labels, origin) in _origins)
            {
                next.TryAdd(labels, origin);
            }

            if (next.Count > OriginsKeptForPausedSeries)
            {
                // Too many to remember: from here on only series still in their windows keep their place.
                _keepPausedOrigins = false;
                next.Clear();
                for (var id = 0; id < series.Labels.Length; id++)
                {
                    if (series.EndStep[id] >= _sliceEnd)
                    {
                        next[series.Labels[id]] = series.Origin[id];
                    }
                }
            }
        }

        var bytes = next.Count * OriginBytes;
        _memory?.Reserve(bytes);
        _memory?.Release(_originsReserved);
        _originsReserved = bytes;
        _origins = next;
    }

    private SliceLog RentLog()
    {
        var log = _spareLogs.TryPop(out var spare) ? spare : new SliceLog(_seriesKey, _seriesLimit, _memory);
        log.RestartAbove = 0;
        return log;
    }

    private static bool HasTail(SliceLog[] logs)
    {
        foreach (var log in logs)
        {
            if (log.TailCount > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Feeds the previous slice's tail samples into this slice, each cursor's under its own number as before.</summary>
    private void Replay(SliceLog[] previous, SliceLog carried)
    {
        var cells = new WindowCells(_firstStepNs, _step, _sliceStart, _sliceEnd, _range);
        foreach (var log in previous)
        {
            var cursor = -1;
            LabelSet? lastLabels = null;
            var segment = -1;
            for (var r = 0; r < log.TailCount; r++)
            {
                if (log.TailCursor[r] != cursor)
                {
                    cursor = log.TailCursor[r];
                    carried.BeginCursor(cursor);
                    lastLabels = null;
                }

                Accept(carried, ref cells, ref lastLabels, ref segment, log.TailTimestamps[r], log.TailValues[r], log.TailLabels[r]);
            }
        }
    }

    private void DrainInParallel(SliceLog[] logs)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_cancellation);
        var token = stop.Token;
        var tasks = new Task[logs.Length - 1];
        for (var i = 0; i < tasks.Length; i++)
        {
            var log = logs[i + 1];
            tasks[i] = Task.Run(() => DrainOrStop(log, stop, token), CancellationToken.None);
        }

        // This thread works too, so the query progresses even when the pool is slow to start the others.
        var failures = new List<Exception>();
        try
        {
            DrainOrStop(logs[0], stop, token);
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

    private void DrainOrStop(SliceLog log, CancellationTokenSource stop, CancellationToken token)
    {
        try
        {
            DrainCursors(log, token);
        }
        catch
        {
            stop.Cancel();
            throw;
        }
    }

    /// <summary>Takes cursors one by one until none is left; each cursor is read by exactly one worker.</summary>
    private void DrainCursors(SliceLog log, CancellationToken token)
    {
        var cells = new WindowCells(_firstStepNs, _step, _sliceStart, _sliceEnd, _range);
        var drained = 0;
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
                log.BeginCursor(_cursorBase + i);
                Drain(cursor, log, ref cells, token);
            }

            drained++;
            if (log.RestartAbove > 0 &&
                (long)log.SeriesKeys.Count * _cursors.Length > (long)log.RestartAbove * EarlyRestartMargin * drained * _workers)
            {
                // The cursors drained so far project well past the limit: start over now rather than after reading up to it.
                throw new SliceTooLargeException();
            }
        }
    }

    private void Drain(ISampleCursor cursor, SliceLog log, ref WindowCells cells, CancellationToken token)
    {
        LabelSet? lastLabels = null;
        var segment = -1;
        var poll = 0;
        while (cursor.MoveNext())
        {
            if (++poll == CancellationPollInterval)
            {
                poll = 0;
                token.ThrowIfCancellationRequested();
            }

            Accept(log, ref cells, ref lastLabels, ref segment, cursor.TimestampNs, cursor.Value, cursor.Labels);
        }
    }

    /// <summary>Records one sample in the windows of this slice that contain it, and keeps it for the next slice if its windows reach there.</summary>
    private void Accept(SliceLog log, ref WindowCells cells, ref LabelSet? lastLabels, ref int segment, long ts, double value, LabelSet labels)
    {
        if (ts > _carryFrom)
        {
            log.AddTail(ts, value, labels);
        }

        if (!cells.Contains(ts))
        {
            cells.MoveTo(ts);
        }

        if (cells.FirstStep >= cells.EndStep)
        {
            return;
        }

        if (!ReferenceEquals(labels, lastLabels))
        {
            lastLabels = labels;
            segment = log.SegmentOf(labels);
        }

        if (_countOnly)
        {
            log.AddCount(segment, cells.FirstStep, cells.EndStep, ts);
        }
        else
        {
            log.AddSample(segment, cells.FirstStep, cells.EndStep, ts, value);
        }
    }

    /// <summary>
    /// Which steps' windows contain a timestamp: steps <c>[FirstStep, EndStep)</c> within the slice, constant between
    /// consecutive window edges, so time-ordered samples recompute it only when they cross an edge.
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

    /// <summary>A first slice met too many series: it starts over shorter.</summary>
    private sealed class SliceTooLargeException : Exception;

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
        /// Returns the per-record and per-series columns to the pool and forgets the series (keeping the tables'
        /// capacity for reuse), once the slice is gathered: a log carried to the next slice keeps only its tail.
        /// </summary>
        public void Release()
        {
            RecordSegment.Release(memory);
            Timestamps.Release(memory);
            Values.Release(memory);
            Runs.Release(memory);
            _seriesIds.Clear();
            SeriesKeys.Clear();
            SegmentLabels.Clear();
            SeriesFirstTimestamp.Release(memory);
            SeriesFirstStep.Release(memory);
            SeriesEndStep.Release(memory);
            _seriesLastCursor.Release(memory);
            _seriesLastSegment.Release(memory);
            SegmentSeries.Release(memory);
            SegmentCursor.Release(memory);
            SegmentRank.Release(memory);
            _segmentLastRecord.Release(memory);
            memory?.Release(_seriesReserved);
            _seriesReserved = 0;
        }

        /// <summary>Returns the carried samples' columns to the pool once the next slice has replayed them.</summary>
        public void ReleaseTail()
        {
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

    /// <summary>The series of one slice with their samples (or runs) gathered into contiguous ranges.</summary>
    private sealed class SliceSeries
    {
        public static SliceSeries Empty { get; } = new();

        public LabelSet[] Labels { get; private set; } = [];

        public int[] FirstStep { get; private set; } = [];

        public int[] EndStep { get; private set; } = [];

        /// <summary>Series ids by first step, first sample, then labels.</summary>
        public int[] Order { get; private set; } = [];

        public long[] Timestamps { get; private set; } = [];

        public double[] Values { get; private set; } = [];

        private QueryMemoryBudget? _memory;
        private long _reserved;
        private int[] _start = [];
        private Run[] _byFirst = [];
        private Run[] _byEnd = [];
        private int[] _cursorA = [];
        private int[] _cursorB = [];
        private long[] _counts = [];

        /// <summary>How many samples lie in the window of <paramref name="step"/>; steps must be asked in order.</summary>
        public long CountAt(int id, int step)
        {
            var end = _start[id + 1];
            ref var nextFirst = ref _cursorA[id];
            ref var nextEnd = ref _cursorB[id];
            ref var count = ref _counts[id];
            while (nextFirst < end && _byFirst[nextFirst].FirstStep <= step)
            {
                count += _byFirst[nextFirst++].Count;
            }

            while (nextEnd < end && _byEnd[nextEnd].EndStep <= step)
            {
                count -= _byEnd[nextEnd++].Count;
            }

            return count;
        }

        /// <summary>The sample index range inside <c>(low, high]</c>; windows must be asked in time order.</summary>
        public (int From, int To) WindowAt(int id, long low, long high)
        {
            var end = _start[id + 1];
            ref var from = ref _cursorA[id];
            ref var to = ref _cursorB[id];
            while (to < end && Timestamps[to] <= high)
            {
                to++;
            }

            while (from < to && Timestamps[from] <= low)
            {
                from++;
            }

            return (from, to);
        }

        /// <summary>Each series' first step and first sample, from the slice where it began.</summary>
        public (int Step, long Timestamp)[] Origin { get; private set; } = [];

        /// <summary>Whether some series carries an error that fails the query (checked per series, not per step).</summary>
        public bool AnyFails { get; private set; }

        /// <summary>Each series' place among the slice's series by origin then labels: the order of a step's samples.</summary>
        public int[] Rank { get; private set; } = [];

        public static SliceSeries Build(SliceLog[] logs, bool countOnly, int seriesLimit, QueryMemoryBudget? memory,
            Dictionary<LabelSet, (int Step, long Timestamp)> origins)
        {
            // Number the series across workers, in worker order then first sight. Sized for the workers' series up
            // front: with many series, growing by doubling would leave a trail of large arrays behind each slice.
            var seen = 0;
            foreach (var log in logs)
            {
                seen += log.SeriesKeys.Count;
            }

            // A series met by an earlier worker is found in that worker's own table, so no table of all series is built.
            var labels = new List<LabelSet>(seen);
            var localToGlobal = new int[logs.Length][];
            var total = 0;
            for (var w = 0; w < logs.Length; w++)
            {
                var log = logs[w];
                var map = localToGlobal[w] = new int[log.SeriesKeys.Count];
                for (var i = 0; i < map.Length; i++)
                {
                    var key = log.SeriesKeys[i];
                    var id = -1;
                    for (var v = 0; v < w && id < 0; v++)
                    {
                        if (logs[v].TryGetSeries(key, out var local))
                        {
                            id = localToGlobal[v][local];
                        }
                    }

                    if (id < 0)
                    {
                        id = labels.Count;
                        if (seriesLimit > 0 && id >= seriesLimit)
                        {
                            throw MetricQueryException.SeriesLimit(seriesLimit);
                        }

                        labels.Add(key);
                    }

                    map[i] = id;
                }

                total += log.RecordCount;
            }

            // The gathered columns (two of runs, or timestamps and values), the ranks and merge keys built on the way,
            // and the per-series arrays. Held until the slice is released.
            var n = labels.Count;
            var reserved = (total * (countOnly ? 2L * Unsafe.SizeOf<Run>() : 16L + 4L)) + (n * 64L);
            memory?.Reserve(reserved);
            var result = new SliceSeries
            {
                _memory = memory,
                _reserved = reserved,
                Labels = [.. labels],
                FirstStep = new int[n],
                EndStep = new int[n],
                _start = new int[n + 1],
                _cursorA = new int[n],
                _cursorB = new int[n],
                _counts = countOnly ? new long[n] : [],
            };
            var firstTimestamp = new long[n];
            Array.Fill(result.FirstStep, int.MaxValue);
            Array.Fill(firstTimestamp, long.MaxValue);
            var segments = new int[n];
            for (var w = 0; w < logs.Length; w++)
            {
                var log = logs[w];
                var map = localToGlobal[w];
                for (var i = 0; i < map.Length; i++)
                {
                    var id = map[i];
                    result.FirstStep[id] = Math.Min(result.FirstStep[id], log.SeriesFirstStep[i]);
                    result.EndStep[id] = Math.Max(result.EndStep[id], log.SeriesEndStep[i]);
                    firstTimestamp[id] = Math.Min(firstTimestamp[id], log.SeriesFirstTimestamp[i]);
                }

                for (var s = 0; s < log.SegmentSeries.Count; s++)
                {
                    segments[map[log.SegmentSeries[s]]]++;
                }

                for (var r = 0; r < log.RecordCount; r++)
                {
                    result._start[map[log.SegmentSeries[log.RecordSegment[r]]] + 1]++;
                }
            }

            for (var i = 0; i < n; i++)
            {
                result._start[i + 1] += result._start[i];
            }

            RankSharedSegments(logs, localToGlobal, segments);
            result.Gather(logs, localToGlobal, segments, total, countOnly);

            // Deterministic whatever the load order and slicing: by first step in the slice, then by first step and
            // first sample in the query (a series carried from an earlier slice began there), then labels.
            var firstStep = result.FirstStep;
            var names = result.Labels;
            var origin = result.Origin = new (int Step, long Timestamp)[n];
            var carried = false;
            var keys = new SeriesOrderKey[n];
            for (var i = 0; i < n; i++)
            {
                result.AnyFails |= ErrorLabels.FailsQuery(names[i]);
                if (origins.Count > 0 && origins.TryGetValue(names[i], out var earlier))
                {
                    origin[i] = earlier;
                    carried = true;
                }
                else
                {
                    origin[i] = (firstStep[i], firstTimestamp[i]);
                }

                keys[i] = new SeriesOrderKey(firstStep[i], origin[i].Step, origin[i].Timestamp);
            }

            var order = SortByKeyThenLabels(keys, names);
            result.Order = order;
            var rank = result.Rank = new int[n];
            if (carried)
            {
                // A series that began in an earlier slice can rank before one that began earlier in this slice.
                for (var i = 0; i < n; i++)
                {
                    keys[i] = new SeriesOrderKey(0, origin[i].Step, origin[i].Timestamp);
                }

                order = SortByKeyThenLabels(keys, names);
            }

            for (var i = 0; i < n; i++)
            {
                rank[order[i]] = i;
            }

            return result;
        }

        /// <summary>
        /// The series ids ordered by <paramref name="keys"/> (which it reorders), ties by labels: sorting on plain keys
        /// and comparing labels only within runs of equal keys keeps the sort cheap when every line is a series.
        /// </summary>
        private static int[] SortByKeyThenLabels(SeriesOrderKey[] keys, LabelSet[] names)
        {
            var order = new int[keys.Length];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            Array.Sort(keys, order);
            for (var start = 0; start < keys.Length;)
            {
                var end = start + 1;
                while (end < keys.Length && keys[end].Equals(keys[start]))
                {
                    end++;
                }

                if (end - start > 1)
                {
                    Array.Sort(order, start, end - start, new SeriesLabelOrder(names));
                }

                start = end;
            }

            return order;
        }

        /// <summary>
        /// For series fed by several segments, ranks the segments by sample labels then cursor order: the order in
        /// which their samples at one timestamp are folded, as Loki's sample heap orders them.
        /// </summary>
        private static void RankSharedSegments(SliceLog[] logs, int[][] localToGlobal, int[] segments)
        {
            var shared = new List<(int Series, string Labels, int Cursor, int Worker, int Segment)>();
            for (var w = 0; w < logs.Length; w++)
            {
                var log = logs[w];
                for (var s = 0; s < log.SegmentSeries.Count; s++)
                {
                    var id = localToGlobal[w][log.SegmentSeries[s]];
                    if (segments[id] > 1)
                    {
                        shared.Add((id, log.SegmentLabels[s].ToString(), log.SegmentCursor[s], w, s));
                    }
                }
            }

            if (shared.Count == 0)
            {
                return;
            }

            shared.Sort(static (a, b) =>
            {
                var c = a.Series.CompareTo(b.Series);
                if (c == 0)
                {
                    c = string.CompareOrdinal(a.Labels, b.Labels);
                }

                return c != 0 ? c : a.Cursor.CompareTo(b.Cursor);
            });
            var rank = 0;
            for (var i = 0; i < shared.Count; i++)
            {
                rank = i > 0 && shared[i].Series == shared[i - 1].Series ? rank + 1 : 0;
                logs[shared[i].Worker].SegmentRank[shared[i].Segment] = rank;
            }
        }

        private void Gather(SliceLog[] logs, int[][] localToGlobal, int[] segments, int total, bool countOnly)
        {
            var fill = (int[])_start.Clone();
            var ranks = ArrayPool<int>.Shared.Rent(Math.Max(1, total));
            if (countOnly)
            {
                _byFirst = ArrayPool<Run>.Shared.Rent(Math.Max(1, total));
            }
            else
            {
                Timestamps = ArrayPool<long>.Shared.Rent(Math.Max(1, total));
                Values = ArrayPool<double>.Shared.Rent(Math.Max(1, total));
            }

            for (var w = 0; w < logs.Length; w++)
            {
                var log = logs[w];
                var map = localToGlobal[w];
                for (var r = 0; r < log.RecordCount; r++)
                {
                    var segment = log.RecordSegment[r];
                    var at = fill[map[log.SegmentSeries[segment]]]++;
                    ranks[at] = log.SegmentRank[segment];
                    if (countOnly)
                    {
                        _byFirst[at] = log.Runs[r];
                    }
                    else
                    {
                        Timestamps[at] = log.Timestamps[r];
                        Values[at] = log.Values[r];
                    }
                }
            }

            if (countOnly)
            {
                _byEnd = ArrayPool<Run>.Shared.Rent(Math.Max(1, total));
                _byFirst.AsSpan(0, total).CopyTo(_byEnd);
            }

            for (var id = 0; id < segments.Length; id++)
            {
                // One segment's records are already in time order (so in window order); only shared series are merged.
                if (segments[id] > 1)
                {
                    MergeSegments(id, ranks, countOnly);
                }

                _cursorA[id] = _cursorB[id] = _start[id];
            }

            ArrayPool<int>.Shared.Return(ranks);
        }

        /// <summary>Returns the pooled sample and run arrays; the series must not be read afterwards.</summary>
        public void Release()
        {
            if (ReferenceEquals(this, Empty))
            {
                return;
            }

            Return(Timestamps);
            Return(Values);
            Return(_byFirst);
            Return(_byEnd);
            Timestamps = [];
            Values = [];
            _byFirst = _byEnd = [];
            _memory?.Release(_reserved);
            _reserved = 0;
        }

        private static void Return<T>(T[] array)
        {
            if (array.Length > 0)
            {
                ArrayPool<T>.Shared.Return(array);
            }
        }

        private void MergeSegments(int id, int[] ranks, bool countOnly)
        {
            var from = _start[id];
            var length = _start[id + 1] - from;
            if (countOnly)
            {
                Array.Sort(_byFirst, from, length, RunComparer.ByFirst);
                Array.Sort(_byEnd, from, length, RunComparer.ByEnd);
                return;
            }

            // Stable by time, then segment rank; equal keys come from one segment, already in its order.
            var keys = new (long Timestamp, int Rank, int Position)[length];
            var values = new double[length];
            for (var i = 0; i < length; i++)
            {
                keys[i] = (Timestamps[from + i], ranks[from + i], i);
                values[i] = Values[from + i];
            }

            Array.Sort(keys);
            for (var i = 0; i < length; i++)
            {
                Timestamps[from + i] = keys[i].Timestamp;
                Values[from + i] = values[keys[i].Position];
            }
        }
    }

    /// <summary>Where a series goes among a slice's: its first step in the slice, then its first step and sample in the query.</summary>
    private readonly record struct SeriesOrderKey(int FirstStep, int OriginStep, long OriginTimestamp) : IComparable<SeriesOrderKey>
    {
        public int CompareTo(SeriesOrderKey other)
        {
            var c = FirstStep.CompareTo(other.FirstStep);
            if (c == 0)
            {
                c = OriginStep.CompareTo(other.OriginStep);
            }

            return c != 0 ? c : OriginTimestamp.CompareTo(other.OriginTimestamp);
        }
    }

    /// <summary>Series ids by their labels, for ties of <see cref="SeriesOrderKey"/>.</summary>
    private sealed class SeriesLabelOrder(LabelSet[] names) : IComparer<int>
    {
        public int Compare(int x, int y) => LabelOrder.Instance.Compare(names[x], names[y]);
    }

    private sealed class RunComparer(bool byEnd) : IComparer<Run>
    {
        public static RunComparer ByFirst { get; } = new(false);

        public static RunComparer ByEnd { get; } = new(true);

        public int Compare(Run x, Run y) => byEnd ? x.EndStep.CompareTo(y.EndStep) : x.FirstStep.CompareTo(y.FirstStep);
    }

    /// <summary>
    /// An append-only array from the shared pool that grows by doubling (a struct, so a log's columns cost no extra
    /// objects; pooled, so the large ones do not churn the large object heap). Its size is reserved in the query's
    /// memory budget when it grows (rarely, so the check costs nothing per sample) and released with it.
    /// </summary>
    private struct GrowableArray<T>
    {
        private T[]? _items;
        private long _reserved;

        public int Count { get; private set; }

        public readonly ref T this[int index] => ref _items![index];

        public void Add(T item, QueryMemoryBudget? memory)
        {
            if (_items is null || Count == _items.Length)
            {
                Grow(memory);
            }

            _items![Count++] = item;
        }

        public void Release(QueryMemoryBudget? memory)
        {
            if (_items is not null)
            {
                // Pooled arrays of references are cleared, so they do not keep label sets alive.
                ArrayPool<T>.Shared.Return(_items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
                _items = null;
            }

            memory?.Release(_reserved);
            _reserved = 0;
            Count = 0;
        }

        private void Grow(QueryMemoryBudget? memory)
        {
            var grown = ArrayPool<T>.Shared.Rent(Math.Max(16, Count * 2));
            if (memory is not null)
            {
                // The old array is still held while it is copied; what it held is released with it below.
                var bytes = (long)grown.Length * Unsafe.SizeOf<T>();
                memory.Reserve(bytes);
                memory.Release(_reserved);
                _reserved = bytes;
            }

            if (_items is not null)
            {
                _items.AsSpan(0, Count).CopyTo(grown);
                ArrayPool<T>.Shared.Return(_items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
            }

            _items = grown;
        }
    }
}
