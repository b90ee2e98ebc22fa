using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests;

/// <summary>Answers that must match Loki 3's to the timestamp and label: step alignment, empty groupings.</summary>
public sealed class LokiCompatibilityTests
{
    [Fact]
    public async Task Metric_range_points_sit_on_multiples_of_the_step_when_start_is_not_one()
    {
        await using var server = await LokiProcess.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await PushAsync(server, now - 1800, ("app", "align"), ("pod", "a"));

        var start = now - 3600 + 7 - ((now - 3600) % 300);
        var query = Uri.EscapeDataString("sum(count_over_time({app=\"align\"}[10m]))");
        var body = JsonNode.Parse(await server.Http.GetStringAsync(new Uri(
            $"/loki/api/v1/query_range?query={query}&start={start}&end={now}&step=300", UriKind.Relative)))!;

        var times = body["data"]!["result"]![0]!["values"]!.AsArray().Select(v => v![0]!.GetValue<double>()).ToList();
        Assert.NotEmpty(times);
        Assert.All(times, t => Assert.Equal(0, t % 300));
    }

    [Fact]
    public async Task Sum_without_an_empty_list_keeps_every_label_and_by_an_empty_list_drops_them()
    {
        await using var server = await LokiProcess.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await PushAsync(server, now - 30, ("app", "group"), ("pod", "a"));
        await PushAsync(server, now - 20, ("app", "group"), ("pod", "b"));

        Assert.Equal(["{app=group,detected_level=unknown,pod=a,service_name=group}", "{app=group,detected_level=unknown,pod=b,service_name=group}"],
            await InstantLabelsAsync(server, "sum without () (count_over_time({app=\"group\"}[1m]))", now));
        Assert.Equal(["{}"], await InstantLabelsAsync(server, "sum by () (count_over_time({app=\"group\"}[1m]))", now));
        Assert.Equal(["{app=group,detected_level=unknown,service_name=group}"], await InstantLabelsAsync(server, "sum without (pod) (count_over_time({app=\"group\"}[1m]))", now));
    }

    private static async Task<List<string>> InstantLabelsAsync(LokiProcess server, string query, long time)
    {
        var body = JsonNode.Parse(await server.Http.GetStringAsync(new Uri(
            $"/loki/api/v1/query?query={Uri.EscapeDataString(query)}&time={time}", UriKind.Relative)))!;
        return [.. body["data"]!["result"]!.AsArray()
            .Select(r => "{" + string.Join(",", r!["metric"]!.AsObject().Select(kv => kv.Key + "=" + kv.Value!.GetValue<string>())) + "}")
            .Order(StringComparer.Ordinal)];
    }

    private static async Task PushAsync(LokiProcess server, long seconds, params (string Name, string Value)[] labels)
    {
        var stream = string.Join(",", labels.Select(l => $"\"{l.Name}\":\"{l.Value}\""));
        var ts = (seconds * 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        using var response = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
            new StringContent($$"""{"streams":[{"stream":{{{stream}}},"values":[["{{ts}}","line"]]}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }
}
