using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>A 2xx push means the entries survive kill -9 and a restart, exactly once.</summary>
public sealed class DurabilityTests
{
    [Fact]
    public async Task Sigkill_during_concurrent_pushes_loses_no_acknowledged_entry_and_duplicates_none()
    {
        var server = await LokiProcess.StartAsync();
        server.KeepWorkDir = true;
        var baseTs = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 30) * 1_000_000_000;
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        async Task Pusher(int worker)
        {
            for (var i = 0; i < 400 && !stop.IsCancellationRequested; i++)
            {
                var line = $"worker {worker} line {i}";
                var ts = (baseTs + (worker * 1_000_000L) + i).ToString(CultureInfo.InvariantCulture);
                var body = $$"""{"streams":[{"stream":{"app":"durable","worker":"{{worker}}"},"values":[["{{ts}}","{{line}}"]]}]}""";
                try
                {
                    using var response = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
                        new StringContent(body, Encoding.UTF8, "application/json"), stop.Token);
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        acknowledged.Add(line);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    return;
                }
            }
        }

        var pushers = Enumerable.Range(0, 4).Select(Pusher).ToArray();
        while (acknowledged.Count < 200)
        {
            await Task.Delay(20);
        }

        await server.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(pushers);
        Assert.NotEqual(0, server.Process.ExitCode);

        await using var restarted = await server.RestartAsync();
        await server.DisposeAsync();
        var query = Uri.EscapeDataString("{app=\"durable\"}");
        var end = DateTimeOffset.UtcNow.ToUnixTimeSeconds() * 1_000_000_000 + 1;
        var body = await restarted.Http.GetStringAsync(new Uri($"/loki/api/v1/query_range?query={query}&start={baseTs - 1}&end={end}&limit=5000", UriKind.Relative));
        var stored = JsonNode.Parse(body)!["data"]!["result"]!.AsArray()
            .SelectMany(stream => stream!["values"]!.AsArray().Select(v => v![1]!.GetValue<string>()))
            .ToList();

        Assert.Empty(acknowledged.Except(stored));
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Contains("msg=\"write-ahead log replayed\"", restarted.Output, StringComparison.Ordinal);
    }
}
