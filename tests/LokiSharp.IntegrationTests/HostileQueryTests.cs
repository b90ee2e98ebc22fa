using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// Queries built to hurt the server: nesting deep enough to overflow a stack, and label regexes that backtrack
/// exponentially. Every one must get Loki's status and message while the process keeps serving.
/// </summary>
public sealed class HostileQueryTests : IAsyncLifetime
{
    private const string TooDeep = "parse error : query nesting depth exceeds the limit of 256";

    // 28 "a"s and a "!": (a+)+$ backtracks through 2^28 ways of splitting the run before failing.
    private static readonly string Backtracker = new string('a', 28) + "!";

    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
        var body = $$"""
            {"streams":[
              {"stream":{"app":"shop","v":"{{Backtracker}}"},"values":[["{{Ts(1)}}","level=info msg=hello"]]},
              {"stream":{"app":"shop","v":"aaaa"},"values":[["{{Ts(2)}}","level=warn msg=bye"]]}
            ]}
            """;
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Ts(int second) => (_base + (second * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture);

    private string Start => _base.ToString(CultureInfo.InvariantCulture);

    private string End => (_base + 10_000_000_000L).ToString(CultureInfo.InvariantCulture);

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    public static TheoryData<string> DeepQueries() => ["sums", "additions", "parentheses", "operatorChain", "orChain", "commaChain"];

    // Each under the 128 KiB query limit, each far beyond the nesting limit.
    private static string DeepQuery(string name) => name switch
    {
        "sums" => Repeat("sum(", 6000) + "rate({app=\"shop\"}[1m])" + new string(')', 6000),
        "additions" => Repeat("1 + (", 6000) + "vector(1)" + new string(')', 6000),
        "parentheses" => new string('(', 15000) + "{app=\"shop\"}" + new string(')', 15000),
        "operatorChain" => Repeat("vector(1)+", 12000) + "vector(1)",
        "orChain" => "{app=\"shop\"} | logfmt | " + string.Join(" or ", Enumerable.Repeat("level=\"x\"", 10000)),
        "commaChain" => "{app=\"shop\"} | logfmt | " + string.Join(", ", Enumerable.Repeat("level=\"x\"", 10000)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private async Task<(HttpStatusCode Status, string Body)> PostFormAsync(string path, params (string Name, string Value)[] fields)
    {
        using var content = new FormUrlEncodedContent(fields.Select(static f => new KeyValuePair<string, string>(f.Name, f.Value)));
        using var response = await _server.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string pathAndQuery)
    {
        using var response = await _server.Http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task AssertAliveAsync()
    {
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/ready")).Status);
        var (status, body) = await PostFormAsync("/loki/api/v1/query_range",
            ("query", "sum(count_over_time({app=\"shop\"}[1m]))"), ("start", Start), ("end", End), ("step", "1"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"resultType\":\"matrix\"", body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DeepQueries))]
    public async Task Deep_queries_are_refused_with_400_by_the_query_endpoints(string name)
    {
        var query = DeepQuery(name);
        foreach (var path in new[] { "/loki/api/v1/query_range", "/loki/api/v1/query", "/api/prom/query" })
        {
            var (status, body) = await PostFormAsync(path, ("query", query), ("start", Start), ("end", End), ("time", End));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(TooDeep + "\n", body);
        }

        var (formatStatus, formatted) = await PostFormAsync("/loki/api/v1/format_query", ("query", query));
        Assert.Equal(HttpStatusCode.BadRequest, formatStatus);
        Assert.Equal("invalid-query", JsonNode.Parse(formatted)!["status"]!.GetValue<string>());
        Assert.Equal(TooDeep, JsonNode.Parse(formatted)!["error"]!.GetValue<string>());

        await AssertAliveAsync();
    }

    [Theory]
    [MemberData(nameof(DeepQueries))]
    public async Task Deep_queries_are_refused_with_400_by_tail_detected_patterns_and_index_endpoints(string name)
    {
        var query = DeepQuery(name);
        foreach (var path in new[]
        {
            "/loki/api/v1/tail", "/api/prom/tail", "/loki/api/v1/detected_fields", "/loki/api/v1/detected_field/level/values",
            "/loki/api/v1/detected_labels", "/loki/api/v1/patterns", "/loki/api/v1/index/stats", "/loki/api/v1/index/volume",
            "/loki/api/v1/index/volume_range", "/loki/api/v1/labels", "/loki/api/v1/label/app/values",
        })
        {
            var (status, body) = await PostFormAsync(path, ("query", query), ("start", Start), ("end", End));
            Assert.True(status == HttpStatusCode.BadRequest, path + " answered " + status + ": " + body);
            Assert.Equal(TooDeep + "\n", body);
        }

        var (seriesStatus, series) = await PostFormAsync("/loki/api/v1/series", ("match[]", query), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.BadRequest, seriesStatus);
        Assert.Equal(TooDeep + "\n", series);

        await AssertAliveAsync();
    }

    [Fact]
    public async Task Deep_queries_in_the_url_are_refused_too()
    {
        // The URL has room for fewer levels than a body, still far more than the limit.
        var deep = Uri.EscapeDataString(new string('(', 1000) + "{app=\"shop\"}" + new string(')', 1000));
        foreach (var path in new[] { "/loki/api/v1/query_range", "/loki/api/v1/query", "/loki/api/v1/format_query" })
        {
            var (status, body) = await GetAsync($"{path}?query={deep}&start={Start}&end={End}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains(TooDeep, body, StringComparison.Ordinal);
        }

        var (seriesStatus, series) = await GetAsync($"/loki/api/v1/series?match[]={deep}&start={Start}&end={End}");
        Assert.Equal(HttpStatusCode.BadRequest, seriesStatus);
        Assert.Equal(TooDeep + "\n", series);
        await AssertAliveAsync();
    }

    [Fact]
    public async Task A_deep_delete_request_query_is_refused_with_400()
    {
        const string retentionConfig = """
            auth_enabled: false
            server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
            common: {path_prefix: ${DATA}}
            schema_config:
              configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
            compactor: {working_directory: "${DATA}/compactor", retention_enabled: true, delete_request_store: filesystem}
            limits_config: {retention_period: 744h}
            """;
        await using var server = await LokiProcess.StartAsync(retentionConfig);
        var deep = Uri.EscapeDataString(new string('(', 1000) + "{app=\"shop\"}" + new string(')', 1000));
        using var response = await server.Http.PostAsync(new Uri($"/loki/api/v1/delete?query={deep}&start={_base / 1_000_000_000}", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(TooDeep + "\n", await response.Content.ReadAsStringAsync());
        using var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var list = await server.Http.GetAsync(new Uri("/loki/api/v1/delete", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public async Task Nesting_at_the_limit_still_answers()
    {
        var query = Repeat("sum(", 254) + "count_over_time({app=\"shop\"}[1m])" + new string(')', 254);
        var (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", query), ("start", Start), ("end", End), ("step", "1"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"resultType\":\"matrix\"", body, StringComparison.Ordinal);

        var (formatStatus, _) = await PostFormAsync("/loki/api/v1/format_query", ("query", query));
        Assert.Equal(HttpStatusCode.OK, formatStatus);
    }

    [Fact]
    public async Task Deeply_nested_templates_are_refused_with_400()
    {
        var query = "{app=\"shop\"} | line_format `" + Repeat("{{if 1}}", 8000) + "x" + Repeat("{{end}}", 8000) + "`";
        var (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", query), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.EndsWith("invalid line template: template: line:1: max expression depth exceeded\n", body, StringComparison.Ordinal);

        query = "{app=\"shop\"} | label_format x=`{{" + new string('(', 30000) + "1" + new string(')', 30000) + "}}`";
        (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", query), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.EndsWith("invalid template for label 'x': template: label:1: max expression depth exceeded\n", body, StringComparison.Ordinal);
        await AssertAliveAsync();
    }

    [Fact]
    public async Task Backtracking_label_regexes_answer_at_once_on_query_series_and_label_values()
    {
        var selector = "{v=~\"(a+)+$\"}";

        var (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", selector), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.OK, status);
        var result = JsonNode.Parse(body)!["data"]!["result"]!.AsArray();
        var stream = Assert.Single(result)!;
        Assert.Equal("aaaa", stream["stream"]!["v"]!.GetValue<string>());

        (status, body) = await GetAsync($"/loki/api/v1/series?match[]={Uri.EscapeDataString(selector)}&start={Start}&end={End}");
        Assert.Equal(HttpStatusCode.OK, status);
        var series = JsonNode.Parse(body)!["data"]!.AsArray();
        Assert.Equal("aaaa", Assert.Single(series)!["v"]!.GetValue<string>());

        (status, body) = await GetAsync($"/loki/api/v1/label/v/values?query={Uri.EscapeDataString(selector)}&start={Start}&end={End}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"status":"success","data":["aaaa"]}""", body);

        // Only the hostile value: every answer is empty.
        var onlyHostile = "{v=~\"(a+)+$\", app=\"shop\", v!=\"aaaa\"}";
        (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", onlyHostile), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(JsonNode.Parse(body)!["data"]!["result"]!.AsArray());
        (status, body) = await GetAsync($"/loki/api/v1/series?match[]={Uri.EscapeDataString(onlyHostile)}&start={Start}&end={End}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"status":"success","data":[]}""", body);
        (status, body) = await GetAsync($"/loki/api/v1/label/v/values?query={Uri.EscapeDataString(onlyHostile)}&start={Start}&end={End}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"status":"success"}""", body);

        // The negation keeps the hostile stream.
        (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", "{app=\"shop\", v!~\"(a+)+$\"}"), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Backtracker, Assert.Single(JsonNode.Parse(body)!["data"]!["result"]!.AsArray())!["stream"]!["v"]!.GetValue<string>());
        await AssertAliveAsync();
    }

    [Theory]
    [InlineData("{v=~\"(?=a)a+\"}", "parse error : error parsing regexp: invalid or unsupported Perl syntax: `(?=`\n")]
    [InlineData("{v=~\"(a)\\\\1\"}", "parse error : error parsing regexp: invalid escape sequence: `\\1`\n")]
    public async Task Regex_constructs_re2_refuses_are_a_400_parse_error(string selector, string error)
    {
        var (status, body) = await PostFormAsync("/loki/api/v1/query_range", ("query", selector), ("start", Start), ("end", End));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(error, body);
        (status, body) = await GetAsync($"/loki/api/v1/series?match[]={Uri.EscapeDataString(selector)}&start={Start}&end={End}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(error, body);
        await AssertAliveAsync();
    }
}
