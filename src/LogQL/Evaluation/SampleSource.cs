using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// A forward cursor over extracted samples in non-decreasing timestamp order. Each sample carries the labels of the
/// series it belongs to: the labels after the log pipeline, without the unwrapped label, with the range
/// aggregation's <c>by</c>/<c>without</c> applied or not (the evaluator applies the grouping again, which is
/// idempotent, except to samples carrying <c>__error__</c>, whose labels Loki keeps whole).
/// </summary>
/// <remarks>
/// Returning the same <see cref="LabelSet"/> instance for consecutive samples of one series lets the evaluator skip
/// re-deriving the series key; equal but distinct instances are also correct. Samples of one series that several
/// cursors share are ordered by timestamp, then by the labels of each cursor's first sample of that series, then by
/// the cursors' order in the list returned.
/// </remarks>
public interface ISampleCursor : IDisposable
{
    /// <summary>Moves to the next sample; false when the cursor is exhausted.</summary>
    bool MoveNext();

    /// <summary>The current sample's timestamp in Unix nanoseconds.</summary>
    long TimestampNs { get; }

    /// <summary>The current sample's value (1 per line, line bytes, or the unwrapped value).</summary>
    double Value { get; }

    /// <summary>The current sample's series labels.</summary>
    LabelSet Labels { get; }
}

/// <summary>
/// What the evaluator asks a <see cref="ISampleSource"/> for: the samples of one range aggregation's log range
/// (selector, pipeline, unwrap) with timestamps in <c>(StartExclusiveNs, EndInclusiveNs]</c>. The bounds already
/// include the range and the offset: <c>(start - range - offset, end - offset]</c>.
/// </summary>
/// <param name="Aggregation">The range aggregation being evaluated; its <see cref="RangeAggregationExpr.Grouping"/> may be applied at the source.</param>
/// <param name="StartExclusiveNs">Samples at or before this instant are not needed.</param>
/// <param name="EndInclusiveNs">Samples after this instant are not needed.</param>
public sealed record SampleSelection(RangeAggregationExpr Aggregation, long StartExclusiveNs, long EndInclusiveNs)
{
    /// <summary>The log range: selector with pipeline, unwrap, range and offset.</summary>
    public LogRangeExpr Range => Aggregation.Range;

    /// <summary>
    /// The grouping of an enclosing <c>sum</c> that a source may apply to the samples when the range aggregation has
    /// none (it sums the same either way, as in Loki); it lets the log pipeline skip labels nothing observes.
    /// </summary>
    public Grouping? SumGrouping { get; init; }
}

/// <summary>
/// Supplies samples for the leaves of a metric query. The querier implements it from storage and the log pipeline;
/// tests implement it from literal series.
/// </summary>
public interface ISampleSource
{
    /// <summary>
    /// Opens cursors for a selection. Each cursor must be in non-decreasing time order; cursors may overlap in time
    /// and share series (the evaluator merges them). Cursors must be independent: the evaluator reads different
    /// cursors on different threads at the same time (each cursor on one thread at a time) and disposes every
    /// cursor it receives, on whichever thread read it.
    /// </summary>
    IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken);
}

/// <summary>A cursor over one series held in memory, for tests and for sources that materialise series.</summary>
public sealed class SeriesSampleCursor : ISampleCursor
{
    private readonly IReadOnlyList<(long TimestampNs, double Value)> _points;
    private readonly long _startExclusiveNs;
    private readonly long _endInclusiveNs;
    private int _index = -1;

    /// <summary>Creates a cursor over <paramref name="points"/> (ascending time) restricted to <c>(startExclusiveNs, endInclusiveNs]</c>.</summary>
    public SeriesSampleCursor(LabelSet labels, IReadOnlyList<(long TimestampNs, double Value)> points, long startExclusiveNs = long.MinValue, long endInclusiveNs = long.MaxValue)
    {
        Labels = labels;
        _points = points;
        _startExclusiveNs = startExclusiveNs;
        _endInclusiveNs = endInclusiveNs;
    }

    /// <inheritdoc />
    public LabelSet Labels { get; }

    /// <inheritdoc />
    public long TimestampNs => _points[_index].TimestampNs;

    /// <inheritdoc />
    public double Value => _points[_index].Value;

    /// <inheritdoc />
    public bool MoveNext()
    {
        while (++_index < _points.Count)
        {
            var ts = _points[_index].TimestampNs;
            if (ts > _endInclusiveNs)
            {
                _index = _points.Count;
                return false;
            }

            if (ts > _startExclusiveNs)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
