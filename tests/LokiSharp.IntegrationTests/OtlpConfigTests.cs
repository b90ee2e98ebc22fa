using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// <c>limits_config.otlp_config</c> and a tenant's override in the runtime config, applied to real OTLP protobuf
/// pushes and read back over the query API; the override reloads without a restart; a bad rule stops start-up.
/// </summary>
public sealed class OtlpConfigTests : IAsyncLifetime
{
    private const string Config = """
        auth_enabled: true
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        runtime_config: {file: RUNTIME, period: 1s}
        limits_config:
          otlp_config:
            resource_attributes:
              attributes_config:
                - action: index_label
                  attributes: [host.name]
                - action: drop
                  regex: process\..*
            log_attributes:
              - action: drop
                attributes: [password]
        """;

    private const string TierOverride = """
        overrides:
          team-b:
            otlp_config:
              resource_attributes:
                ignore_defaults: true
                attributes_config:
                  - action: index_label
                    attributes: [team.name]
              log_attributes:
                - action: index_label
                  attributes: [tier]
        """;

    private const string DropUserOverride = """
        overrides:
          team-b:
            otlp_config:
              log_attributes:
                - {action: drop, attributes: [user]}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("lokisharp-otlp-config-").FullName;
    private LokiProcess _server = null!;
    private long _base;

    private string RuntimeFile => Path.Combine(_dir, "runtime.yaml");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(RuntimeFile, TierOverride);
        _server = await LokiProcess.StartAsync(Config.Replace("RUNTIME", RuntimeFile, StringComparison.Ordinal));
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private long Ts(int second) => _base + (second * 1_000_000_000L);

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static ExportLogsServiceRequest Export(long ts)
    {
        var resource = new Resource();
        resource.Attributes.Add([Attr("service.name", "api"), Attr("host.name", "node-1"), Attr("process.pid", "42"), Attr("team.name", "pay")]);
        var record = new LogRecord { TimeUnixNano = (ulong)ts, Body = new AnyValue { StringValue = "charged" } };
        record.Attributes.Add([Attr("password", "hunter2"), Attr("tier", "gold"), Attr("user", "u1")]);
        var scopeLogs = new ScopeLogs();
        scopeLogs.LogRecords.Add(record);
        var resourceLogs = new ResourceLogs { Resource = resource };
        resourceLogs.ScopeLogs.Add(scopeLogs);
        var export = new ExportLogsServiceRequest();
        export.ResourceLogs.Add(resourceLogs);
        return export;
    }

    private async Task PushAsync(string tenant, long ts)
    {
        using var content = new ByteArrayContent(Export(ts).ToByteArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-protobuf");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/otlp/v1/logs", UriKind.Relative)) { Content = content };
        request.Headers.Add("X-Scope-OrgID", tenant);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<string> QueryAsync(string tenant, string logql)
    {
        var uri = $"/loki/api/v1/query_range?query={Uri.EscapeDataString(logql)}&start={_base}&end={_base + 100_000_000_000L}&direction=forward";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(uri, UriKind.Relative));
        request.Headers.Add("X-Loki-Response-Encoding-Flags", "categorize-labels");
        request.Headers.Add("X-Scope-OrgID", tenant);
        using var response = await _server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!["data"]!["result"]!.ToJsonString();
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    [Fact]
    public async Task Default_and_tenant_otlp_config_decide_labels_metadata_and_drops_and_the_override_reloads()
    {
        await PushAsync("team-a", Ts(1));
        await PushAsync("team-b", Ts(2));

        var t1 = Ts(1).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(Compact($$$"""
            [{"stream":{"host_name":"node-1","service_name":"api"},"values":[["{{{t1}}}","charged",{"structuredMetadata":{
              "detected_level":"unknown","team_name":"pay","tier":"gold","user":"u1"}}]]}]
            """), await QueryAsync("team-a", "{service_name=\"api\"}"));

        // team-b's own otlp_config replaces the default one: no default list, log attribute tier indexed, nothing dropped.
        var t2 = Ts(2).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(Compact($$$"""
            [{"stream":{"team_name":"pay","tier":"gold"},"values":[["{{{t2}}}","charged",{"structuredMetadata":{
              "detected_level":"unknown","host_name":"node-1","password":"hunter2","process_pid":"42","service_name":"api","user":"u1"}}]]}]
            """), await QueryAsync("team-b", "{team_name=\"pay\"}"));

        // The new override keeps the default list (service_name only) and drops user; it applies once reloaded.
        await File.WriteAllTextAsync(RuntimeFile, DropUserOverride);
        File.SetLastWriteTimeUtc(RuntimeFile, DateTime.UtcNow.AddSeconds(5));
        var second = 3;
        var result = "[]";
        while (result == "[]" && second < 60)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            await PushAsync("team-b", Ts(second++));
            result = await QueryAsync("team-b", "{service_name=\"api\"}");
        }

        var entry = JsonNode.Parse(result)!.AsArray().Single()!;
        Assert.Equal(Compact("""{"service_name":"api"}"""), entry["stream"]!.ToJsonString());
        Assert.Equal(Compact("""
            {"detected_level":"unknown","host_name":"node-1","password":"hunter2","process_pid":"42","team_name":"pay","tier":"gold"}
            """), entry["values"]![0]![2]!["structuredMetadata"]!.ToJsonString());
    }

    [Fact]
    public async Task An_index_label_rule_for_scope_attributes_stops_start_up_naming_the_key()
    {
        var (code, output) = await LokiProcess.RunToExitAsync("""
            limits_config:
              otlp_config:
                scope_attributes:
                  - action: index_label
                    attributes: [lib.name]
            """);

        Assert.Equal(1, code);
        Assert.Contains("key limits_config.otlp_config.scope_attributes[0]: index_label action is only supported for resource_attributes",
            output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rule_with_both_attributes_and_regex_stops_start_up()
    {
        var (code, output) = await LokiProcess.RunToExitAsync("""
            limits_config:
              otlp_config:
                log_attributes:
                  - action: drop
                    attributes: [a]
                    regex: b.*
            """);

        Assert.Equal(1, code);
        Assert.Contains("key limits_config.otlp_config.log_attributes[0]: only one of attributes or regex must be set", output, StringComparison.Ordinal);
    }
}
