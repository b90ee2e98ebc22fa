using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.Alerting;

/// <summary>
/// One alert of an alerting rule (Prometheus' <c>rules.Alert</c>): its labels (the series' without <c>__name__</c>, the
/// rule's labels, <c>alertname</c>), expanded annotations, last value and the times of its life; null stands for
/// Go's zero time.
/// </summary>
public sealed class Alert
{
    internal Alert(LabelSet labels, LabelSet annotations, double value, DateTimeOffset activeAt)
    {
        Labels = labels;
        Annotations = annotations;
        Value = value;
        ActiveAt = activeAt;
    }

    /// <summary>The alert's identity.</summary>
    public LabelSet Labels { get; }

    /// <summary>The annotations expanded at the last evaluation that saw the alert.</summary>
    public LabelSet Annotations { get; internal set; }

    /// <summary>The query's value at the last evaluation that saw the alert.</summary>
    public double Value { get; internal set; }

    /// <summary>The state.</summary>
    public AlertState State { get; internal set; } = AlertState.Pending;

    /// <summary>Since when the condition has held.</summary>
    public DateTimeOffset ActiveAt { get; internal set; }

    /// <summary>When it went from pending to firing (the notification's <c>startsAt</c>).</summary>
    public DateTimeOffset? FiredAt { get; internal set; }

    /// <summary>When it stopped firing (or pending); null while active.</summary>
    public DateTimeOffset? ResolvedAt { get; internal set; }

    /// <summary>When it was last sent to Alertmanager.</summary>
    public DateTimeOffset? LastSentAt { get; internal set; }

    /// <summary>The <c>endsAt</c> sent with a firing alert: Alertmanager resolves it by itself after that.</summary>
    public DateTimeOffset? ValidUntil { get; internal set; }

    /// <summary>Since when <c>keep_firing_for</c> has kept it firing without the condition.</summary>
    public DateTimeOffset? KeepFiringSince { get; internal set; }

    internal Alert Copy() => (Alert)MemberwiseClone();

    // Prometheus' needsSending: never pending alerts; a resolution not yet sent; otherwise every resend delay.
    internal bool NeedsSending(DateTimeOffset ts, TimeSpan resendDelay)
    {
        if (State == AlertState.Pending)
        {
            return false;
        }

        var lastSent = LastSentAt ?? DateTimeOffset.MinValue;
        if (ResolvedAt is { } resolved && resolved > lastSent)
        {
            return true;
        }

        return LastSentAt is null || LastSentAt.Value + resendDelay < ts;
    }
}
