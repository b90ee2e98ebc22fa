using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// Where a rule group hands the alerts an evaluation wants sent (firing, resent or resolved). Queues and returns
/// at once: sending to Alertmanager must never hold up rule evaluation, pushes or queries.
/// </summary>
public interface IAlertNotifier
{
    /// <summary>Queues <paramref name="alerts"/> of <paramref name="tenant"/> for every configured Alertmanager.</summary>
    void Send(string tenant, IReadOnlyList<AlertNotification> alerts);
}
