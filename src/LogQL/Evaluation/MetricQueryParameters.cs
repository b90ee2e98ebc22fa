namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// The time frame of a metric query in Unix nanoseconds. A range query evaluates at <c>start, start+step, …, ≤ end</c>;
/// an instant query has <c>start == end</c> and step 0 and evaluates once at that time.
/// </summary>
public sealed record MetricQueryParameters(long StartNs, long EndNs, long StepNs)
{
    /// <summary>Loki's cap on points per series for range queries.</summary>
    public const long MaxPointsPerSeries = 11_000;

    /// <summary>An instant query at <paramref name="timeNs"/>.</summary>
    public static MetricQueryParameters Instant(long timeNs) => new(timeNs, timeNs, 0);

    /// <summary>A range query; call <see cref="ValidateRange"/> first to get Loki's parameter errors.</summary>
    public static MetricQueryParameters Range(long startNs, long endNs, long stepNs) => new(startNs, endNs, stepNs);

    /// <summary>Whether this is an instant query (Loki: start equals end and step is 0).</summary>
    public bool IsInstant => StartNs == EndNs && StepNs == 0;

    /// <summary>Loki's default step for a range query: <c>max(floor((end-start)/250s), 1)</c> seconds, in nanoseconds.</summary>
    public static long DefaultStepNs(long startNs, long endNs)
    {
        var seconds = Math.Max(Math.Floor((endNs - startNs) / 1e9 / 250), 1);
        return (long)seconds * 1_000_000_000L;
    }

    /// <summary>
    /// Loki's checks of <c>query_range</c> parameters, in its order: end before start, non-positive step, more than
    /// 11,000 points. Returns the error text, or null when the parameters are acceptable.
    /// </summary>
    public static string? ValidateRange(long startNs, long endNs, long stepNs)
    {
        if (endNs < startNs)
        {
            return "end timestamp must not be before or equal to start time";
        }

        if (stepNs <= 0)
        {
            return "zero or negative query resolution step widths are not accepted. Try a positive integer";
        }

        // Integer division of the durations, as Go divides time.Duration values.
        if ((endNs - startNs) / stepNs > MaxPointsPerSeries)
        {
            return "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter";
        }

        return null;
    }
}

/// <summary>Per-tenant limits the evaluator enforces.</summary>
public sealed record MetricQueryLimits
{
    /// <summary>Loki's defaults.</summary>
    public static MetricQueryLimits Default { get; } = new();

    /// <summary><c>max_query_series</c>: most distinct series a result may hold (default 500); 0 or less disables it.</summary>
    public int MaxQuerySeries { get; init; } = 500;

    /// <summary>Most threads reading one range aggregation's cursors at once (default: one per processor).</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Series one slice of a range query's steps may hold before later slices get shorter (a first slice starts over
    /// shorter when one of its readers meets <see cref="SliceSeriesPerReader"/>): what bounds the memory of queries where
    /// every line is a series. Results do not depend on it.
    /// </summary>
    public int SliceSeriesTarget { get; init; } = 100_000;

    /// <summary>
    /// Series one of <paramref name="readers"/> readers of a first slice may meet before the slice starts over shorter:
    /// twice the target for one or two readers, a share of four times the target beyond, so what a first slice holds does
    /// not grow with the processors (with eight readers, twice the target each, a first slice of the reference logfmt query
    /// at 2048 MB could hold 1.6 million series, and the query failed its memory limit).
    /// </summary>
    public static int SliceSeriesPerReader(int target, int readers) => (int)Math.Max(1, 4L * Math.Max(1, target) / Math.Max(2, readers));
}
