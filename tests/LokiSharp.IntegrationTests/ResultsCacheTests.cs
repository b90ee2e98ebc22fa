using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// The metric results cache over HTTP: a cached answer is the uncached answer, <c>Cache-Control: no-cache</c>
/// bypasses it, and the freshness window is always recomputed.
/// </summary>
public sealed class ResultsCacheTests : IAsyncLifetime
{
    private const string Config = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        query_range:
          cache_results: true
          results_cache:
            cache:
              embedded_cache: {enabled: true, max_size_mb: 10, ttl: 1h}
        limits_config:
          split_queries_by_interval: 10m
          max_cache_freshness_per_query: 10m
          retention_period: 744h
        compactor:
          working_directory: ${DATA}/compactor
          retention_enabled: true
          delete_request_store: filesystem
        """;

    private const long Second = 1_000_000_000L;

    private readonly Dictionary<string, List<long>> _pushed = new(StringComparer.Ordinal);
    private LokiProcess _server = null!;
    private long _start;
    private long _end;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync(Config);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() * Second;
        _start = (now / (60 * Second) * 60 * Second) - (40 * 60 * Second);
        _end = now;

        // Two pods over the 30 minutes before the freshness window, at different rates.
        await PushAsync("a", Enumerable.Range(0, 90).Select(i => _start + (i * 20 * Second) + Second));
        await PushAsync("b", Enumerable.Range(0, 60).Select(i => _start + (i * 30 * Second) + (7 * Second)));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_cache_hit_and_a_partial_hit_return_exactly_the_uncached_json()
    {
        const string query = "sum by (pod) (count_over_time({app=\"shop\"}[2m]))";

        var part = await QueryAsync(query, _start + (600 * Second), _start + (1500 * Second));
        var partial = await QueryAsync(query, _start, _end);
        var hit = await QueryAsync(query, _start, _end);
        var uncached = await QueryAsync(query, _start, _end, noCache: true);

        Assert.Equal(Expected(120 * Second, _start + (600 * Second), _start + (1500 * Second)), WithoutStats(part));
        Assert.Equal(Expected(120 * Second, _start, _end), WithoutStats(uncached));
        Assert.Equal(WithoutStats(uncached), WithoutStats(partial));
        Assert.Equal(WithoutStats(uncached), WithoutStats(hit));
        Assert.True(CacheStat(part, "entriesStored") > 0);
        Assert.True(CacheStat(partial, "entriesFound") > 0);
        Assert.True(CacheStat(partial, "entriesStored") > 0);
        Assert.Equal(CacheStat(hit, "entriesRequested"), CacheStat(hit, "entriesFound"));
        Assert.True(CacheStat(hit, "queryLengthServed") >= 1800 * Second);
    }

    [Fact]
    public async Task A_start_off_the_step_grid_is_aligned_to_it_as_in_Loki_and_shares_the_cached_entries()
    {
        const string query = "sum by (pod) (rate({app=\"shop\"}[1m]))";
        var shifted = _start + (30 * Second) + 500_000_000;

        await QueryAsync(query, _start, _end);
        var aligned = await QueryAsync(query, shifted, _end);
        var uncached = await QueryAsync(query, _start, _end, noCache: true);

        Assert.True(CacheStat(aligned, "entriesFound") > 0);
        Assert.Equal(WithoutStats(uncached), WithoutStats(aligned));
    }

    [Fact]
    public async Task No_cache_requests_neither_read_nor_write_the_cache()
    {
        const string query = "sum(count_over_time({app=\"shop\", pod=\"b\"}[1m]))";

        var bypassed = await QueryAsync(query, _start, _end, noCache: true);
        var first = await QueryAsync(query, _start, _end);
        var second = await QueryAsync(query, _start, _end, noCache: true);
        var metrics = await _server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(0, CacheStat(bypassed, "entriesRequested"));
        Assert.Equal(0, CacheStat(bypassed, "entriesStored"));
        Assert.Equal(0, CacheStat(first, "entriesFound"));
        Assert.True(CacheStat(first, "entriesStored") > 0);
        Assert.Equal(0, CacheStat(second, "entriesRequested"));
        Assert.Equal(WithoutStats(bypassed), WithoutStats(first));
        Assert.Contains("loki_cache_fetched_keys{name=\"frontend.embedded-cache\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("loki_embeddedcache_entries{cache=\"frontend.embedded-cache\"}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_pushed_into_the_freshness_window_shows_on_the_next_query()
    {
        const string query = "sum by (pod) (count_over_time({app=\"shop\"}[1m]))";

        var before = await QueryAsync(query, _start, _end);
        await PushAsync("c", [_end - (150 * Second), _end - (90 * Second), _end - (30 * Second)]);
        var after = await QueryAsync(query, _start, _end);
        var uncached = await QueryAsync(query, _start, _end, noCache: true);

        Assert.True(CacheStat(after, "entriesFound") > 0);
        Assert.DoesNotContain("\"pod\":\"c\"", WithoutStats(before), StringComparison.Ordinal);
        Assert.Contains("\"pod\":\"c\"", WithoutStats(after), StringComparison.Ordinal);
        Assert.Equal(Expected(60 * Second, _start, _end), WithoutStats(after));
        Assert.Equal(WithoutStats(uncached), WithoutStats(after));
    }

    [Fact]
    public async Task A_delete_request_invalidates_what_was_cached_before_it()
    {
        const string query = "sum by (pod) (count_over_time({app=\"shop\"}[1m]))";

        var before = await QueryAsync(query, _start, _end);
        var delete = $"/loki/api/v1/delete?query={Uri.EscapeDataString("{app=\"shop\", pod=\"b\"}")}&start={_start / Second}&end={_end / Second}";
        using (var response = await _server.Http.PostAsync(new Uri(delete, UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var after = await QueryAsync(query, _start, _end);
        var uncached = await QueryAsync(query, _start, _end, noCache: true);

        Assert.Contains("\"pod\":\"b\"", WithoutStats(before), StringComparison.Ordinal);
        Assert.DoesNotContain("\"pod\":\"b\"", WithoutStats(after), StringComparison.Ordinal);
        Assert.Equal(0, CacheStat(after, "entriesFound"));
        Assert.Equal(WithoutStats(uncached), WithoutStats(after));
    }

    private async Task PushAsync(string pod, IEnumerable<long> timestamps)
    {
        var values = new StringBuilder();
        var list = _pushed.TryGetValue(pod, out var existing) ? existing : _pushed[pod] = [];
        foreach (var ts in timestamps)
        {
            values.Append(values.Length > 0 ? "," : "").Append(CultureInfo.InvariantCulture, $"[\"{ts}\",\"GET /item/{list.Count} 200\"]");
            list.Add(ts);
        }

        var body = $$"""{"streams":[{"stream":{"app":"shop","pod":"{{pod}}"},"values":[{{values}}]}]}""";
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<string> QueryAsync(string query, long start, long end, bool noCache = false)
    {
        var uri = $"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start}&end={end}&step=60";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(uri, UriKind.Relative));
        if (noCache)
        {
            request.Headers.Add("Cache-Control", "no-cache");
        }

        using var response = await _server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return body;
    }

    // The answer computed here from what was pushed: per pod and step t, the entries in (t - range, t].
    private string Expected(long range, long start, long end)
    {
        // Loki's frontend rounds the end of a split query up to the step (60 s here).
        end += (60 * Second) - (((end - 1) % (60 * Second)) + 1);
        var result = new JsonArray();
        foreach (var pod in _pushed.Keys.Order(StringComparer.Ordinal))
        {
            var values = new JsonArray();
            for (var t = start; t <= end; t += 60 * Second)
            {
                var count = _pushed[pod].Count(ts => ts > t - range && ts <= t);
                if (count > 0)
                {
                    values.Add(new JsonArray(JsonValue.Create(t / Second), JsonValue.Create(count.ToString(CultureInfo.InvariantCulture))));
                }
            }

            if (values.Count > 0)
            {
                result.Add(new JsonObject { ["metric"] = new JsonObject { ["pod"] = pod }, ["values"] = values });
            }
        }

        var expected = new JsonObject
        {
            ["status"] = "success",
            ["data"] = new JsonObject { ["resultType"] = "matrix", ["result"] = result },
        };
        return expected.ToJsonString();
    }

    private static string WithoutStats(string json)
    {
        var node = JsonNode.Parse(json)!;
        node["data"]!.AsObject().Remove("stats");
        return node.ToJsonString();
    }

    private static long CacheStat(string json, string name) =>
        JsonNode.Parse(json)!["data"]!["stats"]!["cache"]!["result"]![name]!.GetValue<long>();
}
