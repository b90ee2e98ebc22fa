using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// <c>limits_config.max_query_memory_bytes</c> over HTTP: queries that would hold more than the limit (a
/// fine-grained matrix over many series that would take gigabytes, many large lines) get a 400 naming the limit, ordinary queries under the same limit
/// succeed, and the server goes on serving.
/// </summary>
public sealed class QueryMemoryLimitTests
{
    private const string Config = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        limits_config:
          max_query_memory_bytes: 4MB
          max_query_series: 5000
          ingestion_rate_mb: 100
          ingestion_burst_size_mb: 200
          per_stream_rate_limit: 100MB
          per_stream_rate_limit_burst: 200MB
        """;

    private const string Refusal =
        "the query would use too much memory (limit: 4MB, max_query_memory_bytes); consider adding more specific stream selectors, reducing the time range or the limit, or increasing the step\n";

    [Fact]
    public async Task Queries_past_the_memory_limit_get_a_400_naming_it_and_others_succeed()
    {
        await using var server = await LokiProcess.StartAsync(Config);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var first = now - 3600;

        // 3,000 streams with a line every 50 minutes over the last three hours, and one stream of 3,000 lines of 2 KB.
        var streams = Enumerable.Range(0, 3000).Select(s =>
            $$"""{"stream":{"app":"mem","pod":"pod-{{s}}"},"values":[{{string.Join(",", Enumerable.Range(0, 4).Select(i => $"[\"{Ns(now - 10_790 + (i * 3000))}\",\"tick {i}\"]"))}}]}""");
        await PushAsync(server, $$"""{"streams":[{{string.Join(",", streams)}}]}""");
        var pad = new string('x', 2000);
        for (var batch = 0; batch < 3; batch++)
        {
            var values = string.Join(",", Enumerable.Range(batch * 1000, 1000).Select(i => $"[\"{((first * 1_000_000_000L) + i).ToString(CultureInfo.InvariantCulture)}\",\"big {i} {pad}\"]"));
            await PushAsync(server, $$"""{"streams":[{"stream":{"app":"big"},"values":[{{values}}]}]}""");
        }

        // Series × steps: 3,000 series with a value at every 1 s step over three hours would be 32 million points,
        // about 1.5 GB held as lists of points and written as JSON.
        var matrix = Uri.EscapeDataString("count_over_time({app=\"mem\"}[1h])");
        var range = $"start={now - (3 * 3600)}&end={now}";
        var (status, body) = await GetAsync(server, $"/loki/api/v1/query_range?query={matrix}&{range}&step=1");
        Assert.Equal((HttpStatusCode.BadRequest, Refusal), (status, body));

        // Lines: 3,000 lines of 2 KB held as strings and then JSON.
        var big = Uri.EscapeDataString("{app=\"big\"}");
        (status, body) = await GetAsync(server, $"/loki/api/v1/query_range?query={big}&{range}&limit=5000");
        Assert.Equal((HttpStatusCode.BadRequest, Refusal), (status, body));

        // The same data asked for sensibly is answered under the same limit.
        (status, body) = await GetAsync(server, $"/loki/api/v1/query_range?query={Uri.EscapeDataString("sum(count_over_time({app=\"mem\"}[1h]))")}&{range}&step=60");
        Assert.Equal(HttpStatusCode.OK, status);
        var points = JsonNode.Parse(body)!["data"]!["result"]![0]!["values"]!.AsArray();
        Assert.Equal("3000", points[^1]![1]!.GetValue<string>());
        (status, body) = await GetAsync(server, $"/loki/api/v1/query_range?query={big}&{range}&limit=100");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(100, JsonNode.Parse(body)!["data"]!["result"]![0]!["values"]!.AsArray().Count);

        using var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static string Ns(long seconds) => (seconds * 1_000_000_000L).ToString(CultureInfo.InvariantCulture);

    private static async Task PushAsync(LokiProcess server, string body)
    {
        using var response = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(LokiProcess server, string pathAndQuery)
    {
        using var response = await server.Http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
