using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Cache;

namespace LokiSharp.Querier.Tests;

/// <summary>What the metric results cache keys on, and when it applies.</summary>
public sealed class ResultsCacheKeyTests
{
    private const long S = 1_000_000_000;
    private const long Start = 1_700_000_007 * S;

    private static SampleExpr Metric(string query) => (SampleExpr)LogQLParser.Parse(query);

    private static RangeQueryRequest Request(string query, long start = Start, long step = 60 * S, long generation = 3) =>
        RangeQueryRequest.For("tenant-a", Metric(query), MetricQueryParameters.Range(start, start + (3600 * S), step), start + (7200 * S),
            TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), 500, generation);

    [Fact]
    public void A_request_carries_the_range_and_the_tenants_limits_in_nanoseconds()
    {
        var request = Request("sum(count_over_time({app=\"api\"}[1m]))");

        Assert.Equal(
            new RangeQueryRequest("tenant-a", "sum(count_over_time({app=\"api\"}[1m]))", Start, Start + (3600 * S), 60 * S, Start + (7200 * S),
                600 * S, 3600 * S, 500, 3),
            request);
    }

    [Fact]
    public void Spelling_variants_of_a_query_share_one_key()
    {
        var a = Request("sum(count_over_time({app=\"api\"}[1m]))");
        var b = Request("sum (count_over_time( { app = \"api\" } [60s] ))");

        Assert.Equal(a.Query, b.Query);
        Assert.Equal(a.KeyPrefix, b.KeyPrefix);
    }

    [Fact]
    public void The_key_is_tenant_generation_step_alignment_split_interval_and_query()
    {
        var request = Request("count_over_time({app=\"api\"}[1m])");

        Assert.Equal("tenant-a:3:60000000000:27000000000:3600000000000:", request.KeyPrefix);
        Assert.Equal("tenant-a:3:60000000000:27000000000:3600000000000:472222:count_over_time({app=\"api\"}[1m])",
            RangeQueryRequest.Key(request.KeyPrefix, 472_222, request.Query));
    }

    [Fact]
    public void A_new_delete_generation_or_another_grid_changes_the_key()
    {
        var key = Request("count_over_time({app=\"api\"}[1m])").KeyPrefix;

        Assert.NotEqual(key, Request("count_over_time({app=\"api\"}[1m])", generation: 4).KeyPrefix);
        Assert.NotEqual(key, Request("count_over_time({app=\"api\"}[1m])", step: 30 * S).KeyPrefix);
        Assert.NotEqual(key, Request("count_over_time({app=\"api\"}[1m])", start: Start + S).KeyPrefix);
        Assert.Equal(key, Request("count_over_time({app=\"api\"}[1m])", start: Start + (60 * S)).KeyPrefix);
    }

    [Fact]
    public void Literals_and_vector_are_not_cached()
    {
        Assert.True(MetricResultsCache.Caches(Metric("rate({app=\"api\"}[1m])")));
        Assert.False(MetricResultsCache.Caches(Metric("1")));
        Assert.False(MetricResultsCache.Caches(Metric("vector(1)")));
    }

    [Theory]
    [InlineData("no-cache", true)]
    [InlineData(" No-Cache ", true)]
    [InlineData("", false)]
    [InlineData("no-store", false)]
    [InlineData("no-cache, no-store", false)]
    public void Only_exactly_no_cache_bypasses_the_cache(string cacheControl, bool bypassed) =>
        Assert.Equal(bypassed, MetricResultsCache.BypassedBy(cacheControl));

    [Fact]
    public void Embedded_cache_bounds_come_from_the_config_block_and_zero_bounds_mean_no_cache()
    {
        var ttl = TimeSpan.FromHours(1);
        Assert.Equal(new EmbeddedCacheLimits(100_000_000, 0, ttl), EmbeddedCacheLimits.FromConfig(100, 0, ttl));
        Assert.Equal(new EmbeddedCacheLimits(0, 50, ttl), EmbeddedCacheLimits.FromConfig(-1, 50, ttl));
        Assert.Null(EmbeddedCacheLimits.FromConfig(0, 0, ttl));
        Assert.Null(EmbeddedCacheLimits.FromConfig(-1, -5, ttl));
    }
}
