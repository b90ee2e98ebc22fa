using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>Loki's multi-tenant queries: <c>X-Scope-OrgID: a|b</c> with <c>querier.multi_tenant_queries_enabled</c>.</summary>
public sealed class MultiTenantQueryTests
{
    private const string Config = """
        auth_enabled: true
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        querier:
          multi_tenant_queries_enabled: true
        """;

    [Fact]
    public async Task Streams_of_every_tenant_carry_their_tenant_and_can_be_selected_by_it()
    {
        await using var server = await LokiProcess.StartAsync(Config);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await PushAsync(server, "shop-a", now - 20, "from a");
        await PushAsync(server, "shop-b", now - 10, "from b");

        var both = await GetAsync(server, "shop-b|shop-a", $"/loki/api/v1/query_range?query={Q("{app=\"mt\"}")}&start={now - 60}&end={now}");
        var streams = both["data"]!["result"]!.AsArray().Select(s => s!["stream"]!["__tenant_id__"]!.GetValue<string>() + ":" + s["values"]![0]![1]!.GetValue<string>());
        Assert.Equal(["shop-a:from a", "shop-b:from b"], streams.Order(StringComparer.Ordinal));

        var onlyB = await GetAsync(server, "shop-a|shop-b", $"/loki/api/v1/query_range?query={Q("{app=\"mt\", __tenant_id__=\"shop-b\"}")}&start={now - 60}&end={now}");
        Assert.Equal("from b", Assert.Single(onlyB["data"]!["result"]!.AsArray())!["values"]![0]![1]!.GetValue<string>());

        var counts = await GetAsync(server, "shop-a|shop-b", $"/loki/api/v1/query?query={Q("sum by (__tenant_id__) (count_over_time({app=\"mt\"}[1m]))")}&time={now}");
        Assert.Equal(["shop-a", "shop-b"], counts["data"]!["result"]!.AsArray().Select(r => r!["metric"]!["__tenant_id__"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        var values = await GetAsync(server, "shop-a|shop-b", $"/loki/api/v1/label/__tenant_id__/values?start={now - 60}&end={now}");
        Assert.Equal(["shop-a", "shop-b"], values["data"]!.AsArray().Select(v => v!.GetValue<string>()));

        // One tenant alone sees only its own data, without the label.
        var single = await GetAsync(server, "shop-a", $"/loki/api/v1/query_range?query={Q("{app=\"mt\"}")}&start={now - 60}&end={now}");
        Assert.Null(Assert.Single(single["data"]!["result"]!.AsArray())!["stream"]!["__tenant_id__"]);
    }

    [Fact]
    public async Task Without_the_setting_several_tenants_are_refused_as_in_Loki()
    {
        await using var server = await LokiProcess.StartAsync(Config.Replace("multi_tenant_queries_enabled: true", "multi_tenant_queries_enabled: false", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/loki/api/v1/query_range?query={Q("{app=\"mt\"}")}");
        request.Headers.Add("X-Scope-OrgID", "shop-a|shop-b");
        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("multiple org IDs present", (await response.Content.ReadAsStringAsync()).Trim());
    }

    private static string Q(string query) => Uri.EscapeDataString(query);

    private static async Task<JsonNode> GetAsync(LokiProcess server, string tenants, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-Scope-OrgID", tenants);
        using var response = await server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    private static async Task PushAsync(LokiProcess server, string tenant, long seconds, string line)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/loki/api/v1/push")
        {
            Content = new StringContent(
                $$"""{"streams":[{"stream":{"app":"mt"},"values":[["{{(seconds * 1_000_000_000).ToString(CultureInfo.InvariantCulture)}}","{{line}}"]]}]}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Scope-OrgID", tenant);
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
