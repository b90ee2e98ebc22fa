using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Notifications;
using Prometheus;

namespace LokiSharp.Ruler.Tests.Notifications;

internal static class NotifierTestData
{
    public static NotifierMetrics NewMetrics() => new(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));

    // Alertmanager keeps milliseconds, so the times compared are whole milliseconds.
    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public static AlertNotification Firing(string alertName, DateTimeOffset startsAt, params (string Name, string Value)[] labels) =>
        new(LabelSet.From([.. labels, ("alertname", alertName)]), LabelSet.From(("summary", $"{alertName} is firing")),
            startsAt, startsAt + TimeSpan.FromMinutes(4), $"http://loki.example/graph?g0.expr={alertName}");
}
