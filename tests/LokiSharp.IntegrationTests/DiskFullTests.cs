using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// The data directory on a small file system that fills up: pushes that cannot be made durable are refused and
/// leave nothing behind, everything acknowledged before and after survives kill -9, and a flush that cannot
/// write keeps its chunks until it can.
/// </summary>
public sealed class DiskFullTests
{
    [Fact]
    public async Task Pushes_refused_on_a_full_disk_leave_nothing_and_acknowledged_pushes_around_them_survive_sigkill()
    {
        using var disk = SmallFileSystem.Mount(megabytes: 16);
        var (server, baseTs) = await StartAsync(disk, Config(disk.MountPoint));

        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(server, "before", baseTs, 500));

        disk.Fill("filler");
        var refused = 0;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var status = await PushAsync(server, "refused" + attempt, baseTs + 1_000_000_000L + (attempt * 10_000_000L), 200);
            refused += status == HttpStatusCode.InternalServerError ? 1 : 0;
            Assert.NotEqual(HttpStatusCode.NoContent, status);
        }

        Assert.Equal(5, refused);
        Assert.Equal(0, await CountAsync(server, "refused", baseTs));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync(new Uri("/ready", UriKind.Relative))).StatusCode);

        File.Delete(disk.HostPath("filler"));
        for (var batch = 0; batch < 5; batch++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await PushAsync(server, "after" + batch, baseTs + 2_000_000_000L + (batch * 10_000_000L), 200));
        }

        await server.KillAsync();
        await using var restarted = await server.RestartAsync();
        await server.DisposeAsync();

        Assert.Equal(500, await CountAsync(restarted, "before", baseTs));
        Assert.Equal(1000, await CountAsync(restarted, "after", baseTs));
        Assert.Equal(0, await CountAsync(restarted, "refused", baseTs));
        Assert.Contains("msg=\"write-ahead log replayed\"", restarted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("write-ahead log damage", restarted.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flush_on_a_full_disk_fails_keeps_its_chunks_and_stores_them_once_space_returns()
    {
        using var disk = SmallFileSystem.Mount(megabytes: 16);
        var (server, baseTs) = await StartAsync(disk, Config(disk.MountPoint));
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(server, "kept", baseTs, 1000));

        disk.Fill("filler");
        using (var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, flush.StatusCode);
        }

        Assert.Equal(1000, await CountAsync(server, "kept", baseTs));
        Assert.NotEmpty(Directory.GetFiles(disk.HostPath("wal"), "*.wal"));

        File.Delete(disk.HostPath("filler"));
        using (var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
        }

        await server.KillAsync();
        await using var restarted = await server.RestartAsync();
        await server.DisposeAsync();
        Assert.Equal(1000, await CountAsync(restarted, "kept", baseTs));
    }

    [Fact]
    public async Task Compaction_on_a_full_disk_fails_deletes_nothing_and_a_restart_on_the_full_disk_serves_everything()
    {
        using var disk = SmallFileSystem.Mount(megabytes: 16);
        var (server, baseTs) = await StartAsync(disk, Config(disk.MountPoint, compactionInterval: "1s"));
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(server, "public", baseTs, 500));
        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(server, "secret", baseTs + 1000, 500));
        using (var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
        }

        // The request is processed once its 3 s cancellation period is over: by then the disk is full.
        var query = Uri.EscapeDataString("{app=\"diskfull\"} |= \"secret\"");
        var start = (baseTs / 1_000_000_000) - 60;
        using (var create = await server.Http.PostAsync(new Uri($"/loki/api/v1/delete?query={query}&start={start}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, create.StatusCode);
        }

        disk.Fill("filler");
        using (var refusedRequest = await server.Http.PostAsync(new Uri($"/loki/api/v1/delete?query={query}&start={start}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, refusedRequest.StatusCode);
            Assert.Contains("No space left on device", await refusedRequest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!server.Output.Contains("compaction run failed", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(server.Output.Contains("compaction run failed", StringComparison.Ordinal), server.Output);
        Assert.Equal(500, await CountAsync(server, "public", baseTs));

        await server.KillAsync();
        var restarted = await server.RestartAsync();
        await server.DisposeAsync();
        restarted.KeepWorkDir = true;
        Assert.Equal(500, await CountAsync(restarted, "public", baseTs));
        Assert.Equal(HttpStatusCode.InternalServerError, await PushAsync(restarted, "refused", baseTs + 5000, 1));

        File.Delete(disk.HostPath("filler"));
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (!restarted.Output.Contains("compaction run finished", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(restarted.Output.Contains("compaction run finished", StringComparison.Ordinal), restarted.Output);
        Assert.Equal(500, await CountAsync(restarted, "public", baseTs));
        await restarted.DisposeAsync();
    }

    // The server on the small file system, its directory kept for the restarts the tests do, and the time the
    // test's entries start from: ten minutes back, so every line is in one query window.
    private static async Task<(LokiProcess Server, long BaseTs)> StartAsync(SmallFileSystem disk, string config)
    {
        var server = await LokiProcess.StartWrappedAsync(config, disk.Wrapper);
        server.KeepWorkDir = true;
        return (server, (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600) * 1_000_000_000);
    }

    // The fixture's single-binary config with every path on the small file system.
    private static string Config(string mountPoint, string compactionInterval = "10m")
    {
        var yaml = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "loki-local-config.yaml"))
            .Replace("${DATA}", mountPoint, StringComparison.Ordinal);
        yaml = yaml[..yaml.IndexOf("compactor:", StringComparison.Ordinal)];
        return yaml + $"""
            compactor:
              working_directory: {mountPoint}/compactor
              compaction_interval: {compactionInterval}
              retention_enabled: true
              delete_request_store: filesystem
              delete_request_cancel_period: 3s
            ingester:
              wal:
                dir: {mountPoint}/wal
            """;
    }

    // Pushes `count` lines of about 1 KiB tagged with `tag` to one stream, one nanosecond apart.
    private static async Task<HttpStatusCode> PushAsync(LokiProcess server, string tag, long firstTs, int count)
    {
        var padding = new string('x', 1000);
        var values = string.Join(",", Enumerable.Range(0, count).Select(i =>
            $"[\"{(firstTs + i).ToString(CultureInfo.InvariantCulture)}\",\"{tag} line {i} {padding}\"]"));
        var body = $$"""{"streams":[{"stream":{"app":"diskfull"},"values":[{{values}}]}]}""";
        using var response = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
            new StringContent(body, Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    private static async Task<long> CountAsync(LokiProcess server, string tag, long baseTs)
    {
        var query = Uri.EscapeDataString($"sum(count_over_time({{app=\"diskfull\"}} |= \"{tag}\" [1h]))");
        var time = (baseTs / 1_000_000_000) + 660;
        var body = await server.Http.GetStringAsync(new Uri($"/loki/api/v1/query?query={query}&time={time}", UriKind.Relative));
        var result = JsonNode.Parse(body)!["data"]!["result"]!.AsArray();
        return result.Count == 0 ? 0 : long.Parse(result[0]!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
    }
}
