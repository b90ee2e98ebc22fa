using Prometheus;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// Prometheus' notifier metrics as Loki exposes them: prefixed <c>loki_</c> and labelled with the tenant as
/// <c>user</c> (Loki wraps each tenant's notifier registry), plus <c>alertmanager</c>, the full URL posted to, on
/// everything that is per Alertmanager since Prometheus gave each Alertmanager its own queue.
/// </summary>
public sealed class NotifierMetrics
{
    public NotifierMetrics(IMetricFactory factory)
    {
        Latency = factory.CreateSummary("loki_prometheus_notifications_latency_seconds", "Latency quantiles for sending alert notifications.",
            new SummaryConfiguration
            {
                LabelNames = ["user", "alertmanager"],
                Objectives = [new QuantileEpsilonPair(0.5, 0.05), new QuantileEpsilonPair(0.9, 0.01), new QuantileEpsilonPair(0.99, 0.001)],
            });
        Errors = factory.CreateCounter("loki_prometheus_notifications_errors_total", "Total number of sent alerts affected by errors.",
            ["user", "alertmanager"]);
        Sent = factory.CreateCounter("loki_prometheus_notifications_sent_total", "Total number of alerts sent.", ["user", "alertmanager"]);
        Dropped = factory.CreateCounter("loki_prometheus_notifications_dropped_total",
            "Total number of alerts dropped due to errors when sending to Alertmanager.", ["user", "alertmanager"]);
        QueueLength = factory.CreateGauge("loki_prometheus_notifications_queue_length", "The number of alert notifications in the queue.",
            ["user", "alertmanager"]);
        QueueCapacity = factory.CreateGauge("loki_prometheus_notifications_queue_capacity", "The capacity of the alert notifications queue.", ["user"]);
        AlertmanagersDiscovered = factory.CreateGauge("loki_prometheus_notifications_alertmanagers_discovered",
            "The number of alertmanagers discovered and active.", ["user"]);
    }

    public Summary Latency { get; }

    public Counter Errors { get; }

    public Counter Sent { get; }

    /// <summary>Alerts dropped because the queue was full, the Alertmanager did not take them, or at shutdown.</summary>
    public Counter Dropped { get; }

    public Gauge QueueLength { get; }

    public Gauge QueueCapacity { get; }

    public Gauge AlertmanagersDiscovered { get; }
}
