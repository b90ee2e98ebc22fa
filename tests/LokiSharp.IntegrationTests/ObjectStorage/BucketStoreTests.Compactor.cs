using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests.ObjectStorage;

/// <content>
/// The compactor on the bucket: per-stream retention and a delete request, seen through a separate <c>read</c> process
/// after its refresh, and a pending delete request that survives a backend restarted on an empty working directory.
/// </content>
public sealed partial class BucketStoreTests
{
    private string S3WithRetention(string bucket, string writer, string cancelPeriod) => S3(bucket, writer) + $$"""

        compactor:
          compaction_interval: 1s
          retention_enabled: true
          delete_request_store: s3
          retention_delete_delay: 1s
          delete_request_cancel_period: {{cancelPeriod}}
        limits_config:
          retention_period: 744h
          retention_stream: [{selector: '{app="old"}', priority: 1, period: 24h}]
        """;

    private static string Lines(string app, long fromNs, int count, Func<int, string> line) =>
        $$"""{"streams":[{"stream":{"app":"{{app}}"},"values":[{{string.Join(",", Enumerable.Range(0, count).Select(i =>
            $"[\"{(fromNs + (i * 1_000_000L)).ToString(CultureInfo.InvariantCulture)}\",\"{line(i)}\"]"))}}]}]}""";

    private static string RangePath(string selector, long fromNs, long toNs) => "/loki/api/v1/query_range?query=" + Uri.EscapeDataString(selector) +
        "&limit=1000&direction=forward&start=" + fromNs.ToString(CultureInfo.InvariantCulture) + "&end=" + toNs.ToString(CultureInfo.InvariantCulture);

    private static async Task<List<string>> LinesOfAsync(LokiProcess server, string path) =>
        [.. JsonNode.Parse(await SendAsync(server, HttpMethod.Get, path, null, HttpStatusCode.OK))!["data"]!["result"]!.AsArray()
            .SelectMany(s => s!["values"]!.AsArray().Select(v => v![1]!.GetValue<string>())).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task On_s3_retention_expires_old_streams_and_a_delete_request_removes_exactly_its_lines_for_a_read_process()
    {
        var bucket = await NewBucketAsync();
        await using var single = await LokiProcess.StartAsync(S3WithRetention(bucket, "single-0", "1s"));
        await using var reader = await LokiProcess.StartAsync(S3(bucket, "unused"), true, "-target=read");
        var oldFrom = Now - (26 * 3_600_000_000_000L);
        await SendAsync(single, HttpMethod.Post, "/loki/api/v1/push", Lines("old", oldFrom, 10, i => $"old {i}"), HttpStatusCode.NoContent);
        await SendAsync(single, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
        var delFrom = Now - 600_000_000_000L;
        await SendAsync(single, HttpMethod.Post, "/loki/api/v1/push", Lines("del", delFrom, 10, i => $"{(i % 2 == 0 ? "secret" : "public")} {i}"),
            HttpStatusCode.NoContent);
        await SendAsync(single, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
        var packs = await KeysAsync(bucket, "fake/packs/single-0/");
        Assert.Equal(2, packs.Count);

        // Retention: the 24h rule of {app="old"} expires its chunk in the bucket; the reader stops seeing it after its
        // refresh, and the pack is deleted after retention_delete_delay.
        var oldPath = RangePath("{app=\"old\"}", oldFrom - 60_000_000_000L, Now);
        Assert.Empty(await EventuallyListAsync(() => LinesOfAsync(reader, oldPath), []));
        Assert.Equal([packs[1]], await EventuallyListAsync(async () => await KeysAsync(bucket, "fake/packs/single-0/"), 1));

        // A delete request: hidden at once by the process holding it, removed from the bucket after the cancel period.
        var start = ((Now / 1_000_000_000L) - 3600).ToString(CultureInfo.InvariantCulture);
        await SendAsync(single, HttpMethod.Post, $"/loki/api/v1/delete?query={Uri.EscapeDataString("{app=\"del\"} |= \"secret\"")}&start={start}", null,
            HttpStatusCode.NoContent);
        List<string> expected = [.. Enumerable.Range(0, 10).Where(i => i % 2 == 1).Select(i => $"public {i}")];
        var delPath = RangePath("{app=\"del\"}", delFrom - 60_000_000_000L, Now + 60_000_000_000L);
        Assert.Equal(expected, await LinesOfAsync(single, delPath));
        Assert.Equal(expected, await EventuallyListAsync(() => LinesOfAsync(reader, delPath), expected));
        Assert.Single(await KeysAsync(bucket, "compactor/heartbeats/"));
        Assert.NotEmpty(await KeysAsync(bucket, "compactor/deletes/"));
        Assert.NotEmpty(await KeysAsync(bucket, "fake/packs/compactor/"));
        Assert.DoesNotContain("compaction run failed", single.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_s3_a_pending_delete_request_survives_a_backend_restarted_with_an_empty_working_directory()
    {
        var bucket = await NewBucketAsync();
        var backend = await LokiProcess.StartAsync(S3WithRetention(bucket, "single-0", "24h"));
        var start = ((Now / 1_000_000_000L) - 3600).ToString(CultureInfo.InvariantCulture);
        await SendAsync(backend, HttpMethod.Post, $"/loki/api/v1/delete?query={Uri.EscapeDataString("{app=\"del\"}")}&start={start}", null,
            HttpStatusCode.NoContent);
        var before = await SendAsync(backend, HttpMethod.Get, "/loki/api/v1/delete", null, HttpStatusCode.OK);
        await backend.KillAsync();
        Directory.Delete(Path.Combine(backend.WorkDir, "data", "compactor"), recursive: true);
        await using var moved = await backend.RestartAsync();
        backend.KeepWorkDir = true;
        await backend.DisposeAsync();

        var after = await SendAsync(moved, HttpMethod.Get, "/loki/api/v1/delete", null, HttpStatusCode.OK);
        Assert.Equal(before, after);
        Assert.Equal("received", Assert.Single(JsonNode.Parse(after)!.AsArray())!["status"]!.GetValue<string>());
        Assert.Equal(2, (await KeysAsync(bucket, "compactor/heartbeats/")).Count);
    }

    [Fact]
    public async Task On_s3_of_two_backends_by_mistake_the_older_steps_down_says_so_and_is_not_ready()
    {
        var bucket = await NewBucketAsync();
        await using var first = await LokiProcess.StartAsync(S3WithRetention(bucket, "unused", "24h"), true, "-target=backend");
        await using var second = await LokiProcess.StartAsync(S3WithRetention(bucket, "unused", "24h"), true, "-target=backend");
        var heartbeats = await EventuallyListAsync(async () => await KeysAsync(bucket, "compactor/heartbeats/"), 2);
        Assert.Equal(2, heartbeats.Count);

        // The first one's next run (every second) sees the second's heartbeat, which has the higher epoch.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        string body;
        do
        {
            await Task.Delay(200);
            using var ready = await first.Http.GetAsync(new Uri("/ready", UriKind.Relative));
            (status, body) = (ready.StatusCode, await ready.Content.ReadAsStringAsync());
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Compactor not ready: a newer compactor is running on the bucket: " + heartbeats[1], body.Trim());
        // The log line reaches the captured output a moment after /ready changes: wait for it (bounded), then assert.
        var logged = "another compactor with a newer epoch is running on the same bucket (" + heartbeats[1] + ")";
        for (var wait = DateTime.UtcNow.AddSeconds(10); !first.Output.Contains(logged, StringComparison.Ordinal) && DateTime.UtcNow < wait;)
        {
            await Task.Delay(50);
        }

        Assert.Contains(logged, first.Output, StringComparison.Ordinal);
        await SendAsync(second, HttpMethod.Get, "/ready", null, HttpStatusCode.OK);
    }

    // A reader sees the compactor's segments after its next refresh: poll (bounded) until the answer is the expected one.
    private static async Task<List<T>> EventuallyListAsync<T>(Func<Task<List<T>>> query, List<T> expected) =>
        await EventuallyListAsync(query, list => list.SequenceEqual(expected));

    private static async Task<List<T>> EventuallyListAsync<T>(Func<Task<List<T>>> query, int count) =>
        await EventuallyListAsync(query, list => list.Count == count);

    private static async Task<List<T>> EventuallyListAsync<T>(Func<Task<List<T>>> query, Func<List<T>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<T> last;
        do
        {
            last = await query();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        return last;
    }
}
