using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Notifications;

namespace LokiSharp.Ruler.Tests.Notifications;

public sealed class AlertmanagerPayloadTests
{
    [Fact]
    public void Alerts_are_written_as_Alertmanager_v2_postable_alerts()
    {
        var startsAt = new DateTimeOffset(2026, 12, 6, 20, 30, 1, 234, TimeSpan.FromHours(2));
        var alert = new AlertNotification(LabelSet.From(("alertname", "HighErrorRate"), ("app", "django")),
            LabelSet.From(("summary", "errors: 12")), startsAt, startsAt.AddMinutes(4), "http://loki:3100/graph?x=1");
        var json = Encoding.UTF8.GetString(AlertmanagerPayload.Write([alert], LabelSet.Empty));
        Assert.Equal(
            "[{\"labels\":{\"alertname\":\"HighErrorRate\",\"app\":\"django\"},\"annotations\":{\"summary\":\"errors: 12\"}," +
            "\"startsAt\":\"2026-12-06T18:30:01.234Z\",\"endsAt\":\"2026-12-06T18:34:01.234Z\",\"generatorURL\":\"http://loki:3100/graph?x=1\"}]",
            json);
    }

    [Fact]
    public void External_labels_fill_only_the_labels_an_alert_lacks_and_unknown_times_are_left_out()
    {
        var alert = new AlertNotification(LabelSet.From(("alertname", "A"), ("cluster", "mine")), LabelSet.Empty, null, null, "");
        var external = LabelSet.From(("cluster", "eu-1"), ("replica", "r1"));
        var json = Encoding.UTF8.GetString(AlertmanagerPayload.Write([alert], external));
        Assert.Equal("""[{"labels":{"alertname":"A","cluster":"mine","replica":"r1"},"annotations":{}}]""", json);
    }
}
