using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.S3.Model;

namespace LokiSharp.IntegrationTests.ObjectStorage;

/// <summary>
/// The real <c>lokisharp</c> process with <c>object_store: s3</c> on a real RADOS Gateway: it answers exactly what a
/// local-disk single binary answers, across a restart and from a separate <c>read</c> process; start-up checks the
/// bucket; a bucket that goes away loses nothing.
/// </summary>
public sealed partial class BucketStoreTests(RadosGateway gateway) : IClassFixture<RadosGateway>
{
    private const string Local = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        """;

    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;

    private string S3(string bucket, string writer, string? endpoint = null, string? secret = null) => $$$"""
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        ingester: {lifecycler: {id: {{{writer}}}}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: s3, schema: v13, index: {prefix: index_, period: 24h}}]
        storage_config:
          tsdb_shipper: {resync_interval: 1s}
          aws:
            endpoint: {{{endpoint ?? gateway.Endpoint}}}
            bucketnames: {{{bucket}}}
            access_key_id: {{{gateway.AccessKey}}}
            secret_access_key: {{{secret ?? gateway.SecretKey}}}
            s3forcepathstyle: true
            insecure: true
            backoff_config: {max_retries: 1, min_period: 50ms, max_period: 200ms}
        """;

    private static string Push(int batch) => "{\"streams\":[" + string.Join(",", Enumerable.Range(0, 3).Select(s =>
        $$"""{"stream":{"app":"bucket","pod":"p{{s}}"},"values":[{{string.Join(",", Enumerable.Range(0, 20).Select(i =>
            $"[\"{(Now - 600_000_000_000L + (batch * 1_000_000_000L) + (i * 1000L) + s).ToString(CultureInfo.InvariantCulture)}\",\"batch {batch} line {i} of p{s}\"]"))}}]}""")) + "]}";

    private static readonly string QueryPath = "/loki/api/v1/query_range?query=%7Bapp%3D%22bucket%22%7D&limit=1000&start=" +
        (Now - 3_600_000_000_000L).ToString(CultureInfo.InvariantCulture) + "&end=" + (Now + 60_000_000_000L).ToString(CultureInfo.InvariantCulture);

    private static readonly string CountPath = "/loki/api/v1/query?query=" + Uri.EscapeDataString("sum(count_over_time({app=\"bucket\"}[2h]))") +
        "&time=" + (Now + 60_000_000_000L).ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_single_binary_on_s3_answers_like_local_disk_before_and_after_a_kill_and_restart()
    {
        var bucket = await NewBucketAsync();
        await using var local = await LokiProcess.StartAsync(Local);
        var s3 = await LokiProcess.StartAsync(S3(bucket, "single-0"));
        try
        {
            foreach (var server in new[] { local, s3 })
            {
                for (var batch = 0; batch < 3; batch++)
                {
                    await SendAsync(server, HttpMethod.Post, "/loki/api/v1/push", Push(batch), HttpStatusCode.NoContent);
                    await SendAsync(server, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
                }
            }

            var expected = await QueryAsync(local, QueryPath);
            Assert.Equal(180, JsonNode.Parse(expected)!["data"]!["result"]!.AsArray().Sum(s => s!["values"]!.AsArray().Count));
            Assert.Equal(expected, await QueryAsync(s3, QueryPath));
            var packs = await KeysAsync(bucket, "fake/packs/single-0/");
            Assert.Equal(3, packs.Count);
            Assert.Equal(3, (await KeysAsync(bucket, "fake/index/")).Count);

            // Again: answered from the disk cache, not the bucket.
            Assert.Equal(expected, await QueryAsync(s3, QueryPath));
            var metrics = await SendAsync(s3, HttpMethod.Get, "/metrics", null, HttpStatusCode.OK);
            Assert.Matches("\nloki_cache_hits\\{name=\"chunks-disk-cache\"\\} [1-9]", metrics);
            Assert.Contains("loki_lokisharp_object_store_unreachable 0", metrics, StringComparison.Ordinal);

            Assert.StartsWith("snapshot is not supported when chunks are kept in object storage",
                await SendAsync(s3, HttpMethod.Post, "/snapshot", null, HttpStatusCode.NotImplemented), StringComparison.Ordinal);

            s3.KeepWorkDir = true;
            await s3.KillAsync();
            var restarted = await s3.RestartAsync();
            await s3.DisposeAsync();
            s3 = restarted;
            Assert.Equal(expected, await QueryAsync(s3, QueryPath));
            Assert.Equal(await QueryAsync(local, CountPath), await QueryAsync(s3, CountPath));
        }
        finally
        {
            s3.KeepWorkDir = false;
            await s3.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_read_process_answers_what_a_write_process_flushed_after_its_refresh()
    {
        var bucket = await NewBucketAsync();
        await using var local = await LokiProcess.StartAsync(Local);
        await using var writer = await LokiProcess.StartAsync(S3(bucket, "loki-write-0"), true, "-target=write");
        await using var reader = await LokiProcess.StartAsync(S3(bucket, "unused"), true, "-target=read");
        foreach (var server in new[] { local, writer })
        {
            await SendAsync(server, HttpMethod.Post, "/loki/api/v1/push", Push(0), HttpStatusCode.NoContent);
            await SendAsync(server, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
        }

        var expected = await QueryAsync(local, QueryPath);
        Assert.Equal(expected, await EventuallyAsync(() => QueryAsync(reader, QueryPath), expected));
        Assert.Single(await KeysAsync(bucket, "fake/packs/loki-write-0/"));
        Assert.Empty(await KeysAsync(bucket, "fake/packs/unused/"));
    }

    [Fact]
    public async Task A_missing_bucket_or_bad_keys_stop_start_up_naming_the_key()
    {
        var missing = await LokiProcess.RunToExitAsync(S3("no-such-bucket-" + Guid.NewGuid().ToString("N")[..8], "w"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Output, StringComparison.Ordinal);
        Assert.Contains("(storage_config.aws.bucketnames)", missing.Output, StringComparison.Ordinal);

        var bucket = await NewBucketAsync();
        var badKeys = await LokiProcess.RunToExitAsync(S3(bucket, "w", secret: "wrong-secret"));
        Assert.Equal(1, badKeys.ExitCode);
        Assert.Contains("storage_config.aws.secret_access_key", badKeys.Output, StringComparison.Ordinal);

        var closed = await LokiProcess.RunToExitAsync(S3(bucket, "w", endpoint: "http://127.0.0.1:1"));
        Assert.Equal(1, closed.ExitCode);
        Assert.Contains("check storage_config.aws.endpoint", closed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_the_bucket_is_unreachable_pushes_are_acknowledged_and_ready_says_why_and_nothing_is_lost()
    {
        var bucket = await NewBucketAsync();
        await using var relay = new TcpRelay(new Uri(gateway.Endpoint));
        await using var local = await LokiProcess.StartAsync(Local);
        await using var writer = await LokiProcess.StartAsync(S3(bucket, "loki-write-0", relay.Endpoint));
        await SendAsync(local, HttpMethod.Post, "/loki/api/v1/push", Push(0), HttpStatusCode.NoContent);
        await SendAsync(local, HttpMethod.Post, "/loki/api/v1/push", Push(1), HttpStatusCode.NoContent);
        await SendAsync(writer, HttpMethod.Post, "/loki/api/v1/push", Push(0), HttpStatusCode.NoContent);
        await SendAsync(writer, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);

        relay.Cut();
        await SendAsync(writer, HttpMethod.Post, "/loki/api/v1/push", Push(1), HttpStatusCode.NoContent);
        using (var failed = await writer.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        using (var ready = await writer.Http.GetAsync(new Uri("/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.StartsWith("Store not ready: object store unreachable (", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var metrics = await SendAsync(writer, HttpMethod.Get, "/metrics", null, HttpStatusCode.OK);
        Assert.Contains("loki_lokisharp_object_store_unreachable 1", metrics, StringComparison.Ordinal);
        Assert.Contains("loki_lokisharp_object_store_failures_total{operation=\"put\"}", metrics, StringComparison.Ordinal);

        // The head still answers for everything acknowledged.
        var expected = await QueryAsync(local, QueryPath);
        Assert.Equal(expected, await QueryAsync(writer, QueryPath));

        relay.Restore();
        await writer.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await SendAsync(writer, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
        await using var reader = await LokiProcess.StartAsync(S3(bucket, "unused"), true, "-target=read");
        Assert.Equal(expected, await QueryAsync(reader, QueryPath));
    }

    private async Task<string> NewBucketAsync()
    {
        var name = "lokisharp-" + Guid.NewGuid().ToString("N")[..12];
        await gateway.CreateBucketAsync(name);
        return name;
    }

    private async Task<List<string>> KeysAsync(string bucket, string prefix)
    {
        using var client = gateway.CreateClient();
        var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix });
        return (listing.S3Objects ?? []).Select(o => o.Key).ToList();
    }

    private static async Task<string> SendAsync(LokiProcess server, HttpMethod method, string path, string? json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {body}\n{server.Output}");
        return body;
    }

    // The query's JSON without its stats (timings differ from run to run).
    private static async Task<string> QueryAsync(LokiProcess server, string path)
    {
        var node = JsonNode.Parse(await SendAsync(server, HttpMethod.Get, path, null, HttpStatusCode.OK))!;
        node["data"]!.AsObject().Remove("stats");
        return node.ToJsonString();
    }

    // A reader sees new segments after its next refresh: poll (bounded) until the answer is the expected one.
    private static async Task<string> EventuallyAsync(Func<Task<string>> query, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string last;
        do
        {
            last = await query();
            if (last == expected)
            {
                return last;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        return last;
    }
}
