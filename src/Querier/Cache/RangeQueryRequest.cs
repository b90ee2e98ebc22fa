using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;

namespace LokiSharp.Querier.Cache;

/// <summary>One metric <c>query_range</c> as the results cache sees it. Times are Unix nanoseconds.</summary>
/// <param name="Tenant">The tenant; entries never cross tenants.</param>
/// <param name="Query">The query in canonical form (the parsed AST printed), so spelling variants share entries.</param>
/// <param name="StartNs">First evaluation time.</param>
/// <param name="EndNs">Last time an evaluation may fall on.</param>
/// <param name="StepNs">Step between evaluations.</param>
/// <param name="NowNs">The request's "now".</param>
/// <param name="FreshnessNs"><c>max_cache_freshness_per_query</c>: evaluations later than now minus this are never cached.</param>
/// <param name="SplitNs"><c>split_queries_by_interval</c>: the span of time one cache entry covers; 0 for one entry per query.</param>
/// <param name="MaxQuerySeries"><c>max_query_series</c>, checked on the assembled answer; 0 or less disables it.</param>
/// <param name="Generation">
/// The delete requests' generation number, part of every key (Loki's cache generation): a new delete request
/// changes it, so results computed before it are no longer found.
/// </param>
public sealed record RangeQueryRequest(string Tenant, string Query, long StartNs, long EndNs, long StepNs, long NowNs,
    long FreshnessNs, long SplitNs, int MaxQuerySeries, long Generation = 0)
{
    /// <summary>
    /// The request of a metric range query <paramref name="expr"/> at <paramref name="range"/>, with the tenant's
    /// <c>max_cache_freshness_per_query</c>, <c>split_queries_by_interval</c> and <c>max_query_series</c>.
    /// </summary>
    public static RangeQueryRequest For(string tenant, SampleExpr expr, MetricQueryParameters range, long nowNs, TimeSpan maxCacheFreshness,
        TimeSpan splitInterval, int maxQuerySeries, long generation) =>
        new(tenant, expr.ToString(), range.StartNs, range.EndNs, range.StepNs, nowNs, maxCacheFreshness.Ticks * 100, splitInterval.Ticks * 100,
            maxQuerySeries, generation);

    /// <summary>
    /// What every key of this request starts with: tenant, generation, step, grid alignment (<c>start mod step</c>)
    /// and split interval, so requests share entries only when their grids and splits coincide. Only for a step of
    /// at least one millisecond, the only requests the cache stores.
    /// </summary>
    public string KeyPrefix => $"{Tenant}:{Generation}:{StepNs}:{StartNs % StepNs}:{SplitNs}:";

    /// <summary>The key of one split interval's entry: the prefix, the interval's number and the query.</summary>
    public static string Key(string prefix, long bucket, string query) =>
        string.Concat(prefix, bucket.ToString(System.Globalization.CultureInfo.InvariantCulture), ":", query);
}

