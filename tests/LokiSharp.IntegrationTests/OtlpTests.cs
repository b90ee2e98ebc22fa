using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// OTLP/HTTP logs pushed to the real server as a Collector would (protobuf, gzip, OTLP/JSON), read back over the
/// query API with categorized labels to see exactly which labels and structured metadata were stored.
/// </summary>
public sealed class OtlpTests : IAsyncLifetime
{
    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private long Ts(int second) => _base + (second * 1_000_000_000L);

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private async Task<HttpResponseMessage> PostAsync(byte[] body, string contentType, string? encoding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        return await _server.Http.PostAsync(new Uri("/otlp/v1/logs", UriKind.Relative), content);
    }

    private async Task<string> QueryAsync(string logql)
    {
        var uri = $"/loki/api/v1/query_range?query={Uri.EscapeDataString(logql)}&start={_base}&end={_base + 100_000_000_000L}&direction=forward";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(uri, UriKind.Relative));
        request.Headers.Add("X-Loki-Response-Encoding-Flags", "categorize-labels");
        using var response = await _server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!["data"]!["result"]!.ToJsonString();
    }

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    [Fact]
    public async Task Gzipped_protobuf_export_is_stored_with_Lokis_labels_and_structured_metadata()
    {
        var resource = new Resource();
        resource.Attributes.Add([Attr("service.name", "checkout"), Attr("k8s.namespace.name", "shop"), Attr("host.name", "node-1")]);
        var scope = new InstrumentationScope { Name = "io.opentelemetry.checkout", Version = "2.1" };
        var error = new LogRecord
        {
            TimeUnixNano = (ulong)Ts(1),
            ObservedTimeUnixNano = (ulong)Ts(2),
            SeverityNumber = SeverityNumber.Error,
            SeverityText = "ERROR",
            Body = new AnyValue { StringValue = "card declined" },
            TraceId = ByteString.CopyFrom(Convert.FromHexString("5b8efff798038103d269b633813fc60c")),
            SpanId = ByteString.CopyFrom(Convert.FromHexString("eee19b7ec3c1b174")),
        };
        error.Attributes.Add(Attr("order.id", "o-17"));
        var mapBody = new LogRecord { TimeUnixNano = (ulong)Ts(3), Body = new AnyValue { KvlistValue = new KeyValueList() } };
        mapBody.Body.KvlistValue.Values.Add([new KeyValue { Key = "total", Value = new AnyValue { DoubleValue = 12.5 } }, Attr("currency", "EUR")]);
        var scopeLogs = new ScopeLogs { Scope = scope };
        scopeLogs.LogRecords.Add([error, mapBody]);
        var resourceLogs = new ResourceLogs { Resource = resource };
        resourceLogs.ScopeLogs.Add(scopeLogs);
        var export = new ExportLogsServiceRequest();
        export.ResourceLogs.Add(resourceLogs);

        using var response = await PostAsync(Gzip(export.ToByteArray()), "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        var t1 = Ts(1).ToString(CultureInfo.InvariantCulture);
        var t2 = Ts(2).ToString(CultureInfo.InvariantCulture);
        var t3 = Ts(3).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(Compact($$$"""
            [{"stream":{"k8s_namespace_name":"shop","service_name":"checkout"},"values":[
              ["{{{t1}}}","card declined",{"structuredMetadata":{
                "detected_level":"error","host_name":"node-1","observed_timestamp":"{{{t2}}}","order_id":"o-17",
                "scope_name":"io.opentelemetry.checkout","scope_version":"2.1","severity_number":"17","severity_text":"ERROR",
                "span_id":"eee19b7ec3c1b174","trace_id":"5b8efff798038103d269b633813fc60c"}}],
              ["{{{t3}}}","{\"currency\":\"EUR\",\"total\":12.5}",{"structuredMetadata":{
                "detected_level":"unknown","host_name":"node-1","scope_name":"io.opentelemetry.checkout","scope_version":"2.1"}}]]}]
            """), await QueryAsync("{service_name=\"checkout\"}"));
    }

    [Fact]
    public async Task OTLP_JSON_export_falls_back_to_a_discovered_service_name()
    {
        var json = $$$$"""
            {"resourceLogs":[{"resource":{"attributes":[
                {"key":"k8s.container.name","value":{"stringValue":"cart"}},
                {"key":"cloud.region","value":{"stringValue":"eu-west-1"}},
                {"key":"process.pid","value":{"intValue":"4242"}}]},
              "scopeLogs":[{"scope":{"name":"cart-logger","attributes":[{"key":"lib.lang","value":{"stringValue":"go"}}]},
                "logRecords":[{"timeUnixNano":"{{{{Ts(4)}}}}","severityNumber":9,"severityText":"INFO","eventName":"cart.add",
                  "body":{"stringValue":"added item"},
                  "attributes":[{"key":"http","value":{"kvlistValue":{"values":[{"key":"method","value":{"stringValue":"POST"}}]}}}],
                  "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","flags":1}]}]}]}
            """;

        using var response = await PostAsync(Encoding.UTF8.GetBytes(json), "application/json");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var t4 = Ts(4).ToString(CultureInfo.InvariantCulture);
        Assert.Equal(Compact($$$"""
            [{"stream":{"cloud_region":"eu-west-1","k8s_container_name":"cart","service_name":"cart"},"values":[
              ["{{{t4}}}","added item",{"structuredMetadata":{
                "detected_level":"info","event_name":"cart.add","flags":"1","http_method":"POST","lib_lang":"go",
                "process_pid":"4242","scope_name":"cart-logger","severity_number":"9","severity_text":"INFO",
                "span_id":"b7ad6b7169203331","trace_id":"0af7651916cd43dd8448eb211c80319c"}}]]}]
            """), await QueryAsync("{service_name=\"cart\"}"));
    }

    [Fact]
    public async Task Errors_are_google_rpc_Status_bodies()
    {
        using var badType = await PostAsync([], "text/plain");
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        Assert.Equal("application/octet-stream", badType.Content.Headers.ContentType?.MediaType);
        var status = Status.Parser.ParseFrom(await badType.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, status.Code);
        Assert.Equal("content type: text/plain is not supported", status.Message);

        using var badEncoding = await PostAsync([1, 2, 3], "application/x-protobuf", "br");
        Assert.Equal(HttpStatusCode.BadRequest, badEncoding.StatusCode);
        Assert.Equal("unsupported content encoding br: only gzip, lz4 and zstd are supported",
            Status.Parser.ParseFrom(await badEncoding.Content.ReadAsByteArrayAsync()).Message);

        using var empty = await PostAsync(new ExportLogsServiceRequest().ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.StatusCode);
        Assert.Equal("error at least one valid stream is required for ingestion",
            Status.Parser.ParseFrom(await empty.Content.ReadAsByteArrayAsync()).Message);
    }
}
