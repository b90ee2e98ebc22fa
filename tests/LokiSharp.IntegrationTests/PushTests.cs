using System.IO.Compression;
using System.Net;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using LokiSharp.Tests.Logproto;

namespace LokiSharp.IntegrationTests;

/// <summary>Pushing over HTTP and gRPC to the real server: status codes, Loki's texts, metrics.</summary>
public sealed class PushTests : IAsyncLifetime
{
    private LokiProcess _server = null!;

    public async Task InitializeAsync() => _server = await LokiProcess.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string NowNs(int offset = 0) =>
        (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 + offset).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, HttpContent content)
    {
        using var response = await _server.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<double> MetricAsync(string series)
    {
        var text = await _server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [Fact]
    public async Task Json_push_is_accepted_with_204_and_counted()
    {
        var (status, body) = await PostAsync("/loki/api/v1/push",
            Json($$"""{"streams":[{"stream":{"app":"web","namespace":"jewelry-shop"},"values":[["{{NowNs()}}","GET /rings 200"],["{{NowNs(1)}}","GET /cart 500",{"trace_id":"t1"}]]}]}"""));

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal("", body);
        Assert.Equal(2, await MetricAsync("loki_distributor_lines_received_total{tenant=\"fake\",is_internal_stream=\"false\",policy=\"\",format=\"loki\"}"));
    }

    [Fact]
    public async Task Snappy_protobuf_push_is_accepted()
    {
        var request = new PushRequest();
        var stream = new StreamAdapter { Labels = "{app=\"celery\"}" };
        stream.Entries.Add(new EntryAdapter { Timestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "task succeeded" });
        request.Streams.Add(stream);
        using var content = new ByteArrayContent(Snappier.Snappy.CompressToArray(request.ToByteArray()));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");

        var (status, _) = await PostAsync("/loki/api/v1/push", content);

        Assert.Equal(HttpStatusCode.NoContent, status);
    }

    [Fact]
    public async Task Gzipped_legacy_push_is_accepted()
    {
        var json = Encoding.UTF8.GetBytes($$"""{"streams":[{"labels":"{app=\"redis\"}","entries":[{"ts":"{{DateTime.UtcNow:O}}","line":"Ready to accept connections"}]}]}""");
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }

        using var content = new ByteArrayContent(gzipped.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");

        var (status, body) = await PostAsync("/api/prom/push", content);

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task Partial_success_writes_valid_streams_and_answers_400_listing_errors()
    {
        var (status, body) = await PostAsync("/loki/api/v1/push", Json($$"""
            {"streams":[
              {"stream":{"app":"ok"},"values":[["{{NowNs()}}","fine"]]},
              {"stream":{"app":"old"},"values":[["1000","ancient"],["2000","older"]]}
            ]}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("2 errors like: entry for stream '{app=\"old\", service_name=\"old\"}' has timestamp too old: 1970-01-01T00:00:00Z, " +
            "oldest acceptable timestamp is: ", body, StringComparison.Ordinal);
        Assert.Equal(1, await MetricAsync("loki_distributor_lines_received_total{tenant=\"fake\",is_internal_stream=\"false\",policy=\"\",format=\"loki\"}"));
        Assert.Equal(2, await MetricAsync("loki_discarded_samples_total{reason=\"greater_than_max_sample_age\",tenant=\"fake\",retention_hours=\"744\",policy=\"\",format=\"loki\"}"));
    }

    [Theory]
    [InlineData("""{"streams":[]}""", "application/json", HttpStatusCode.UnprocessableEntity, "error at least one valid stream is required for ingestion\n")]
    [InlineData("""{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}""", "application/json", HttpStatusCode.BadRequest,
        "timestamp must be a string of Unix nanoseconds: Value is string, but can't find closing '\"' symbol\n")]
    [InlineData("garbage", "application/x-protobuf", HttpStatusCode.BadRequest, "snappy: corrupt input\n")]
    public async Task Malformed_pushes_get_Lokis_status_and_text(string body, string contentType, HttpStatusCode expected, string text)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        var (status, answer) = await PostAsync("/loki/api/v1/push", content);

        Assert.Equal(expected, status);
        Assert.Equal(text, answer);
    }

    [Fact]
    public async Task Grpc_push_through_a_real_client_is_accepted_and_validated()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.GrpcPort}");
        var client = new Pusher.PusherClient(channel);
        var good = new PushRequest();
        good.Streams.Add(new StreamAdapter
        {
            Labels = "{app=\"postgres\"}",
            Entries = { new EntryAdapter { Timestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "checkpoint complete" } },
        });
        var bad = new PushRequest();
        bad.Streams.Add(new StreamAdapter
        {
            Labels = "{app=\"postgres\"",
            Entries = { new EntryAdapter { Timestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "x" } },
        });

        await client.PushAsync(good);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.PushAsync(bad));

        Assert.Equal(400, (int)error.StatusCode);
        Assert.StartsWith("error parsing labels '{app=\"postgres\"' with error: ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await MetricAsync("loki_distributor_lines_received_total{tenant=\"fake\",is_internal_stream=\"false\",policy=\"\",format=\"loki\"}"));
    }

    [Fact]
    public async Task Flush_stores_the_head_as_chunks()
    {
        await PostAsync("/loki/api/v1/push", Json($$"""{"streams":[{"stream":{"app":"web"},"values":[["{{NowNs()}}","to disk"]]}]}"""));

        using var flush = await _server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
        Assert.Equal(1, await MetricAsync("loki_ingester_chunks_flushed_total{reason=\"forced\"}"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_server.WorkDir, "data", "chunks", "fake", "chunks")));
    }
}

/// <summary>Push with authentication on: the tenant header is required.</summary>
public sealed class AuthenticatedPushTests
{
    [Fact]
    public async Task A_push_without_org_id_is_401_and_with_one_is_accepted()
    {
        await using var server = await LokiProcess.StartAsync(null, true, "-auth.enabled=true");
        var json = $$"""{"streams":[{"stream":{"app":"web"},"values":[["{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000}}","x"]]}]}""";

        using var anonymous = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/loki/api/v1/push", UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Scope-OrgID", "shop");
        using var tenant = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("no org id\n", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, tenant.StatusCode);
    }
}
