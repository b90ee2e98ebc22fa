using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.Alerting;

/// <summary>
/// An alert as sent to Alertmanager (Loki's <c>SendAlerts</c>): <c>startsAt</c> is when it fired, <c>endsAt</c> its
/// resolution time or, while firing, its validity (<see cref="Alert.ValidUntil"/>).
/// </summary>
public sealed record AlertNotification(LabelSet Labels, LabelSet Annotations, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, string GeneratorUrl)
{
    /// <summary>The notification for a sent alert.</summary>
    public static AlertNotification From(Alert alert, string generatorUrl) =>
        new(alert.Labels, alert.Annotations, alert.FiredAt, alert.ResolvedAt ?? alert.ValidUntil, generatorUrl);
}
