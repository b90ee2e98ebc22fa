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
