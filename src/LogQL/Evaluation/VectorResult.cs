using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>One sample of an instant vector: the series labels, the evaluation time in Unix milliseconds, the value.</summary>
public readonly record struct VectorSample(LabelSet Labels, long TimestampMs, double Value);

/// <summary>An instant query's result: sorted by labels unless the query uses <c>sort</c>/<c>sort_desc</c>.</summary>
public sealed record VectorResult(IReadOnlyList<VectorSample> Samples) : MetricResult
{
    /// <inheritdoc />
    public override MetricResultType Type => MetricResultType.Vector;
}
