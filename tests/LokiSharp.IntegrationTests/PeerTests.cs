using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// Scale-out reads with real processes on loopback: two <c>-target=write</c> processes, each with its own data
/// directory, and a <c>-target=read</c> process whose <c>memberlist.join_members</c> names both writers' gRPC ports.
/// The reader answers from both heads with duplicates removed, exactly as one single binary given the same pushes;
/// flushed entries stay readable in a writer's head; a writer killed with SIGKILL is named in <c>warnings</c>; a listed
/// process that runs no ingester is left out without a warning; delete requests filter the peers' lines.
/// </summary>
public sealed class PeerTests
{
    private static string Config(string extra = "") => $$$"""
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        ingester_client: {remote_timeout: 2s}
        {{{extra}}}
        """;

    private static string Push(string pod, params (long Ns, string Line)[] values)
    {
        var items = string.Join(",", values.Select(v => $"[\"{v.Ns.ToString(CultureInfo.InvariantCulture)}\",\"{v.Line}\"]"));
        return $$"""{"streams":[{"stream":{"app":"peers","pod":"{{pod}}"},"values":[{{items}}]}]}""";
    }

    private static async Task<string> GetAsync(LokiProcess server, string path)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, path);
        Assert.True(status == HttpStatusCode.OK, $"{path}: {status} {body}");
        return body;
    }

    private static async Task PushAsync(LokiProcess server, string json) =>
        Assert.Equal(HttpStatusCode.NoContent, (await server.SendAsync(HttpMethod.Post, "/loki/api/v1/push", json)).Status);

    // Completed peer calls served by a writer, from its request metrics.
    private static async Task<(long Selects, long Reads)> HeadReadCallsAsync(LokiProcess writer)
    {
        var metrics = await GetAsync(writer, "/metrics");
        long Count(string method) => metrics.Split('\n')
            .Where(l => l.StartsWith("loki_request_duration_seconds_count{", StringComparison.Ordinal)
                && l.Contains($"route=\"/lokisharp.headread.v1.HeadReader/{method}\"", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return (Count("SelectStreams"), Count("ReadEntries"));
    }

    // Timings vary; everything else must match exactly.
    private static string WithoutStats(string json)
    {
        var node = JsonNode.Parse(json)!;
        (node["data"] as JsonObject)?.Remove("stats");
        return node.ToJsonString();
    }

    [Fact]
    public async Task A_reader_answers_from_every_writer_head_once_and_names_a_dead_writer_in_warnings()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1_000_000_000L;
        var (t1, t2, t3, t4) = (now - 240_000_000_000L, now - 180_000_000_000L, now - 120_000_000_000L, now - 60_000_000_000L);
        var toA = new[] { Push("x", (t1, "only on a"), (t2, "on both")), Push("y", (t4, "y on a")) };
        var toB = new[] { Push("x", (t2, "on both"), (t3, "only on b")), Push("z", (t3, "z on b")) };

        await using var writerA = await LokiProcess.StartAsync(Config(), true, "-target=write");
        await using var writerB = await LokiProcess.StartAsync(Config(), true, "-target=write");
        await using var single = await LokiProcess.StartAsync(Config());

        // A backend behind the same list (as Loki's memberlist Service selects every pod) has no head: it is no peer.
        await using var backend = await LokiProcess.StartAsync(Config(), true, "-target=backend");
        var members = $"memberlist: {{join_members: ['127.0.0.1:{writerA.GrpcPort}', 'dns+localhost:{writerB.GrpcPort}', '127.0.0.1:{backend.GrpcPort}']}}";
        var compactor = "compactor: {retention_enabled: true, delete_request_store: filesystem}";
        await using var reader = await LokiProcess.StartAsync(Config(members + "\n" + compactor), true, "-target=read,backend");

        foreach (var push in toA)
        {
            await PushAsync(writerA, push);
            await PushAsync(single, push);
        }

        foreach (var push in toB)
        {
            await PushAsync(writerB, push);
            await PushAsync(single, push);
        }

        // Enough lines in several streams for many batches, interleaved in time, so a stream's iterator must keep
        // what arrives for the others while a metric query reads one stream after another.
        for (var pod = 0; pod < 4; pod++)
        {
            var values = Enumerable.Range(0, 1500).Select(i => (t1 + (i * 4_000_000_000L / 100) + pod, $"bulk {pod} line {i} " + new string('x', i % 50))).ToArray();
            await PushAsync(writerA, Push("bulk" + pod, values));
            await PushAsync(single, Push("bulk" + pod, values));
        }

        var range = $"&start={now - 600_000_000_000L}&end={now + 60_000_000_000L}";
        string[] paths =
        [
            "/loki/api/v1/query_range?query=%7Bapp%3D%22peers%22%7D&limit=100" + range,
            "/loki/api/v1/query_range?query=%7Bapp%3D%22peers%22%7D&limit=100&direction=forward" + range,
            "/loki/api/v1/query_range?query=%7Bapp%3D%22peers%22%7D%20%7C%3D%20%22both%22&limit=100" + range,
            "/loki/api/v1/query_range?query=sum%20by%20(pod)%20(count_over_time(%7Bapp%3D%22peers%22%7D%5B5m%5D))&step=60" + range,
            "/loki/api/v1/query_range?query=bytes_over_time(%7Bapp%3D%22peers%22%7D%5B10m%5D)&step=300" + range,
            "/loki/api/v1/label/pod/values?" + range[1..],
            "/loki/api/v1/series?match%5B%5D=%7Bapp%3D%22peers%22%7D" + range,
            "/loki/api/v1/query_range?query=%7Bapp%3D%22peers%22%7D%20%7C~%20%22line%201.*%22&limit=5000&direction=forward" + range,
        ];
        foreach (var path in paths)
        {
            var expected = WithoutStats(await GetAsync(single, path));
            Assert.Equal(expected, WithoutStats(await GetAsync(reader, path)));
        }

        // One selection and one streaming read per query and peer, however many streams the peer holds (two on A).
        var before = await HeadReadCallsAsync(writerA);
        await GetAsync(reader, paths[1]);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var after = await HeadReadCallsAsync(writerA);
        while (after.Reads == before.Reads && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            after = await HeadReadCallsAsync(writerA);
        }

        Assert.Equal((before.Selects + 1, before.Reads + 1), after);

        // Flushed, the entries leave writer A's WAL but stay in its head for the retain period: the reader, which
        // cannot see A's store, still answers the same.
        Assert.Equal(HttpStatusCode.NoContent, (await writerA.SendAsync(HttpMethod.Post, "/flush")).Status);
        Assert.Equal(WithoutStats(await GetAsync(single, paths[0])), WithoutStats(await GetAsync(reader, paths[0])));

        // A dead writer: the reader answers from the other head and says which peer it could not read.
        await writerB.KillAsync();
        var warning = $"ingester 127.0.0.1:{writerB.GrpcPort} did not answer";
        var logs = JsonNode.Parse(await GetAsync(reader, "/loki/api/v1/query_range?query=%7Bpod%3D~%22x%7Cy%7Cz%22%7D&limit=100" + range))!;
        var lines = logs["data"]!["result"]!.AsArray().SelectMany(s => s!["values"]!.AsArray().Select(v => (string)v![1]!)).Order(StringComparer.Ordinal);
        Assert.Equal(["on both", "only on a", "y on a"], lines);
        var warnings = logs["warnings"]!.AsArray().Select(w => (string)w!).ToList();
        Assert.Single(warnings);
        Assert.StartsWith(warning, warnings[0], StringComparison.Ordinal);

        var metric = JsonNode.Parse(await GetAsync(reader, paths[3]))!;
        Assert.Equal(["bulk0", "bulk1", "bulk2", "bulk3", "x", "y"], metric["data"]!["result"]!.AsArray().Select(s => (string)s!["metric"]!["pod"]!));
        Assert.StartsWith(warning, (string)metric["warnings"]![0]!, StringComparison.Ordinal);

        // A delete request received by the reader's compactor hides the lines it covers in the peers' heads too.
        var deletion = Uri.EscapeDataString("{app=\"peers\", pod=\"y\"}");
        Assert.Equal(HttpStatusCode.NoContent,
            (await reader.SendAsync(HttpMethod.Post, $"/loki/api/v1/delete?query={deletion}&start={(now - 600_000_000_000L) / 1_000_000_000L}")).Status);
        logs = JsonNode.Parse(await GetAsync(reader, "/loki/api/v1/query_range?query=%7Bpod%3D~%22x%7Cy%7Cz%22%7D&limit=100" + range))!;
        Assert.Equal(["on both", "only on a"],
            logs["data"]!["result"]!.AsArray().SelectMany(s => s!["values"]!.AsArray().Select(v => (string)v![1]!)).Order(StringComparer.Ordinal));
    }
}
