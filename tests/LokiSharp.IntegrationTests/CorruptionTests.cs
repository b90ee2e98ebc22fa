using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// A stored block damaged on disk: every read path over HTTP answers with what the good blocks hold and a warning
/// naming the block, the damage is logged and counted once, and the server stays up.
/// </summary>
public sealed class CorruptionTests
{
    private const int Lines = 3000;

    // Small blocks: each head part of 16 KiB is stored as a chunk of one block, so the pushed lines span many.
    private const string Config = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        ingester: {chunk_block_size: 16384}
        pattern_ingester: {enabled: true}
        """;

    [Fact]
    public async Task A_corrupt_block_is_skipped_with_a_warning_on_every_read_path_and_reported_once()
    {
        await using var server = await LokiProcess.StartAsync(Config);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var first = (now - Lines - 60) * 1_000_000_000L;
        var values = string.Join(",", Enumerable.Range(0, Lines).Select(i =>
            $"[\"{(first + (i * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture)}\",\"level=info msg=\\\"request served\\\" path=/api/items/{i} status=200 took={i % 97}ms\"]"));
        await PushAsync(server, $$"""{"streams":[{"stream":{"app":"corrupt"},"values":[{{values}}]}]}""");
        using (var flush = await server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
        }

        var pack = Assert.Single(Directory.GetFiles(Path.Combine(server.WorkDir, "data", "chunks", "fake", "chunks"), "*.pack"));
        var (chunkOffset, skipped) = DamageOneBlock(pack);
        var good = Lines - skipped;
        var expectedWarning = $"skipped corrupt block 1 of 1 in chunk {Path.GetFileName(pack)}@{chunkOffset} ({skipped} entries, ";
        var range = $"start={first - 1_000_000_000L}&end={(now + 1) * 1_000_000_000L}";

        // Log query.
        var log = await GetJsonAsync(server, "/loki/api/v1/query_range?query=" + Uri.EscapeDataString("{app=\"corrupt\"}") + $"&limit=5000&{range}");
        Assert.Equal(good, log["data"]!["result"]!.AsArray().Sum(s => s!["values"]!.AsArray().Count));
        AssertWarning(log, expectedWarning);

        // Metric queries, range and instant: the count is what the good blocks hold, not silently less.
        var query = Uri.EscapeDataString("sum(count_over_time({app=\"corrupt\"}[2h]))");
        var matrix = await GetJsonAsync(server, $"/loki/api/v1/query_range?query={query}&start={now}&end={now}&step=60");
        Assert.Equal(good.ToString(CultureInfo.InvariantCulture), matrix["data"]!["result"]![0]!["values"]![0]![1]!.GetValue<string>());
        AssertWarning(matrix, expectedWarning);
        var vector = await GetJsonAsync(server, $"/loki/api/v1/query?query={query}&time={now}");
        Assert.Equal(good.ToString(CultureInfo.InvariantCulture), vector["data"]!["result"]![0]!["value"]![1]!.GetValue<string>());
        AssertWarning(vector, expectedWarning);

        // Logs Drilldown's endpoints read lines too.
        var selector = Uri.EscapeDataString("{app=\"corrupt\"}");
        AssertWarning(await GetJsonAsync(server, $"/loki/api/v1/detected_fields?query={selector}&line_limit=5000&{range}"), expectedWarning);
        AssertWarning(await GetJsonAsync(server, $"/loki/api/v1/detected_field/path/values?query={selector}&line_limit=5000&{range}"), expectedWarning);
        AssertWarning(await GetJsonAsync(server, $"/loki/api/v1/patterns?query={selector}&{range}"), expectedWarning);

        // The live tail's history.
        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.HttpPort}/loki/api/v1/tail?query={selector}&limit=5000&start={first - 1_000_000_000L}"), CancellationToken.None);
            AssertWarning(JsonNode.Parse(await ReceiveTextAsync(socket))!, expectedWarning);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }

        // Logged and counted once for the block, however many queries met it.
        var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("loki_lokisharp_corrupt_data_total{tenant=\"fake\",kind=\"block\"} 1\n", metrics, StringComparison.Ordinal);
        var logged = server.Output.Split('\n').Where(l => l.Contains("corrupt data skipped", StringComparison.Ordinal)).ToList();
        Assert.Contains(pack, Assert.Single(logged), StringComparison.Ordinal);

        // Still serving.
        using (var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await PushAsync(server, $$"""{"streams":[{"stream":{"app":"healthy"},"values":[["{{(now * 1_000_000_000L).ToString(CultureInfo.InvariantCulture)}}","fine"]]}]}""");
        var healthy = await GetJsonAsync(server, "/loki/api/v1/query_range?query=" + Uri.EscapeDataString("{app=\"healthy\"}") + $"&{range}");
        Assert.Null(healthy["warnings"]);
        Assert.Equal("fine", healthy["data"]!["result"]![0]!["values"]![0]![1]!.GetValue<string>());
    }

    /// <summary>Flips bytes inside the payload of the third chunk's block; returns the chunk's offset and entry count.</summary>
    private static (long Offset, int Entries) DamageOneBlock(string pack)
    {
        var bytes = File.ReadAllBytes(pack);
        var chunks = new List<(int Start, ChunkLayout Layout)>();
        var start = 8;
        while (start < bytes.Length && chunks.Count < 3)
        {
            // A chunk ends with its footer magic; the one whose table checksum holds is the real end.
            var end = start + 24;
            ChunkLayout? layout = null;
            while (layout is null)
            {
                end = bytes.AsSpan(end).IndexOf("LKSE"u8) is var at and >= 0 ? end + at + 4 : throw new InvalidDataException("no chunk end found");
                try
                {
                    layout = ChunkLayout.Parse(bytes.AsSpan(start, end - start));
                }
                catch (ChunkCorruptException)
                {
                    // A footer magic inside compressed data; look further.
                }
            }

            chunks.Add((start, layout));
            start = end;
        }

        var (chunkStart, chunk) = chunks[2];
        var block = Assert.Single(chunk.Blocks);
        using (var file = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite))
        {
            var position = chunkStart + block.Offset + (block.CompressedSize / 2);
            file.Position = position;
            file.Write([(byte)(bytes[position] ^ 0xFF), (byte)(bytes[position + 1] ^ 0xFF)]);
        }

        return (chunkStart, block.EntryCount);
    }

    private static void AssertWarning(JsonNode response, string expectedStart)
    {
        var warnings = response["warnings"]?.AsArray().Select(w => w!.GetValue<string>()).ToList() ?? [];
        Assert.True(warnings.Count == 1 && warnings[0].StartsWith(expectedStart, StringComparison.Ordinal),
            $"expected one warning starting with \"{expectedStart}\", got [{string.Join(" | ", warnings)}] in {response.ToJsonString()[..Math.Min(400, response.ToJsonString().Length)]}");
        Assert.EndsWith("checksum mismatch", warnings[0], StringComparison.Ordinal);
    }

    private static async Task PushAsync(LokiProcess server, string body)
    {
        using var response = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task<JsonNode> GetJsonAsync(LokiProcess server, string pathAndQuery)
    {
        using var response = await server.Http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{pathAndQuery}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }
}
