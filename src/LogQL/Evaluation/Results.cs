using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>The <c>resultType</c> of a metric query, as Loki names it in JSON.</summary>
public enum MetricResultType
{
    /// <summary><c>matrix</c>: series of points (range queries).</summary>
    Matrix,

    /// <summary><c>vector</c>: one sample per series (instant queries).</summary>
    Vector,

    /// <summary><c>scalar</c>: a single number (an instant query that is only a literal).</summary>
    Scalar,
}

/// <summary>One point of a matrix series. Timestamps are Unix milliseconds, the resolution Loki reports.</summary>
public readonly record struct MetricPoint(long TimestampMs, double Value);

/// <summary>One sample of an instant vector: the series labels, the evaluation time in Unix milliseconds, the value.</summary>
public readonly record struct VectorSample(LabelSet Labels, long TimestampMs, double Value);

/// <summary>A matrix series: its labels and its points in ascending time.</summary>
public sealed record MetricSeries(LabelSet Labels, IReadOnlyList<MetricPoint> Points);

/// <summary>The result of a metric query: a <see cref="MatrixResult"/>, <see cref="VectorResult"/> or <see cref="ScalarResult"/>.</summary>
public abstract record MetricResult
{
    /// <summary>Which of the three shapes this is.</summary>
    public abstract MetricResultType Type { get; }

    /// <summary>Loki's JSON name of <see cref="Type"/>: <c>matrix</c>, <c>vector</c> or <c>scalar</c>.</summary>
    public string TypeName => Type switch
    {
        MetricResultType.Matrix => "matrix",
        MetricResultType.Vector => "vector",
        _ => "scalar",
    };
}

/// <summary>A range query's result: series sorted by labels, each with ascending points.</summary>
public sealed record MatrixResult(IReadOnlyList<MetricSeries> Series) : MetricResult
{
    /// <inheritdoc />
    public override MetricResultType Type => MetricResultType.Matrix;

    /// <summary>The number of points over all series.</summary>
    public int TotalPoints => Series.Sum(s => s.Points.Count);
}

/// <summary>An instant query's result: sorted by labels unless the query uses <c>sort</c>/<c>sort_desc</c>.</summary>
public sealed record VectorResult(IReadOnlyList<VectorSample> Samples) : MetricResult
{
    /// <inheritdoc />
    public override MetricResultType Type => MetricResultType.Vector;
}

/// <summary>An instant query that is only a number.</summary>
public sealed record ScalarResult(long TimestampMs, double Value) : MetricResult
{
    /// <inheritdoc />
    public override MetricResultType Type => MetricResultType.Scalar;
}
