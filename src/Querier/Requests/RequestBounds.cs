using LokiSharp.LogQL.Text;

namespace LokiSharp.Querier.Requests;

/// <summary>
/// The time range of a request, Unix nanoseconds, read from <c>start</c>, <c>end</c> and <c>since</c> as Loki's
/// <c>pkg/loghttp</c> reads them, with the checks and adjustments Loki applies to ranges (order, <c>step</c>,
/// <c>max_query_length</c>, <c>max_query_lookback</c>, step alignment). Endpoints differ in which of them they
/// apply, as in Loki; every route reads its range here.
/// </summary>
public readonly record struct RequestBounds(long Start, long End)
{
    /// <summary>Default <c>since</c>.</summary>
    public static readonly TimeSpan DefaultSince = TimeSpan.FromHours(1);

    private const long MaxPoints = 11_000;

    /// <summary>The end as an exclusive bound: metadata queries (labels, series, stats, volume) include entries at <see cref="End"/>.</summary>
    public long Through => End + 1;

    /// <summary>
    /// <c>start</c>/<c>end</c>/<c>since</c>, unchecked (the metadata endpoints take an end before the start): end
    /// defaults to now, start to min(end, now) minus since (1h).
    /// </summary>
    public static RequestBounds Parse(IRequestParameters parameters, long now) =>
        Parse(parameters.Get("start"), parameters.Get("end"), parameters.Get("since"), now);

    /// <summary><see cref="Parse(IRequestParameters, long)"/>, then <see cref="CheckOrder"/>.</summary>
    public static RequestBounds ParseOrdered(IRequestParameters parameters, long now)
    {
        var bounds = Parse(parameters, now);
        bounds.CheckOrder();
        return bounds;
    }

    /// <summary>Tailing's range: <c>start</c> alone (default an hour before now), <c>end</c> and <c>since</c> unread; the end is now.</summary>
    public static RequestBounds ParseStartOnly(IRequestParameters parameters, long now) => Parse(parameters.Get("start"), null, null, now);

    /// <summary>The range from the parameters' texts; empty or null means absent.</summary>
    public static RequestBounds Parse(string? start, string? end, string? since, long now)
    {
        var sinceNanos = DefaultSince.Ticks * 100;
        if (!string.IsNullOrEmpty(since))
        {
            var parsed = GoDuration.TryParsePrometheus(since, out var error)
                ?? throw new QueryRequestException($"could not parse 'since' parameter: {error}");
            sinceNanos = parsed.Nanoseconds;
        }

        var endNanos = QueryParameters.ParseTimestamp(end, now, "end");
        var startNanos = QueryParameters.ParseTimestamp(start, Math.Min(endNanos, now) - sinceNanos, "start");
        return new RequestBounds(startNanos, endNanos);
    }

    /// <summary>Checks the order of <c>start</c> and <c>end</c>.</summary>
    public void CheckOrder()
    {
        if (End < Start)
        {
            throw new QueryRequestException("end timestamp must not be before or equal to start time");
        }
    }

    /// <summary>The <c>step</c> parameter over this range.</summary>
    public long ParseStep(IRequestParameters parameters) => ParseStep(parameters.Get("step"));

    /// <summary><c>step</c> with Loki's default max(floor((end-start)/250s), 1s) and its checks.</summary>
    public long ParseStep(string? value)
    {
        var step = string.IsNullOrEmpty(value)
            ? Math.Max((End - Start) / 250 / 1_000_000_000 * 1_000_000_000, 1_000_000_000)
            : QueryParameters.ParseSecondsOrDuration(value);
        if (step <= 0)
        {
            throw new QueryRequestException("zero or negative query resolution step widths are not accepted. Try a positive integer");
        }

        if ((End - Start) / step > MaxPoints)
        {
            throw new QueryRequestException("exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter");
        }

        return step;
    }

    /// <summary>The tenant's <c>max_query_length</c> (zero or less: no limit).</summary>
    public void CheckLength(TimeSpan maxQueryLength)
    {
        var max = maxQueryLength.Ticks * 100;
        if (max > 0 && End - Start > max)
        {
            throw new QueryRequestException(
                $"the query time range exceeds the limit (query length: {new GoDuration(End - Start)}, " +
                $"limit: {GoDuration.FromTimeSpan(maxQueryLength).ToPrometheusString()})");
        }
    }

    /// <summary>The range with its start moved up to the tenant's <c>max_query_lookback</c> before now (zero or less: unchanged).</summary>
    public RequestBounds ClampLookback(TimeSpan maxQueryLookback, long now)
    {
        var lookback = maxQueryLookback.Ticks * 100;
        return lookback > 0 ? this with { Start = Math.Max(Start, now - lookback) } : this;
    }

    /// <summary>
    /// The bounds a metric range query is evaluated at, as Loki's query frontend sets them: with
    /// <c>query_range.align_queries_with_step</c> both are first rounded down to a multiple of the step; then, when
    /// the tenant's <c>split_queries_by_interval</c> is on, the splitter rounds the start down and the end up. So
    /// every point sits on a multiple of the step whenever either is on, and nothing moves when both are off.
    /// </summary>
    public RequestBounds AlignToStep(long step, bool alignQueriesWithStep, long splitIntervalNs)
    {
        var (start, end) = (Start, End);
        if (alignQueriesWithStep)
        {
            start = FloorToMultiple(start, step);
            end = FloorToMultiple(end, step);
        }

        if (splitIntervalNs > 0)
        {
            start = FloorToMultiple(start, step);
            var remainder = end - FloorToMultiple(end, step);
            if (remainder != 0)
            {
                end += step - remainder;
            }
        }

        return new RequestBounds(start, end);
    }

    // Go's integer division truncates towards zero, which is what Loki's `t - t % step` does; bounds before 1970
    // are not meaningful queries, so truncation and flooring agree where it matters.
    private static long FloorToMultiple(long value, long step) => value - (value % step);
}
