namespace LokiSharp.LogQL.Evaluation;

/// <summary>An instant query that is only a number.</summary>
public sealed record ScalarResult(long TimestampMs, double Value) : MetricResult
{
    /// <inheritdoc />
    public override MetricResultType Type => MetricResultType.Scalar;
}
