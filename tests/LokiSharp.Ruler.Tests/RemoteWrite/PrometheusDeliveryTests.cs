using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.RemoteWrite;
using LokiSharp.Ruler.Tests.Delivery;
using LokiSharp.Tests.Neighbours;

namespace LokiSharp.Ruler.Tests.RemoteWrite;

/// <summary>The remote-write client against the real Prometheus: what it stored is read back with PromQL.</summary>
public sealed class PrometheusDeliveryTests(PrometheusFixture prometheus) : IClassFixture<PrometheusFixture>
{
    [Fact]
    public async Task Recorded_samples_are_queryable_with_their_exact_labels_and_values()
    {
        var metrics = RemoteWriteTestData.NewMetrics();
        var now = DateTimeOffset.UtcNow;
        var at = now.ToUnixTimeMilliseconds() / 1000 * 1000 - 10_000;
        var series = LabelSet.From(("__name__", "django:errors:rate5m"), ("app", "django"), ("cluster", "eu-1"));
        await using (var client = new RemoteWriteClient(new RemoteWriteOptions { Url = prometheus.RemoteWriteUrl }, metrics))
        {
            client.Append("fake", [new RecordedSample(series, at - 5_000, 10.25), new RecordedSample(series, at, 12.5)]);
            await Eventually.HoldsAsync(
                () => metrics.Samples.WithLabels("fake", RemoteWriteTestData.RemoteName(prometheus.RemoteWriteUrl), prometheus.RemoteWriteUrl.ToString()).Value == 2,
                "accepted by Prometheus");
        }

        var result = Assert.Single(await prometheus.QueryAsync("django:errors:rate5m", DateTimeOffset.FromUnixTimeMilliseconds(at)));
        Assert.Equal("""{"__name__":"django:errors:rate5m","app":"django","cluster":"eu-1"}""", result.GetProperty("metric").GetRawText());
        Assert.Equal("12.5", result.GetProperty("value")[1].GetString());
        var earlier = Assert.Single(await prometheus.QueryAsync("django:errors:rate5m", DateTimeOffset.FromUnixTimeMilliseconds(at - 5_000)));
        Assert.Equal("10.25", earlier.GetProperty("value")[1].GetString());
    }

    [Fact]
    public async Task Samples_for_a_receiver_that_is_down_are_retried_and_delivered_once_it_is_up()
    {
        var port = NeighbourProcess.FreePort();
        var later = PrometheusFixture.OnPort(port);
        var metrics = RemoteWriteTestData.NewMetrics();
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1000 - 5_000;
        var options = new RemoteWriteOptions { Url = later.RemoteWriteUrl, MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(200) };
        var labels = new[] { "fake", RemoteWriteTestData.RemoteName(options.Url), options.Url.ToString() };
        try
        {
            await using (var client = new RemoteWriteClient(options, metrics))
            {
                client.Append("fake", [new RecordedSample(LabelSet.From(("__name__", "retried_series")), at, 42)]);
                await Eventually.HoldsAsync(() => metrics.SamplesRetried.WithLabels(labels).Value >= 1, "a refused send retried");
                await later.InitializeAsync();
                await Eventually.HoldsAsync(() => metrics.Samples.WithLabels(labels).Value == 1, "delivered after the receiver came up");
            }

            var result = Assert.Single(await later.QueryAsync("retried_series", DateTimeOffset.FromUnixTimeMilliseconds(at)));
            Assert.Equal("42", result.GetProperty("value")[1].GetString());
            Assert.Equal(0, metrics.SamplesFailed.WithLabels(labels).Value);
        }
        finally
        {
            await later.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_sample_Prometheus_refuses_with_400_is_not_retried()
    {
        var metrics = RemoteWriteTestData.NewMetrics();
        var labels = new[] { "fake", RemoteWriteTestData.RemoteName(prometheus.RemoteWriteUrl), prometheus.RemoteWriteUrl.ToString() };
        await using (var client = new RemoteWriteClient(new RemoteWriteOptions { Url = prometheus.RemoteWriteUrl }, metrics))
        {
            // Far older than the head: Prometheus answers 400 "out of bounds".
            client.Append("fake", [new RecordedSample(LabelSet.From(("__name__", "too_old")), 1_000, 1)]);
            await Eventually.HoldsAsync(() => metrics.SamplesFailed.WithLabels(labels).Value == 1, "refused and counted as failed");
        }

        Assert.Equal(0, metrics.SamplesRetried.WithLabels(labels).Value);
        Assert.Equal(0, metrics.Samples.WithLabels(labels).Value);
    }
}
