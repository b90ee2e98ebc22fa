using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Notifications;
using LokiSharp.Ruler.Tests.Delivery;
using LokiSharp.Tests.Neighbours;

namespace LokiSharp.Ruler.Tests.Notifications;

/// <summary>The notifier against the real Alertmanager: what it received is read back through its own v2 API.</summary>
public sealed class AlertmanagerDeliveryTests(AlertmanagerFixture alertmanager) : IClassFixture<AlertmanagerFixture>
{
    [Fact]
    public async Task A_firing_alert_arrives_with_its_labels_annotations_start_and_generator_url()
    {
        var options = new AlertmanagerNotifierOptions
        {
            AlertmanagerUrl = alertmanager.Url.ToString(),
            ExternalLabels = LabelSet.From(("cluster", "eu-1")),
        };
        var startsAt = NotifierTestData.Now() - TimeSpan.FromMinutes(1);
        var alert = NotifierTestData.Firing("ArrivesIntact", startsAt, ("app", "django"), ("severity", "page"));
        await using var notifier = new AlertmanagerNotifier(options, NotifierTestData.NewMetrics());
        notifier.Send("fake", [alert]);

        var received = await WaitForAlertAsync("ArrivesIntact");
        Assert.Equal("""{"alertname":"ArrivesIntact","app":"django","cluster":"eu-1","severity":"page"}""", received.GetProperty("labels").GetRawText());
        Assert.Equal("""{"summary":"ArrivesIntact is firing"}""", received.GetProperty("annotations").GetRawText());
        Assert.Equal(startsAt, received.GetProperty("startsAt").GetDateTimeOffset());
        Assert.Equal(alert.EndsAt, received.GetProperty("endsAt").GetDateTimeOffset());
        Assert.Equal(alert.GeneratorUrl, received.GetProperty("generatorURL").GetString());
        Assert.Equal("active", received.GetProperty("status").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_resolved_notification_removes_the_alert_from_the_active_alerts()
    {
        await using var notifier = new AlertmanagerNotifier(new AlertmanagerNotifierOptions { AlertmanagerUrl = alertmanager.Url.ToString() },
            NotifierTestData.NewMetrics());
        var firing = NotifierTestData.Firing("GetsResolved", NotifierTestData.Now() - TimeSpan.FromMinutes(2));
        notifier.Send("fake", [firing]);
        await WaitForAlertAsync("GetsResolved");

        notifier.Send("fake", [firing with { EndsAt = NotifierTestData.Now() - TimeSpan.FromSeconds(1) }]);
        await Eventually.HoldsAsync(async () => (await alertmanager.AlertsAsync("alertname=\"GetsResolved\"")).Length == 0, "the alert resolved");
    }

    [Fact]
    public async Task With_one_Alertmanager_down_the_other_still_receives_and_the_dead_ones_errors_grow()
    {
        var dead = $"http://127.0.0.1:{NeighbourProcess.FreePort()}";
        var metrics = NotifierTestData.NewMetrics();
        var options = new AlertmanagerNotifierOptions { AlertmanagerUrl = $"{dead},{alertmanager.Url}" };
        await using var notifier = new AlertmanagerNotifier(options, metrics);
        Assert.Equal(2, notifier.Alertmanagers.Count);
        notifier.Send("fake", [NotifierTestData.Firing("OneDown", NotifierTestData.Now())]);

        await WaitForAlertAsync("OneDown");
        await Eventually.HoldsAsync(() => metrics.Errors.WithLabels("fake", dead + "/api/v2/alerts").Value == 1, "an error counted for the dead one");
        Assert.Equal(0, metrics.Errors.WithLabels("fake", new Uri(alertmanager.Url, "/api/v2/alerts").ToString()).Value);
        await Eventually.HoldsAsync(() => metrics.Dropped.WithLabels("fake", dead + "/api/v2/alerts").Value == 1, "the dead one's batch dropped");
        Assert.Equal(0, metrics.Dropped.WithLabels("fake", new Uri(alertmanager.Url, "/api/v2/alerts").ToString()).Value);
    }

    private async Task<JsonElement> WaitForAlertAsync(string alertName)
    {
        JsonElement[] found = [];
        await Eventually.HoldsAsync(async () => (found = await alertmanager.AlertsAsync($"alertname=\"{alertName}\"")).Length == 1,
            $"{alertName} in Alertmanager");
        return found[0];
    }
}
