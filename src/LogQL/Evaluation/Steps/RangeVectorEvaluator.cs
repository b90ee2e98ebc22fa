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
/// between cursors by the labels of their first sample in the series, then cursor order). A step's samples go on in the
/// order their series' current runs of non-empty windows began (step, first sample, then labels), which needs only the
/// runs going on across a slice's end to be remembered; so results depend neither on how many workers loaded them nor
/// on where the slices end.
/// <c>absent_over_time</c> emits its single sample on empty steps. The slice's columns are reserved in the query's
/// <see cref="QueryMemoryBudget"/> as they grow and released with the slice, so a slice too large for it fails the
/// query rather than the process.
/// </summary>
internal sealed partial class RangeVectorEvaluator : StepEvaluator, ISeriesNumbering
{
    private const int CancellationPollInterval = 4096;
    // Each slice re-opens every stream's chunks, so slices are an hour (or two ranges) long when they hold few series;
    // but a parser can make every line its own series: a first slice whose worker meets more than twice the target
    // series starts over shorter, and a slice holding more than the target makes the next ones shorter (growing back
    // by SliceGrowth when few), so a slice's memory follows its series.
    private const long MinSliceNs = 3600L * 1_000_000_000L;
    private const int RangesPerSlice = 2;
    // The shortest a slice gets when it holds more series than the target (every line its own series after a parser); at
    // most the longest. A slice carries its last range of samples into the next, so at two ranges half of a short slice's
    // samples are read twice, at four a quarter: over the 2048 reference store, logfmt + unwrap avg by task took 4% fewer
    // CPU-seconds for 10-20% more peak memory (one slice holds twice the series).
    private const int MinRangesPerSlice = 4;
    private const int SliceGrowth = 4;

    // A restartable slice starts over as soon as its worker's series, scaled to its share of the cursors, exceed this
    // many times the limit; a projection nearer the limit waits for the limit itself.
    private const int EarlyRestartMargin = 2;
    // Within a cursor, the projection (from the share of the slice's time read) counts once a worker met this fraction
    // (one in so many) of its limit.
    private const int EarlyRestartEvidence = 16;

    private readonly Func<long, long, IReadOnlyList<ISampleCursor>> _select;
    // The range aggregation's grouping, null without one.
    private readonly Func<LabelSet, LabelSet>? _seriesKey;
    private readonly CancellationToken _cancellation;
    private readonly int _parallelism;
    private readonly long _firstStepNs;
    private readonly long _step;
    private readonly long _steps;
    private readonly long _minSliceSteps;
    private readonly long _maxSliceSteps;
    private readonly int _targetSeries;
    private long _sliceSteps;
    // Where the runs of non-empty windows at the last slice's end began.
    private readonly OriginTable _origins;
    // The kept labels of the aggregation above, or null when the steps hand on whole label sets.
    private readonly LabelProjection? _projection;
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
    // The slice's number (id) of each sample's series in _vector.
    private readonly List<int> _vectorSeries = [];
    private int _seriesEpoch;
    private ISampleCursor?[] _cursors = [];
    private SliceLog[] _carry = [];
    // Logs of earlier slices, emptied: their series tables keep their capacity, so a slice of as many series as the
    // last one fills them without growing new large arrays.
    private readonly Stack<SliceLog> _spareLogs = new();
    private readonly ArrayShelf _shelf;
    private int _cursorBase;
    private long _readThrough = long.MinValue;
    // Where the slice's cursors begin (they end at _readThrough).
    private long _readFrom;
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
    /// <param name="keptLabels">
    /// When the aggregation above groups <c>by</c> these names and reads nothing else of a series' labels, the steps hand
    /// on each series with only these (as that grouping keeps them); null to hand on whole label sets.
    /// </param>
    public RangeVectorEvaluator(RangeAggregationExpr expr, Func<long, long, IReadOnlyList<ISampleCursor>> select, MetricQueryParameters parameters,
        LabelSet? absentLabels, int seriesLimit, int parallelism, CancellationToken cancellation, QueryMemoryBudget? memory = null,
        int targetSeries = 100_000, IEnumerable<string>? keptLabels = null)
    {
        _shelf = new ArrayShelf(memory);
        _origins = new OriginTable(memory, _shelf);
        _projection = keptLabels is null || absentLabels is not null ? null : new LabelProjection(keptLabels);
        _targetSeries = Math.Max(1, targetSeries);
        _memory = memory;
        _select = select;
        _seriesKey = expr.Grouping is null ? null : LabelSets.RangeGrouping(expr.Grouping);
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
        _minSliceSteps = Math.Min(_maxSliceSteps, StepsIn(MinRangesPerSlice * _range));
        _sliceSteps = _maxSliceSteps;
        var function = RangeFunction.Of(expr.Op);
        _countOnly = function.IsCountOnly(expr);
        _countValue = function.CountValue;
        _rangeSeconds = RangeAccumulator.GoSeconds(_range);
        _accumulator = function.AccumulatorFactory(expr)();
    }

    /// <inheritdoc />
    public List<int>? VectorSeries => _absentLabels is null ? _vectorSeries : null;

    /// <inheritdoc />
    public int SeriesEpoch => _seriesEpoch;

    /// <inheritdoc />
    public int SeriesCount => _series.Count;

    private long StepsIn(long ns) => Math.Max(1, (ns / _step) + (ns % _step > 0 ? 1 : 0));

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        _cancellation.ThrowIfCancellationRequested();
        vector = _vector;
        _vector.Clear();
        _vectorSeries.Clear();
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

        // Every run becoming active now began after those already active, so it goes last: the active series stay in the
        // order their runs began.
        var activations = series.Activations;
        var activationStep = series.ActivationStep;
        while (_nextSeries < series.ActivationCount && activationStep[_nextSeries] <= step)
        {
            _active.Add(activations[_nextSeries++]);
        }

        var kept = 0;
        for (var i = 0; i < _active.Count; i++)
        {
            var id = _active[i];
            var live = false;
            if (_countOnly)
            {
                var count = series.CountAt(id, step);
                if (count > 0)
                {
                    _vector.Add(new VectorSample(series.Labels[id], timestampMs, _countValue!(count, _rangeSeconds)));
                    _vectorSeries.Add(id);
                    live = true;
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
                    _vectorSeries.Add(id);
                    live = true;
                }
            }

            // An empty window ends the series' run; when it comes back, its next run is activated anew.
            if (live && series.EndStep[id] > step + 1)
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

    public override void Dispose()
    {
        DisposeCursors();
        _series.Release();
        _series = SliceSeries.Empty;
        foreach (var log in _carry)
        {
            log.ReleaseAll();
        }

        _carry = [];
        while (_spareLogs.TryPop(out var spare))
        {
            spare.ReleaseAll();
        }

        _origins.Release();
        _shelf.Empty();
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
}
