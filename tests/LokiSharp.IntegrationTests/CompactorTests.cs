using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>The delete API over HTTP against the real server, and its effect on queries.</summary>
public sealed class CompactorTests
{
    private const string RetentionConfig = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        compactor:
          working_directory: ${DATA}/compactor
          compaction_interval: 1s
          retention_enabled: true
          delete_request_store: filesystem
          delete_request_cancel_period: 2s
        limits_config: {retention_period: 744h}
        """;

    [Fact]
    public async Task Delete_api_is_404_without_retention()
    {
        await using var server = await LokiProcess.StartAsync(RetentionConfig.Replace("retention_enabled: true",
            "retention_enabled: false", StringComparison.Ordinal));

        using var response = await server.Http.GetAsync(new Uri("/loki/api/v1/delete", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Line_filtered_delete_hides_lines_at_once_is_processed_and_cancel_removes_a_request()
    {
        await using var server = await LokiProcess.StartAsync(RetentionConfig);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var values = string.Join(",", Enumerable.Range(0, 10).Select(i =>
            $"[\"{((now - 60) * 1_000_000_000L) + i}\",\"{(i % 2 == 0 ? "secret" : "public")} {i}\"]"));
        using (var push = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
                   new StringContent($$"""{"streams":[{"stream":{"app":"del"},"values":[{{values}}]}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.NoContent, push.StatusCode);
        }

        using (var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.True(flush.IsSuccessStatusCode);
        }

        var start = (now - 3600).ToString(CultureInfo.InvariantCulture);
        using (var bad = await server.Http.PostAsync(new Uri("/loki/api/v1/delete?start=" + start, UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("query not set", (await bad.Content.ReadAsStringAsync()).Trim());
        }

        var query = Uri.EscapeDataString("{app=\"del\"} |= \"secret\"");
        using (var create = await server.Http.PostAsync(new Uri($"/loki/api/v1/delete?query={query}&start={start}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, create.StatusCode);
            Assert.True(create.Headers.Contains("X-Delete-Request-ID"));
        }

        Assert.Equal(5, (await LinesAsync(server, now)).Count);
        Assert.All(await LinesAsync(server, now), l => Assert.StartsWith("public", l, StringComparison.Ordinal));

        // Past the 2s cancellation period, a compaction run (every 1s) applies it to the stored chunk.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string status;
        do
        {
            await Task.Delay(250);
            var list = JsonNode.Parse(await server.Http.GetStringAsync(new Uri("/loki/api/v1/delete", UriKind.Relative)))!.AsArray();
            status = Assert.Single(list)!["status"]!.GetValue<string>();
        }
        while (status != "processed" && DateTime.UtcNow < deadline);

        Assert.Equal("processed", status);
        Assert.Equal(5, (await LinesAsync(server, now)).Count);

        using (var second = await server.Http.PutAsync(new Uri($"/loki/api/v1/delete?query={Uri.EscapeDataString("{app=\"del\"}")}&start={start}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
            var id = second.Headers.GetValues("X-Delete-Request-ID").Single();
            Assert.Empty(await LinesAsync(server, now));
            using var cancel = await server.Http.DeleteAsync(new Uri("/loki/api/v1/delete?request_id=" + id, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        Assert.Equal(5, (await LinesAsync(server, now)).Count);
        using var unknown = await server.Http.DeleteAsync(new Uri("/loki/api/v1/delete?request_id=nope", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("compaction run finished", server.Output, StringComparison.Ordinal);
    }

    private static async Task<List<string>> LinesAsync(LokiProcess server, long now)
    {
        var url = "/loki/api/v1/query_range?query=" + Uri.EscapeDataString("{app=\"del\"}") +
                  $"&start={now - 3600}&end={now + 60}&limit=100";
        var body = JsonNode.Parse(await server.Http.GetStringAsync(new Uri(url, UriKind.Relative)))!;
        return body["data"]!["result"]!.AsArray()
            .SelectMany(s => s!["values"]!.AsArray().Select(v => v![1]!.GetValue<string>()))
            .ToList();
    }
}
