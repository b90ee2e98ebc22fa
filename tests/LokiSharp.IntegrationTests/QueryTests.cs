using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>Push a known dataset over HTTP, then query it over HTTP and compare the exact JSON Loki would return.</summary>
public sealed class QueryTests : IAsyncLifetime
{
    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
        var body = $$"""
            {"streams":[
              {"stream":{"app":"nginx","namespace":"jewelry-shop"},"values":[
                ["{{Ts(1)}}","GET /rings 200 12ms"],
                ["{{Ts(2)}}","GET /cart 500 80ms",{"trace_id":"t-2"}],
                ["{{Ts(3)}}","POST /checkout 200 150ms"]]},
              {"stream":{"app":"django","namespace":"jewelry-shop"},"values":[
                ["{{Ts(4)}}","{\"level\":\"error\",\"msg\":\"payment declined\",\"status\":502}"],
                ["{{Ts(5)}}","{\"level\":\"info\",\"msg\":\"order placed\",\"status\":200}"]]}
            ]}
            """;
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Ts(int second) => (_base + (second * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture);

    private string Range => $"start={_base}&end={_base + 10_000_000_000L}";

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string pathAndQuery, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pathAndQuery, UriKind.Relative));
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    // The stats object is honest but its timings vary; everything else must match exactly.
    private static string WithoutStats(string json)
    {
        var node = JsonNode.Parse(json)!;
        var data = node["data"]?.AsObject();
        Assert.NotNull(data?["stats"]?["summary"]?["execTime"]);
        data!.Remove("stats");
        return node.ToJsonString();
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    [Fact]
    public async Task A_backward_log_query_returns_streams_newest_first_grouped_by_labels()
    {
        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={Uri.EscapeDataString("{namespace=\"jewelry-shop\"}")}&{Range}&limit=3");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"django","detected_level":"error","namespace":"jewelry-shop","service_name":"django"},
               "values":[["{{{Ts(4)}}}","{\"level\":\"error\",\"msg\":\"payment declined\",\"status\":502}"]]},
              {"stream":{"app":"django","detected_level":"info","namespace":"jewelry-shop","service_name":"django"},
               "values":[["{{{Ts(5)}}}","{\"level\":\"info\",\"msg\":\"order placed\",\"status\":200}"]]},
              {"stream":{"app":"nginx","detected_level":"unknown","namespace":"jewelry-shop","service_name":"nginx"},"values":[["{{{Ts(3)}}}","POST /checkout 200 150ms"]]}
            ]}}
            """), WithoutStats(body));
    }

    [Fact]
    public async Task A_forward_query_with_a_filter_and_parser_uses_categorized_labels_when_asked()
    {
        var query = Uri.EscapeDataString("{app=\"django\"} | json | status >= 500");

        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={query}&{Range}&direction=forward",
            ("X-Loki-Response-Encoding-Flags", "categorize-labels"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[
              {"stream":{"app":"django","namespace":"jewelry-shop","service_name":"django"},"values":[
                ["{{{Ts(4)}}}","{\"level\":\"error\",\"msg\":\"payment declined\",\"status\":502}",
                 {"structuredMetadata":{"detected_level":"error"},"parsed":{"level":"error","msg":"payment declined","status":"502"}}]]}
            ]}}
            """), WithoutStats(body));
    }

    [Fact]
    public async Task Line_filters_and_structured_metadata_are_applied()
    {
        var query = Uri.EscapeDataString("{app=\"nginx\"} |= \"GET\" | trace_id=\"t-2\"");

        var (_, body) = await GetAsync($"/loki/api/v1/query_range?query={query}&{Range}");

        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"nginx","detected_level":"unknown","namespace":"jewelry-shop","service_name":"nginx","trace_id":"t-2"},"values":[["{{{Ts(2)}}}","GET /cart 500 80ms"]]}
            ]}}
            """), WithoutStats(body));
    }

    [Fact]
    public async Task Labels_values_and_series_list_what_was_pushed()
    {
        var labels = await GetAsync($"/loki/api/v1/labels?{Range}");
        var values = await GetAsync($"/loki/api/v1/label/app/values?{Range}");
        var series = await GetAsync($"/loki/api/v1/series?match[]={Uri.EscapeDataString("{app=\"nginx\"}")}&{Range}");
        var legacy = await GetAsync($"/api/prom/label/app/values?{Range}");
        var none = await GetAsync($"/loki/api/v1/label/nosuch/values?{Range}");

        Assert.Equal("""{"status":"success","data":["app","namespace","service_name"]}""", labels.Body);
        Assert.Equal("""{"status":"success","data":["django","nginx"]}""", values.Body);
        Assert.Equal("""{"status":"success","data":[{"app":"nginx","namespace":"jewelry-shop","service_name":"nginx"}]}""", series.Body);
        Assert.Equal("""{"values":["django","nginx"]}""", legacy.Body);
        Assert.Equal("""{"status":"success"}""", none.Body);
    }

    [Fact]
    public async Task Index_stats_and_volume_count_the_pushed_bytes()
    {
        var stats = await GetAsync($"/loki/api/v1/index/stats?query={Uri.EscapeDataString("{app=\"nginx\"}")}&{Range}");
        var (_, volume) = await GetAsync($"/loki/api/v1/index/volume?query={Uri.EscapeDataString("{namespace=\"jewelry-shop\"}")}&{Range}&targetLabels=app");

        using var statsJson = JsonDocument.Parse(stats.Body);
        Assert.Equal(1, statsJson.RootElement.GetProperty("streams").GetInt32());
        Assert.Equal(3, statsJson.RootElement.GetProperty("entries").GetInt32());
        var result = JsonNode.Parse(volume)!["data"]!["result"]!.AsArray();
        Assert.Equal(["django", "nginx"], result.Select(r => r!["metric"]!["app"]!.GetValue<string>()).Order());
    }

    [Theory]
    [InlineData("/loki/api/v1/query_range?query=%7Bapp%3D%22nginx%22&start=1&end=2", "parse error at line 1, col 13: syntax error: unexpected $end, expecting } or ,\n")]
    [InlineData("/loki/api/v1/query_range?query=%7Bapp%3D%22nginx%22%7D&start=10&end=1", "end timestamp must not be before or equal to start time\n")]
    [InlineData("/loki/api/v1/query_range?query=%7Bapp%3D%22nginx%22%7D&limit=6000", "max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)\n")]
    [InlineData("/loki/api/v1/query_range?query=%7Bapp%3D~%22.*%22%7D",
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. " +
        "For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will\n")]
    [InlineData("/loki/api/v1/query?query=%7Bapp%3D%22nginx%22%7D", "log queries are not supported as an instant query type, please change your query to a range query type\n")]
    [InlineData("/loki/api/v1/query_range?query=%7Bapp%3D%22nginx%22%7D&start=1600000000&end=1700000000", "the query time range exceeds the limit (query length: 27777h46m40s, limit: 30d1h)\n")]
    [InlineData("/api/prom/query?query=count_over_time(%7Bapp%3D%22nginx%22%7D%5B1m%5D)", "legacy endpoints only support streams result type\n")]
    public async Task Bad_queries_get_400_with_Lokis_text(string path, string expected)
    {
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Format_query_prints_the_canonical_form_or_a_json_error()
    {
        var ok = await GetAsync("/loki/api/v1/format_query?query=" + Uri.EscapeDataString("{app=\"nginx\"}|=\"GET\""));
        var bad = await GetAsync("/loki/api/v1/format_query?query=" + Uri.EscapeDataString("{app="));

        Assert.Equal("""{"status":"success","data":"{app=\"nginx\"} |= \"GET\""}""", ok.Body);
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.StartsWith("""{"status":"invalid-query","error":"parse error at line 1""", bad.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_form_bodies_work_like_query_strings()
    {
        using var content = new FormUrlEncodedContent([
            new KeyValuePair<string, string>("query", "{app=\"nginx\"} |= \"checkout\""),
            new KeyValuePair<string, string>("start", _base.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>("end", (_base + 10_000_000_000L).ToString(CultureInfo.InvariantCulture)),
        ]);

        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/query_range", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("POST /checkout 200 150ms", body, StringComparison.Ordinal);
        Assert.DoesNotContain("/rings", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Legacy_query_answers_in_the_old_shape_with_rfc3339_times()
    {
        var (_, body) = await GetAsync($"/api/prom/query?query={Uri.EscapeDataString("{app=\"nginx\"}")}&regexp=checkout&{Range}");

        var node = JsonNode.Parse(body)!;
        var stream = Assert.Single(node["streams"]!.AsArray())!;
        Assert.Equal("{app=\"nginx\", detected_level=\"unknown\", namespace=\"jewelry-shop\", service_name=\"nginx\"}", stream["labels"]!.GetValue<string>());
        var entry = Assert.Single(stream["entries"]!.AsArray())!;
        Assert.Equal("POST /checkout 200 150ms", entry["line"]!.GetValue<string>());
        Assert.EndsWith("Z", entry["ts"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

/// <summary>Metric queries over HTTP against pushed data, and Grafana's health check.</summary>
public sealed class MetricQueryTests : IAsyncLifetime
{
    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60 - 600) * 1_000_000_000;
        var values = string.Join(",", Enumerable.Range(0, 6).Select(i =>
            $$"""["{{_base + (i * 30_000_000_000L)}}","level={{(i % 3 == 0 ? "error" : "info")}} duration={{i + 1}}s"]"""));
        var body = $$"""{"streams":[{"stream":{"app":"celery-worker","pod":"w-1"},"values":[{{values}}]},""" +
            $$"""{"stream":{"app":"celery-worker","pod":"w-2"},"values":[["{{_base}}","level=info duration=10s"]]}]}""";
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonNode> DataAsync(string path)
    {
        var body = await _server.Http.GetStringAsync(new Uri(path, UriKind.Relative));
        return JsonNode.Parse(body)!["data"]!;
    }

    [Fact]
    public async Task Grafanas_health_check_answers_two()
    {
        var data = await DataAsync("/loki/api/v1/query?query=" + Uri.EscapeDataString("vector(1)+vector(1)") + "&direction=backward&time=4000000000");

        Assert.Equal("""{"resultType":"vector","result":[{"metric":{},"value":[4000000000,"2"]}]}""", WithoutStats(data));
    }

    [Fact]
    public async Task An_instant_count_groups_by_label()
    {
        var time = _base + 180_000_000_000L;
        var data = await DataAsync("/loki/api/v1/query?query=" + Uri.EscapeDataString("sum by (pod) (count_over_time({app=\"celery-worker\"}[5m]))") + $"&time={time}");

        var seconds = (time / 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        Assert.Equal($$"""{"resultType":"vector","result":[{"metric":{"pod":"w-1"},"value":[{{seconds}},"6"]},{"metric":{"pod":"w-2"},"value":[{{seconds}},"1"]}]}""", WithoutStats(data));
    }

    [Fact]
    public async Task A_range_query_steps_and_unwraps_durations()
    {
        var start = _base + 60_000_000_000L;
        var end = _base + 120_000_000_000L;
        var data = await DataAsync("/loki/api/v1/query_range?query=" + Uri.EscapeDataString("max_over_time({pod=\"w-1\"} | logfmt | unwrap duration(duration) [1m]) by (pod)")
            + $"&start={start}&end={end}&step=60");

        var series = Assert.Single(data["result"]!.AsArray())!;
        Assert.Equal("matrix", data["resultType"]!.GetValue<string>());
        var points = series["values"]!.AsArray().Select(p => (p![0]!.GetValue<long>(), p[1]!.GetValue<string>())).ToList();
        Assert.Equal([(start / 1_000_000_000, "3"), (end / 1_000_000_000, "5")], points);
    }

    [Fact]
    public async Task Too_many_series_is_a_400_with_Lokis_text()
    {
        await using var server = await LokiProcess.StartAsync("""
            auth_enabled: false
            server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
            common: {path_prefix: ${DATA}}
            schema_config:
              configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
            limits_config: {max_query_series: 1}
            """);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        using var push = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(
            $$"""{"streams":[{"stream":{"pod":"a"},"values":[["{{ts}}","x"]]},{"stream":{"pod":"b"},"values":[["{{ts}}","y"]]}]}""",
            Encoding.UTF8, "application/json"));

        using var response = await server.Http.GetAsync(new Uri("/loki/api/v1/query?query=" + Uri.EscapeDataString("count_over_time({pod=~\"a|b\"}[5m])"), UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("maximum number of series (1) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, " +
            "reducing the time range, or aggregating results with functions like sum(), count() or topk()\n",
            await response.Content.ReadAsStringAsync());
    }

    private static string WithoutStats(JsonNode data)
    {
        var copy = JsonNode.Parse(data.ToJsonString())!.AsObject();
        copy.Remove("stats");
        return copy.ToJsonString();
    }
}
