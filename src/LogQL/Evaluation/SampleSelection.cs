using LokiSharp.LogQL.Ast;

namespace LokiSharp.LogQL.Evaluation;

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
