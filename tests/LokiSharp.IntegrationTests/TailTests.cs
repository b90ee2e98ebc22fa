using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>Live tailing over WebSocket against the real server while another task pushes.</summary>
public sealed class TailTests : IAsyncLifetime
{
    private const string Config = """
        auth_enabled: false
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        limits_config: {max_concurrent_tail_requests: 2, ingestion_rate_mb: 500, ingestion_burst_size_mb: 1000, per_stream_rate_limit: 500MB, per_stream_rate_limit_burst: 1000MB}
        """;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private LokiProcess _server = null!;

    public async Task InitializeAsync() => _server = await LokiProcess.StartAsync(Config);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Uri TailUri(string path, string query, string extra = "") =>
        new($"ws://127.0.0.1:{_server.HttpPort}{path}?query={Uri.EscapeDataString(query)}{extra}");

    private async Task PushAsync(string app, params (long Ts, string Line)[] entries)
    {
        var values = string.Join(",", entries.Select(e => $"[\"{e.Ts.ToString(CultureInfo.InvariantCulture)}\",\"{e.Line}\"]"));
        var body = $$"""{"streams":[{"stream":{"app":"{{app}}"},"values":[{{values}}]}]}""";
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Wait);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return "";
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }

    private static async Task<List<(string Stream, string Ts, string Line)>> ReceiveEntriesAsync(ClientWebSocket socket, int count)
    {
        var entries = new List<(string, string, string)>();
        while (entries.Count < count)
        {
            var frame = JsonNode.Parse(await ReceiveTextAsync(socket))!;
            foreach (var stream in frame["streams"]!.AsArray())
            {
                foreach (var value in stream!["values"]!.AsArray())
                {
                    entries.Add((stream["stream"]!.ToJsonString(), value![0]!.GetValue<string>(), value[1]!.GetValue<string>()));
                }
            }
        }

        return entries;
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    [Fact]
    public async Task A_tail_replays_history_then_streams_pushed_entries_through_the_pipeline()
    {
        var t = Now - 5_000_000_000L;
        await PushAsync("shop", (t, "old order 1"), (t + 1, "old noise"));
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"shop\"} |= \"order\"", $"&start={t - 1}"), CancellationToken.None);

        var history = await ReceiveEntriesAsync(socket, 1);
        Assert.Equal([("{\"app\":\"shop\",\"service_name\":\"shop\"}", t.ToString(CultureInfo.InvariantCulture), "old order 1")],
            history.Select(e => (e.Stream.Replace("\"detected_level\":\"unknown\",", "", StringComparison.Ordinal), e.Ts, e.Line)).ToList());

        var live = Now;
        await PushAsync("shop", (live, "order 2"), (live + 1, "ignored line"), (live + 2, "order 3"));
        await PushAsync("other", (live + 3, "order from another stream"));
        var entries = await ReceiveEntriesAsync(socket, 2);
        Assert.Equal(["order 2", "order 3"], entries.Select(e => e.Line).ToList());
        Assert.Equal((live + 2).ToString(CultureInfo.InvariantCulture), entries[1].Ts);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    }

    [Fact]
    public async Task Categorized_frames_carry_stream_labels_and_metadata_separately()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Loki-Response-Encoding-Flags", "categorize-labels");
        await socket.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"cat\"} | logfmt"), CancellationToken.None);
        var ts = Now;
        await PushAsync("cat", (ts, "level=warn msg=meow"));

        var frame = await ReceiveTextAsync(socket);
        Assert.Equal(JsonNode.Parse($$$"""
            {"streams":[{"stream":{"app":"cat","service_name":"cat"},"values":[["{{{ts}}}","level=warn msg=meow",
              {"structuredMetadata":{"detected_level":"warn"},"parsed":{"level":"warn","msg":"meow"}}]]}],
             "encodingFlags":["categorize-labels"]}
            """)!.ToJsonString(), JsonNode.Parse(frame)!.ToJsonString());
    }

    [Fact]
    public async Task The_legacy_tail_sends_the_old_frame_shape()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(TailUri("/api/prom/tail", "{app=\"legacy\"}"), CancellationToken.None);
        var ts = 1_700_000_000_123_456_789L + ((Now - 1_700_000_000_000_000_000L) / 1_000_000_000L * 1_000_000_000L);
        await PushAsync("legacy", (ts, "hello"));

        var frame = JsonNode.Parse(await ReceiveTextAsync(socket))!;
        Assert.Equal("{app=\"legacy\", detected_level=\"unknown\", service_name=\"legacy\"}", frame["streams"]![0]!["labels"]!.GetValue<string>());
        Assert.Equal("hello", frame["streams"]![0]!["entries"]![0]!["line"]!.GetValue<string>());
        Assert.EndsWith(".123456789Z", frame["streams"]![0]!["entries"]![0]!["ts"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(frame.AsObject().ContainsKey("dropped_entries"));
        Assert.Null(frame["dropped_entries"]);
    }

    [Fact]
    public async Task Bad_parameters_are_refused_with_plain_text_before_the_upgrade()
    {
        using var delay = await _server.Http.GetAsync(new Uri("/loki/api/v1/tail?query=" + Uri.EscapeDataString("{app=\"x\"}") + "&delay_for=6", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, delay.StatusCode);
        Assert.Equal("delay_for can't be greater than 5\n", await delay.Content.ReadAsStringAsync());

        using var parse = await _server.Http.GetAsync(new Uri("/loki/api/v1/tail?query=" + Uri.EscapeDataString("{app=}"), UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, parse.StatusCode);
        Assert.StartsWith("parse error", await parse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var v2 = await _server.Http.GetAsync(new Uri("/loki/api/v2alpha/tail?query=" + Uri.EscapeDataString("{app=\"x\"}"), UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, v2.StatusCode);

        var socket = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"x\"}", "&delay_for=6"), CancellationToken.None));
        Assert.Contains("400", refused.Message, StringComparison.Ordinal);
        socket.Dispose();
    }

    [Fact]
    public async Task A_tail_beyond_max_concurrent_tail_requests_is_closed_with_1011()
    {
        using var first = new ClientWebSocket();
        using var second = new ClientWebSocket();
        await first.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"busy\"}"), CancellationToken.None);
        await second.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"busy\"}"), CancellationToken.None);
        using var third = new ClientWebSocket();
        await third.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"busy\"}"), CancellationToken.None);

        Assert.Equal("", await ReceiveTextAsync(third));
        Assert.Equal(WebSocketCloseStatus.InternalServerError, third.CloseStatus);
        Assert.Equal("max concurrent tail requests limit exceeded, count > limit (3 > 2)", third.CloseStatusDescription);

        // Closing one frees its slot.
        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            using var attempt = new ClientWebSocket();
            await attempt.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"busy\"}"), CancellationToken.None);
            var ts = Now;
            await PushAsync("busy", (ts, "free slot"));
            string text;
            try
            {
                text = await ReceiveTextAsync(attempt);
            }
            catch (OperationCanceledException)
            {
                // On a loaded machine the closed tail's slot may not be free yet; try again until the deadline.
                text = "";
            }

            if (text.Length > 0)
            {
                Assert.Contains("free slot", text, StringComparison.Ordinal);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the slot of the closed tail was never freed");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_client_that_does_not_read_gets_dropped_entries_reported()
    {
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(TailUri("/loki/api/v1/tail", "{app=\"flood\"}"), CancellationToken.None);
        var line = new string('x', 60_000);
        var ts = Now;

        // Each push is one frame of 60 kB; with the socket's buffers full the server's 10-frame buffer fills and
        // later frames are dropped.
        for (var i = 0; i < 200; i++)
        {
            await PushAsync("flood", (ts + i, line));
        }

        // Now read everything while pushing a little: the first frame that fits reports what was dropped.
        var reader = Task.Run(async () =>
        {
            while (true)
            {
                var frame = JsonNode.Parse(await ReceiveTextAsync(socket))!;
                if (frame["dropped_entries"] is JsonArray dropped)
                {
                    return dropped;
                }
            }
        });
        var deadline = DateTime.UtcNow + Wait;
        while (!reader.IsCompleted && DateTime.UtcNow < deadline)
        {
            await PushAsync("flood", (Now, "after"));
            await Task.Delay(20);
        }

        var droppedEntries = await reader;
        Assert.InRange(droppedEntries.Count, 1, 1000);
        Assert.Equal("flood", droppedEntries[0]!["labels"]!["app"]!.GetValue<string>());
        Assert.Matches("^[0-9]+$", droppedEntries[0]!["timestamp"]!.GetValue<string>());
    }
}
