using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using LokiSharp.Tests.Logproto;
using LokiSharp.Tests.Shared;

namespace LokiSharp.IntegrationTests;

/// <summary>One server with 1 MiB push limits, shared by the hostile-input tests.</summary>
public sealed class HostileInputServer : IAsyncLifetime
{
    public const int Limit = 1 << 20;

    private const string Config = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}, grpc_server_max_recv_msg_size: 1048576}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        distributor: {max_recv_msg_size: 1048576}
        """;

    public LokiProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await LokiProcess.StartAsync(Config);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Hostile push and query requests against the real server: each gets Loki's status and text, and afterwards the
/// server is still ready and still takes and answers a normal push and query.
/// </summary>
public sealed class HostileInputTests(HostileInputServer fixture) : IClassFixture<HostileInputServer>
{
    private const int Limit = HostileInputServer.Limit;

    private LokiProcess Server => fixture.Server;

    private static string NowNs(int offset = 0) =>
        (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 + offset).ToString(CultureInfo.InvariantCulture);

    private static ByteArrayContent Body(byte[] bytes, string contentType, string? encoding = null)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        return content;
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, HttpContent content)
    {
        using var response = await Server.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string Message)> PostOtlpAsync(HttpContent content)
    {
        using var response = await Server.Http.PostAsync(new Uri("/otlp/v1/logs", UriKind.Relative), content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, bytes.Length == 0 ? "" : LokiSharp.Ingester.Otlp.Protos.Status.Parser.ParseFrom(bytes).Message);
    }

    private async Task<JsonNode> QueryRangeAsync(string logql)
    {
        var start = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600).ToString(CultureInfo.InvariantCulture);
        var uri = $"/loki/api/v1/query_range?query={Uri.EscapeDataString(logql)}&start={start}&limit=100";
        using var response = await Server.Http.GetAsync(new Uri(uri, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!["data"]!["result"]!;
    }

    // After a hostile request: ready, and a normal push is stored and read back. The entry is a second old: a
    // query's end (now) is exclusive, so an entry stamped in the same millisecond as the query would be left out.
    private async Task AssertStillServesAsync()
    {
        Assert.False(Server.Process.HasExited, Server.Output);
        using var ready = await Server.Http.GetAsync(new Uri("/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        var marker = Guid.NewGuid().ToString("N");
        var (status, body) = await PostAsync("/loki/api/v1/push", new StringContent(
            $$"""{"streams":[{"stream":{"app":"survivor"},"values":[["{{NowNs(-1_000_000_000)}}","{{marker}}"]]}]}""", Encoding.UTF8, "application/json"));
        Assert.True(status == HttpStatusCode.NoContent, body);
        var result = await QueryRangeAsync($"{{app=\"survivor\"}} |= \"{marker}\"");
        Assert.Equal(marker, result[0]!["values"]![0]![1]!.GetValue<string>());
    }

    private static string DecompressedTooLarge(long size) =>
        $"request body too large: decompressed message size too large than max ({size} vs {Limit})";

    [Theory]
    [InlineData("/loki/api/v1/push", "application/json")]
    [InlineData("/loki/api/v1/push", "application/x-protobuf")]
    [InlineData("/api/prom/push", "application/json")]
    public async Task A_gzip_bomb_is_413_at_the_configured_limit(string path, string contentType)
    {
        var (status, body) = await PostAsync(path, Body(HostileBodies.GzipBomb(200), contentType, "gzip"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(DecompressedTooLarge(Limit + 1) + "\n", body);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_deflate_bomb_is_413_at_the_configured_limit()
    {
        using var deflated = new MemoryStream();
        using (var zlib = new ZLibStream(deflated, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(new byte[64 << 20]);
        }

        var (status, body) = await PostAsync("/loki/api/v1/push", Body(deflated.ToArray(), "application/json", "deflate"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(DecompressedTooLarge(Limit + 1) + "\n", body);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_snappy_body_claiming_4_GB_is_413_without_allocating_it()
    {
        byte[] claim = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61];

        var (status, body) = await PostAsync("/loki/api/v1/push", Body(claim, "application/x-protobuf"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(DecompressedTooLarge(4294967295) + "\n", body);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_body_over_the_configured_wire_limit_is_413()
    {
        var (status, body) = await PostAsync("/loki/api/v1/push", Body(new byte[Limit + 10], "application/x-protobuf"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal($"request body too large: message size too large than max ({Limit + 10} vs {Limit})\n", body);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public async Task An_OTLP_bomb_is_413_at_the_configured_limit(string encoding)
    {
        byte[] bomb;
        if (encoding == "gzip")
        {
            bomb = HostileBodies.GzipBomb(200);
        }
        else
        {
            using var zstd = new ZstdSharp.Compressor();
            bomb = zstd.Wrap(new byte[200 << 20]).ToArray();
        }

        var (status, message) = await PostOtlpAsync(Body(bomb, "application/x-protobuf", encoding));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(DecompressedTooLarge(Limit + 1), message);
        await AssertStillServesAsync();
    }

    // Grpc.AspNetCore (2.85) bounds the inflated message by the receive limit itself; this guards that it still does.
    [Fact]
    public async Task A_gzip_compressed_gRPC_push_that_inflates_past_the_receive_limit_is_refused()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{Server.GrpcPort}");
        var client = new Pusher.PusherClient(channel);
        var request = new PushRequest();
        request.Streams.Add(new StreamAdapter
        {
            Labels = "{app=\"bomb\"}",
            Entries = { new EntryAdapter { Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = new string('a', 64 << 20) } },
        });
        using (var compressed = new MemoryStream())
        {
            // The client compresses as fast as it can: what it sends must fit the wire limit for this to test inflation.
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                request.WriteTo(gzip);
            }

            Assert.True(compressed.Length < Limit, $"{compressed.Length} bytes on the wire");
        }

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.PushAsync(request, new Metadata { { "grpc-internal-encoding-request", "gzip" } }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("Received message exceeds the maximum configured message size.", error.Status.Detail);
        await AssertStillServesAsync();
    }

    private static string Labels(JsonNode stream) =>
        string.Join(",", stream["stream"]!.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value!.GetValue<string>()));

    [Fact]
    public async Task Invalid_UTF8_in_a_JSON_push_is_stored_and_read_back_as_U_FFFD()
    {
        var v1 = HostileBodies.WithRawBytes($$"""{"streams":[{"stream":{"test":"utf8-v1","app":"aBAD"},"values":[["{{NowNs(-1_000_000_000)}}","xBADy",{"k":"vBAD"}]]}]}""", [0xff]);
        var legacy = HostileBodies.WithRawBytes(
            $$"""{"streams":[{"labels":"{test=\"utf8-legacy\", app=\"aBAD\"}","entries":[{"ts":"{{DateTime.UtcNow.AddSeconds(-1):O}}","line":"xBAD\ud800"}]}]}""",
            [0xc3]);

        var (v1Status, v1Body) = await PostAsync("/loki/api/v1/push", Body(v1, "application/json"));
        var (legacyStatus, legacyBody) = await PostAsync("/api/prom/push", Body(legacy, "application/json"));

        Assert.True(v1Status == HttpStatusCode.NoContent, v1Body);
        Assert.True(legacyStatus == HttpStatusCode.NoContent, legacyBody);
        var stored = await QueryRangeAsync("{test=\"utf8-v1\"}");

        // The validator drops U+FFFD from structured metadata values, as Loki's distributor does.
        Assert.Equal("app=a\uFFFD,detected_level=unknown,k=v,service_name=a\uFFFD,test=utf8-v1", Labels(stored[0]!));
        Assert.Equal("x\uFFFDy", stored[0]!["values"]![0]![1]!.GetValue<string>());
        var storedLegacy = await QueryRangeAsync("{test=\"utf8-legacy\"}");
        Assert.Equal("app=a\uFFFD,detected_level=unknown,service_name=a\uFFFD,test=utf8-legacy", Labels(storedLegacy[0]!));
        Assert.Equal("x\uFFFD\uFFFD", storedLegacy[0]!["values"]![0]![1]!.GetValue<string>());
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Invalid_UTF8_in_an_OTLP_JSON_push_is_stored_and_read_back_as_U_FFFD()
    {
        var json = HostileBodies.WithRawBytes($$$"""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"utf8-otlpBAD"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"{{{NowNs()}}}","body":{"stringValue":"helloBAD"},
                "attributes":[{"key":"user","value":{"stringValue":"uBAD\udc00"}}]}]}]}]}
            """, [0xfe]);

        var (status, message) = await PostOtlpAsync(Body(json, "application/json"));

        Assert.True(status == HttpStatusCode.NoContent, message);
        var stored = await QueryRangeAsync("{service_name=\"utf8-otlp\uFFFD\"}");
        Assert.Equal("hello\uFFFD", stored[0]!["values"]![0]![1]!.GetValue<string>());
        Assert.Contains("service_name=utf8-otlp\uFFFD,user=u", Labels(stored[0]!), StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("/loki/api/v1/push", """{"streams":[{"stream":{"a":"b"},"values":[["1","x""", "Expected end of string, but instead reached end of data.")]
    [InlineData("/loki/api/v1/push", """{"streams":[{"stream":{"a":1},"values":[]}]}""", "label \"a\" must have a string value")]
    [InlineData("/loki/api/v1/push", """{"streams":[{"stream":{"a":"b"},"values":[["99999999999999999999999","x"]]}]}""", "cannot parse timestamp \"99999999999999999999999\" as Unix nanoseconds")]
    [InlineData("/api/prom/push", """{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":7,"line":"x"}]}]}""", "\"ts\" must be an RFC3339 string")]
    public async Task Malformed_JSON_pushes_are_400_with_the_reason(string path, string json, string reason)
    {
        var (status, body) = await PostAsync(path, Body(Encoding.UTF8.GetBytes(json), "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(reason, body, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task JSON_nested_deeper_than_the_reader_allows_is_400()
    {
        var deep = new string('[', 70) + new string(']', 70);
        var (v1Status, v1Body) = await PostAsync("/loki/api/v1/push", Body(Encoding.UTF8.GetBytes("{\"streams\":[],\"x\":" + deep + "}"), "application/json"));
        var (otlpStatus, otlpMessage) = await PostOtlpAsync(Body(Encoding.UTF8.GetBytes("{\"resourceLogs\":" + new string('[', 200) + new string(']', 200) + "}"), "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, v1Status);
        Assert.StartsWith("The maximum configured depth of 16 has been exceeded.", v1Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, otlpStatus);
        Assert.StartsWith("json: The maximum configured depth of 128 has been exceeded.", otlpMessage, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    // A log query excluding many values, as Grafana builds from a multi-value variable.
    private static string LongQuery(int bytes)
    {
        var query = new StringBuilder("{app=\"survivor\"}");
        for (var i = 0; query.Length < bytes; i++)
        {
            query.Append(CultureInfo.InvariantCulture, $" != \"value-{i}\"");
        }

        return query.ToString();
    }

    [Fact]
    public async Task A_GET_query_of_100_KB_is_answered()
    {
        var query = LongQuery(100_000);
        var start = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600).ToString(CultureInfo.InvariantCulture);

        using var response = await Server.Http.GetAsync(new Uri($"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start}", UriKind.Relative));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("success", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_GET_query_longer_than_the_parser_takes_gets_its_error()
    {
        var query = LongQuery(200_000);
        var length = Encoding.UTF8.GetByteCount(query);

        using var response = await Server.Http.GetAsync(new Uri($"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"parse error : input size too long ({length} > 131072)\n", await response.Content.ReadAsStringAsync());
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_protobuf_entry_dated_beyond_2262_is_refused_as_too_new_and_the_rest_is_stored()
    {
        var request = new PushRequest();
        request.Streams.Add(new StreamAdapter
        {
            Labels = "{app=\"far-future\"}",
            Entries =
            {
                new EntryAdapter { Timestamp = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 100_000_000_000 }, Line = "year 5138" },
                new EntryAdapter { Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "now" },
            },
        });

        var (status, body) = await PostAsync("/loki/api/v1/push", Body(Snappier.Snappy.CompressToArray(request.ToByteArray()), "application/x-protobuf"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("entry for stream '{app=\"far-future\", service_name=\"far-future\"}' has timestamp too new: ", body, StringComparison.Ordinal);
        var stored = await QueryRangeAsync("{app=\"far-future\"}");
        Assert.Equal("now", stored[0]!["values"]![0]![1]!.GetValue<string>());
        await AssertStillServesAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostFormAsync(string path, string form, bool chunked = false)
    {
        HttpContent content = chunked
            ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(form)))
            : new StringContent(form, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        if (chunked)
        {
            content.Headers.ContentLength = null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = content };
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        using var response = await Server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_POST_form_with_many_values_or_a_long_key_is_read_as_Go_reads_it()
    {
        var start = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600).ToString(CultureInfo.InvariantCulture);
        var query = $"query={Uri.EscapeDataString("{app=\"survivor\"}")}&start={start}";

        var (manyStatus, manyBody) = await PostFormAsync("/loki/api/v1/query_range", query + string.Concat(Enumerable.Repeat("&x=1", 2000)));
        var (keyStatus, keyBody) = await PostFormAsync("/loki/api/v1/query_range", new string('k', 3000) + "=1&" + query);

        Assert.True(manyStatus == HttpStatusCode.OK, manyBody);
        Assert.True(keyStatus == HttpStatusCode.OK, keyBody);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("/loki/api/v1/query_range", false)]
    [InlineData("/loki/api/v1/query_range", true)]
    [InlineData("/loki/api/v1/labels", false)]
    [InlineData("/loki/api/v1/format_query", false)]
    [InlineData("/log_level", true)]
    public async Task A_POST_form_over_10_MiB_is_400_POST_too_large(string path, bool chunked)
    {
        var form = "query=" + new string('a', 5 << 20) + "&x=" + new string('b', 6 << 20);

        var (status, body) = await PostFormAsync(path, form, chunked);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("http: POST too large\n", body);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Invalid_UTF8_in_a_label_name_is_a_400_in_JSON_and_protobuf()
    {
        var json = HostileBodies.WithRawBytes($$"""{"streams":[{"stream":{"aBAD":"b"},"values":[["{{NowNs()}}","x"]]}]}""", [0xff]);
        var labels = HostileBodies.WithRawBytes("{aBAD=\"b\"}", [0xff]);
        var message = new List<byte> { 0x0a };
        var stream = new List<byte> { 0x0a, (byte)labels.Length };
        stream.AddRange(labels);
        var entry = new EntryAdapter { Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "x" }.ToByteArray();
        stream.Add(0x12);
        stream.Add((byte)entry.Length);
        stream.AddRange(entry);
        message.Add((byte)stream.Count);
        message.AddRange(stream);

        var (jsonStatus, jsonBody) = await PostAsync("/loki/api/v1/push", Body(json, "application/json"));
        var (protoStatus, protoBody) = await PostAsync("/loki/api/v1/push", Body(Snappier.Snappy.CompressToArray([.. message]), "application/x-protobuf"));

        Assert.True(jsonStatus == HttpStatusCode.BadRequest, jsonBody);
        Assert.True(protoStatus == HttpStatusCode.BadRequest, protoBody);
        Assert.StartsWith("error parsing labels", jsonBody, StringComparison.Ordinal);
        Assert.StartsWith("error parsing labels", protoBody, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }
}
