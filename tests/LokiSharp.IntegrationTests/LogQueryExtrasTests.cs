using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>LokiSharp's opt-in log query parameters over HTTP: the pagination cursor and context lines.</summary>
public sealed class LogQueryExtrasTests : IAsyncLifetime
{
    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 300) * 1_000_000_000;

        // Many entries share timestamps, within a stream and across streams, so a page boundary falls inside them.
        var body = $$"""
            {"streams":[
              {"stream":{"app":"api","pod":"p1"},"values":[
                ["{{Ts(1)}}","p1 a match"],["{{Ts(1)}}","p1 b"],["{{Ts(1)}}","p1 c match"],
                ["{{Ts(2)}}","p1 d"],
                ["{{Ts(3)}}","p1 e match"],["{{Ts(3)}}","p1 f match"],["{{Ts(3)}}","p1 g"],["{{Ts(3)}}","p1 h match"],
                ["{{Ts(5)}}","p1 i"]]},
              {"stream":{"app":"api","pod":"p2"},"values":[
                ["{{Ts(1)}}","p2 a"],["{{Ts(1)}}","p2 b match"],
                ["{{Ts(3)}}","p2 c match"],["{{Ts(3)}}","p2 d"],
                ["{{Ts(4)}}","p2 e match"]]},
              {"stream":{"app":"ctx"},"values":[
                ["{{Ts(1)}}","l1"],["{{Ts(2)}}","l2"],["{{Ts(3)}}","l3"],["{{Ts(4)}}","l4 match"],["{{Ts(5)}}","l5"],
                ["{{Ts(6)}}","l6"],["{{Ts(7)}}","l7"],["{{Ts(8)}}","l8 match"],["{{Ts(9)}}","l9"],["{{Ts(10)}}","l10"]]}
            ]}
            """;
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Ts(int second) => (_base + (second * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture);

    private string Range => $"start={_base}&end={_base + 20_000_000_000L}";

    [Theory]
    [InlineData("{app=\"api\"}", "backward", 1)]
    [InlineData("{app=\"api\"}", "backward", 2)]
    [InlineData("{app=\"api\"}", "forward", 3)]
    [InlineData("{app=\"api\"} |= \"match\"", "backward", 2)]
    [InlineData("{app=\"api\"} |= \"match\"", "forward", 4)]
    public async Task Cursor_pages_concatenate_to_the_unpaged_answer(string query, string direction, int limit)
    {
        var full = await GetAsync($"query={Uri.EscapeDataString(query)}&{Range}&direction={direction}&limit=1000");
        var total = Streams(full).Sum(s => s.Value.Count);

        var paged = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
        var cursor = "";
        var pages = 0;
        while (true)
        {
            var page = await GetAsync($"query={Uri.EscapeDataString(query)}&{Range}&direction={direction}&limit={limit}&cursor={Uri.EscapeDataString(cursor)}");
            pages++;
            var entries = 0;
            foreach (var (stream, values) in Streams(page))
            {
                entries += values.Count;
                if (!paged.TryGetValue(stream, out var all))
                {
                    paged[stream] = all = [];
                }

                foreach (var value in values)
                {
                    all.Add(value!.DeepClone());
                }
            }

            Assert.True(entries <= limit);
            var next = JsonNode.Parse(page)!["data"]!["cursor"];
            if (next is null)
            {
                break;
            }

            Assert.Equal(limit, entries);
            cursor = next.GetValue<string>();
            Assert.True(pages <= total + 1, "the cursor must make progress");
        }

        Assert.False(JsonNode.Parse(full)!["data"]!.AsObject().ContainsKey("cursor"));
        Assert.InRange(pages, (total + limit - 1) / limit, (total / limit) + 1);
        Assert.Equal(Streams(full).Keys.Order(StringComparer.Ordinal), paged.Keys.Order(StringComparer.Ordinal));
        foreach (var (stream, values) in Streams(full))
        {
            Assert.Equal(values.ToJsonString(), paged[stream].ToJsonString());
        }
    }

    [Fact]
    public async Task The_last_page_says_so_with_a_null_cursor()
    {
        var body = await GetAsync($"query={Uri.EscapeDataString("{app=\"api\", pod=\"p2\"}")}&{Range}&limit=10&cursor=");

        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"api","detected_level":"unknown","pod":"p2","service_name":"api"},"values":[
                ["{{{Ts(4)}}}","p2 e match"],["{{{Ts(3)}}}","p2 d"],["{{{Ts(3)}}}","p2 c match"],["{{{Ts(1)}}}","p2 b match"],["{{{Ts(1)}}}","p2 a"]]}
            ],"cursor":null}}
            """), WithoutStats(body));
    }

    [Fact]
    public async Task Bad_cursors_and_combinations_are_rejected()
    {
        var query = Uri.EscapeDataString("{app=\"api\"}");

        var bad = await SendAsync($"query={query}&{Range}&cursor=nonsense");
        var withInterval = await SendAsync($"query={query}&{Range}&cursor=&interval=1s");
        var withContext = await SendAsync($"query={query}&{Range}&cursor=&context=1");

        Assert.Equal((HttpStatusCode.BadRequest, "invalid cursor \"nonsense\""), bad);
        Assert.Equal((HttpStatusCode.BadRequest, "cursor cannot be combined with interval"), withInterval);
        Assert.Equal((HttpStatusCode.BadRequest, "cursor cannot be combined with context lines"), withContext);
    }

    [Fact]
    public async Task Context_lines_surround_each_match_forward()
    {
        var body = await GetAsync($"query={Uri.EscapeDataString("{app=\"ctx\"} |= \"match\"")}&{Range}&direction=forward&context=1");

        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"ctx","detected_level":"unknown","service_name":"ctx"},"values":[
                ["{{{Ts(3)}}}","l3"],["{{{Ts(4)}}}","l4 match"],["{{{Ts(5)}}}","l5"],
                ["{{{Ts(7)}}}","l7"],["{{{Ts(8)}}}","l8 match"],["{{{Ts(9)}}}","l9"]]}
            ]}}
            """), WithoutStats(body));
    }

    [Fact]
    public async Task Context_before_going_backward_takes_older_lines_and_overlaps_are_written_once()
    {
        var query = Uri.EscapeDataString("{app=\"ctx\"} |= \"match\"");

        var before = await GetAsync($"query={query}&{Range}&context_before=2&context_after=0");
        var overlapping = await GetAsync($"query={query}&{Range}&direction=forward&context=2");

        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"ctx","detected_level":"unknown","service_name":"ctx"},"values":[
                ["{{{Ts(8)}}}","l8 match"],["{{{Ts(7)}}}","l7"],["{{{Ts(6)}}}","l6"],
                ["{{{Ts(4)}}}","l4 match"],["{{{Ts(3)}}}","l3"],["{{{Ts(2)}}}","l2"]]}
            ]}}
            """), WithoutStats(before));
        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"ctx","detected_level":"unknown","service_name":"ctx"},"values":[
                ["{{{Ts(2)}}}","l2"],["{{{Ts(3)}}}","l3"],["{{{Ts(4)}}}","l4 match"],["{{{Ts(5)}}}","l5"],["{{{Ts(6)}}}","l6"],
                ["{{{Ts(7)}}}","l7"],["{{{Ts(8)}}}","l8 match"],["{{{Ts(9)}}}","l9"],["{{{Ts(10)}}}","l10"]]}
            ]}}
            """), WithoutStats(overlapping));
    }

    [Fact]
    public async Task The_limit_counts_matches_and_the_last_match_keeps_its_trailing_context()
    {
        var body = await GetAsync($"query={Uri.EscapeDataString("{app=\"ctx\"} |= \"match\"")}&{Range}&direction=forward&limit=1&context_after=2");

        Assert.Equal(Compact($$$"""
            {"status":"success","data":{"resultType":"streams","result":[
              {"stream":{"app":"ctx","detected_level":"unknown","service_name":"ctx"},"values":[
                ["{{{Ts(4)}}}","l4 match"],["{{{Ts(5)}}}","l5"],["{{{Ts(6)}}}","l6"]]}
            ]}}
            """), WithoutStats(body));
    }

    private async Task<string> GetAsync(string parameters)
    {
        var (status, body) = await SendAsync(parameters);
        Assert.True(status == HttpStatusCode.OK, body);
        return body;
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(string parameters)
    {
        using var response = await _server.Http.GetAsync(new Uri("/loki/api/v1/query_range?" + parameters, UriKind.Relative));
        return (response.StatusCode, (await response.Content.ReadAsStringAsync()).TrimEnd('\n'));
    }

    // Each stream of a streams answer by its labels, with its values in answer order.
    private static Dictionary<string, JsonArray> Streams(string json)
    {
        var streams = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
        foreach (var stream in JsonNode.Parse(json)!["data"]!["result"]!.AsArray())
        {
            streams[stream!["stream"]!.ToJsonString()] = stream["values"]!.AsArray();
        }

        return streams;
    }

    private static string WithoutStats(string json)
    {
        var node = JsonNode.Parse(json)!;
        node["data"]!.AsObject().Remove("stats");
        return node.ToJsonString();
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();
}
