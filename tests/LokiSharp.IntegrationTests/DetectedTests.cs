using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>Logs Drilldown's endpoints over HTTP after pushing a known dataset: exact JSON.</summary>
public sealed class DetectedTests : IAsyncLifetime
{
    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
        var body = $$"""
            {"streams":[
              {"stream":{"app":"api","namespace":"shop","pod":"api-1"},"values":[
                ["{{Ts(1)}}","{\"status\":200,\"took\":\"15ms\",\"user\":{\"id\":\"u1\"},\"ok\":true}",{"trace_id":"t1"}],
                ["{{Ts(2)}}","{\"status\":500,\"took\":\"1.5s\",\"user\":{\"id\":\"u2\"},\"ok\":false}",{"trace_id":"t2"}]]},
              {"stream":{"app":"web","namespace":"shop","pod":"web-1"},"values":[
                ["{{Ts(3)}}","level=info size=10KB ratio=0.5"],
                ["{{Ts(4)}}","level=warn size=2MB ratio=1.25"]]},
              {"stream":{"app":"web","namespace":"shop","pod":"web-2","request_id":"17"},"values":[["{{Ts(5)}}","plain text"]]}
            ]}
            """;
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Ts(int second) => (_base + (second * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture);

    private string Range => $"start={_base}&end={_base + 10_000_000_000L}";

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string pathAndQuery)
    {
        using var response = await _server.Http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    [Fact]
    public async Task Detected_labels_count_values_and_leave_out_id_labels()
    {
        var (status, body) = await GetAsync($"/loki/api/v1/detected_labels?{Range}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Compact("""
            {"detectedLabels":[{"label":"app","cardinality":2},{"label":"namespace","cardinality":1},{"label":"pod","cardinality":3},{"label":"service_name","cardinality":2}]}
            """), Compact(body));

        var (_, filtered) = await GetAsync($"/loki/api/v1/detected_labels?{Range}&query={Uri.EscapeDataString("{app=\"api\"}")}");
        Assert.Equal(Compact("""
            {"detectedLabels":[{"label":"app","cardinality":1},{"label":"namespace","cardinality":1},{"label":"pod","cardinality":1},{"label":"service_name","cardinality":1}]}
            """), Compact(filtered));

        var (_, empty) = await GetAsync($"/loki/api/v1/detected_labels?{Range}&query={Uri.EscapeDataString("{app=\"none\"}")}");
        Assert.Equal("{}", empty);
    }

    [Fact]
    public async Task Detected_fields_report_types_parsers_and_json_paths()
    {
        var (status, body) = await GetAsync($"/loki/api/v1/detected_fields?{Range}&query={Uri.EscapeDataString("{namespace=\"shop\"}")}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Compact("""
            {"fields":[
              {"label":"detected_level","type":"string","cardinality":3,"parsers":null},
              {"label":"level","type":"string","cardinality":2,"parsers":["logfmt"]},
              {"label":"ok","type":"boolean","cardinality":2,"parsers":["json"],"jsonPath":["ok"]},
              {"label":"ratio","type":"float","cardinality":2,"parsers":["logfmt"]},
              {"label":"size","type":"bytes","cardinality":2,"parsers":["logfmt"]},
              {"label":"status","type":"int","cardinality":2,"parsers":["json"],"jsonPath":["status"]},
              {"label":"took","type":"duration","cardinality":2,"parsers":["json"],"jsonPath":["took"]},
              {"label":"trace_id","type":"string","cardinality":2,"parsers":null},
              {"label":"user_id","type":"string","cardinality":2,"parsers":["json"],"jsonPath":["user","id"]}
            ],"limit":1000}
            """), Compact(body));
    }

    [Fact]
    public async Task Detected_field_values_are_distinct_and_bytes_are_normalised()
    {
        var query = Uri.EscapeDataString("{app=\"web\"}");
        var (_, sizes) = await GetAsync($"/loki/api/v1/detected_field/size/values?{Range}&query={query}");
        Assert.Equal("""{"values":["10kB","2.0MB"],"limit":1000}""", sizes);

        var (_, limited) = await GetAsync($"/loki/api/v1/detected_field/level/values?{Range}&query={query}&limit=1");
        Assert.Single(JsonNode.Parse(limited)!["values"]!.AsArray());

        var (_, none) = await GetAsync($"/loki/api/v1/detected_field/nothing/values?{Range}&query={query}");
        Assert.Equal("{}", none);

        var (status, error) = await GetAsync($"/loki/api/v1/detected_fields?{Range}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("parse error", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drilldown_limits_and_tenant_limits_serialise_limits_config()
    {
        var (status, body) = await GetAsync("/loki/api/v1/drilldown-limits");
        Assert.Equal(HttpStatusCode.OK, status);
        var node = JsonNode.Parse(body)!;
        Assert.Equal(5000, node["limits"]!["max_entries_limit_per_query"]!.GetValue<int>());
        Assert.Equal(10, node["limits"]!["max_concurrent_tail_requests"]!.GetValue<int>());
        Assert.True(node["pattern_ingester_enabled"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(node["version"]!.GetValue<string>()));

        var (yamlStatus, yaml) = await GetAsync("/config/tenant/v1/limits");
        Assert.Equal(HttpStatusCode.OK, yamlStatus);
        Assert.Contains("max_entries_limit_per_query: 5000\n", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_responses_are_gzipped_when_the_client_accepts_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/loki/api/v1/detected_labels?{Range}", UriKind.Relative));
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        await using var gzip = new System.IO.Compression.GZipStream(await response.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        Assert.Contains("detectedLabels", await reader.ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patterns_group_similar_lines_with_counts_per_step()
    {
        var (status, body) = await GetAsync($"/loki/api/v1/patterns?{Range}&step=10s&query={Uri.EscapeDataString("{app=\"web\"}")}");
        Assert.Equal(HttpStatusCode.OK, status);
        long StepOf(int second) => ((_base / 1_000_000_000L) + second) / 10 * 10;
        Assert.Equal(Compact($$"""
            {"status":"success","data":[
              {"pattern":"level=info <_> <_>","level":"info","samples":[[{{StepOf(3)}},1]]},
              {"pattern":"level=warn <_> <_>","level":"warn","samples":[[{{StepOf(4)}},1]]},
              {"pattern":"plain text","level":"unknown","samples":[[{{StepOf(5)}},1]]}
            ]}
            """), Compact(body));

        var (_, empty) = await GetAsync($"/loki/api/v1/patterns?{Range}&query={Uri.EscapeDataString("{app=\"none\"}")}");
        Assert.Equal("""{"status":"success","data":[]}""", empty);
    }
}
