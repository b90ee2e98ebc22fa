using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.Alerting;

/// <summary>Restoring the <c>for</c> state after a restart (Prometheus' <c>Group.RestoreForState</c>).</summary>
public sealed partial class AlertingRule
{
    /// <summary>
    /// Gives the alerts active at <paramref name="time"/> (the first evaluation after a start) the <c>ActiveAt</c> they
    /// had before the restart, from <paramref name="saved"/> (alert labels to ActiveAt) last written at
    /// <paramref name="downAt"/>, shifted as Prometheus does: an alert that had fired keeps its time; one whose
    /// remaining pending time is under <paramref name="forGracePeriod"/> fires no sooner than the grace period;
    /// otherwise the outage is added to its pending time. Nothing is restored for a rule whose <c>for</c> is under
    /// the grace period or after an outage longer than <paramref name="outageTolerance"/>. Returns the alerts restored.
    /// </summary>
    public int RestoreForState(DateTimeOffset time, IReadOnlyDictionary<LabelSet, DateTimeOffset> saved, DateTimeOffset downAt,
        TimeSpan outageTolerance, TimeSpan forGracePeriod)
    {
        Restored = true;
        if (HoldDuration < forGracePeriod || time - downAt > outageTolerance)
        {
            return 0;
        }

        var restored = 0;
        foreach (var alert in _active.Values)
        {
            if (alert.State == AlertState.Inactive || !saved.TryGetValue(alert.Labels, out var activeAt))
            {
                continue;
            }

            var remaining = HoldDuration - (downAt - activeAt);
            if (remaining <= TimeSpan.Zero)
            {
                // It was firing when the ruler went down: the next evaluation fires it again.
            }
            else if (remaining < forGracePeriod)
            {
                activeAt = time + forGracePeriod - HoldDuration;
            }
            else
            {
                activeAt += time - downAt;
            }

            alert.ActiveAt = activeAt;
            restored++;
        }

        return restored;
    }
}
