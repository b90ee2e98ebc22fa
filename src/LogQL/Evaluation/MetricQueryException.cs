using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>Why a metric query failed at run time; decides the HTTP status Loki answers with.</summary>
public enum MetricQueryErrorKind
{
    /// <summary>A limit such as <c>max_query_series</c> was reached (Loki: 400).</summary>
    Limit,

    /// <summary>A sample carrying <c>__error__</c> reached a range step (Loki: 400).</summary>
    Pipeline,

    /// <summary>Vector matching or another data-dependent execution failure (Loki: 500).</summary>
    Execution,

    /// <summary>Invalid query parameters such as a bad step (Loki: 400).</summary>
    BadRequest,
}

/// <summary>A metric query failed with one of Loki's run-time messages.</summary>
public sealed class MetricQueryException : Exception
{
    /// <summary>Creates the exception with Loki's message text.</summary>
    public MetricQueryException(MetricQueryErrorKind kind, string message)
        : base(message) => Kind = kind;

    /// <summary>Creates an exception of kind <see cref="MetricQueryErrorKind.Execution"/>.</summary>
    public MetricQueryException()
        : this(MetricQueryErrorKind.Execution, "metric query failed")
    {
    }

    /// <summary>Creates an exception of kind <see cref="MetricQueryErrorKind.Execution"/>.</summary>
    public MetricQueryException(string message)
        : this(MetricQueryErrorKind.Execution, message)
    {
    }

    /// <summary>Creates an exception of kind <see cref="MetricQueryErrorKind.Execution"/> wrapping another.</summary>
    public MetricQueryException(string message, Exception innerException)
        : base(message, innerException) => Kind = MetricQueryErrorKind.Execution;

    /// <summary>The failure category.</summary>
    public MetricQueryErrorKind Kind { get; }

    /// <summary>The HTTP status Loki answers this failure with.</summary>
    public int HttpStatus => Kind == MetricQueryErrorKind.Execution ? 500 : 400;

    /// <summary>Loki's <c>max_query_series</c> error.</summary>
    public static MetricQueryException SeriesLimit(int limit) => new(MetricQueryErrorKind.Limit,
        $"maximum number of series ({limit}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, " +
        $"reducing the time range, or aggregating results with functions like sum(), count() or topk()");

    /// <summary>Loki's error for a sample whose labels carry <c>__error__</c>.</summary>
    public static MetricQueryException PipelineError(LabelSet series)
    {
        var errorType = series.Get(ErrorLabels.Error) ?? string.Empty;
        return new MetricQueryException(MetricQueryErrorKind.Pipeline,
            $"pipeline error: '{errorType}' for series: '{series}'.\n" +
            $"Use a label filter to intentionally skip this error. (e.g | __error__!=\"{errorType}\").\n" +
            "To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n" +
            "The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n");
    }
}

/// <summary>The reserved labels the pipeline sets on errors.</summary>
internal static class ErrorLabels
{
    public const string Error = "__error__";
    public const string PreserveError = "__preserve_error__";

    /// <summary>Whether a sample with these labels fails the query when it reaches a step (Loki's rule).</summary>
    public static bool FailsQuery(LabelSet labels) => FailsQuery(labels.AsSpan());

    /// <summary>The rule of <see cref="FailsQuery(LabelSet)"/> for a set's pairs.</summary>
    public static bool FailsQuery(ReadOnlySpan<LabelPair> labels)
    {
        string? error = null;
        string? preserve = null;
        foreach (var pair in labels)
        {
            if (pair.Name == Error)
            {
                error = pair.Value;
            }
            else if (pair.Name == PreserveError)
            {
                preserve = pair.Value;
            }
        }

        return error is not null && preserve != "true";
    }
}
