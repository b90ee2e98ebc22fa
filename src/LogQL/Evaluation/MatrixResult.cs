using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>One point of a matrix series. Timestamps are Unix milliseconds, the resolution Loki reports.</summary>
public readonly record struct MetricPoint(long TimestampMs, double Value);

/// <summary>A matrix series: its labels and its points in ascending time.</summary>
public sealed record MetricSeries(LabelSet Labels, IReadOnlyList<MetricPoint> Points);

/// <summary>A range query's result: series sorted by labels, each with ascending points.</summary>
public sealed record MatrixResult(IReadOnlyList<MetricSeries> Series) : MetricResult
{
    /// <inheritdoc />
    public override MetricResultType Type => MetricResultType.Matrix;

    /// <summary>The number of points over all series.</summary>
    public int TotalPoints => Series.Sum(s => s.Points.Count);
}
