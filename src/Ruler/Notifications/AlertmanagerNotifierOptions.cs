using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// How the ruler reaches Alertmanager; each property is named after the Loki <c>ruler</c> key it comes from.
/// Only Alertmanager's v2 API is spoken (<c>enable_alertmanager_v2</c>; Alertmanager 0.27 removed v1).
/// </summary>
public sealed record AlertmanagerNotifierOptions
{
    /// <summary><c>ruler.alertmanager_url</c>: comma-separated URLs, each with its path prefix and optional user:password.</summary>
    public string AlertmanagerUrl { get; init; } = "";

    /// <summary><c>ruler.enable_alertmanager_discovery</c>: the URLs' hosts are DNS SRV names (<c>_http._tcp.alertmanager</c>).</summary>
    public bool EnableAlertmanagerDiscovery { get; init; }

    /// <summary><c>ruler.alertmanager_refresh_interval</c>: how often SRV names are resolved again.</summary>
    public TimeSpan AlertmanagerRefreshInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>ruler.notification_queue_capacity</c>: alerts queued per tenant before the oldest are dropped.</summary>
    public int NotificationQueueCapacity { get; init; } = 10_000;

    /// <summary><c>ruler.notification_timeout</c>: the timeout of one POST to one Alertmanager.</summary>
    public TimeSpan NotificationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>ruler.external_labels</c>: added to every alert that lacks the label, as Prometheus' notifier does (rule
    /// evaluation must not add them to the alert's labels itself).
    /// </summary>
    public LabelSet ExternalLabels { get; init; } = LabelSet.Empty;

    /// <summary><c>ruler.alertmanager_client</c>.</summary>
    public AlertmanagerClientOptions AlertmanagerClient { get; init; } = new();

    /// <summary>How long stopping waits for queued alerts to be sent (Loki drains its notifier queue on stop too).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
