using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Tests;

public class AlertingRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private static readonly LabelSet Pod = LabelSet.From(("app", "django"), ("pod", "p1"));

    private static AlertingRule Rule(TimeSpan hold, TimeSpan keepFiringFor = default) => new(
        "HighErrorRate", hold, keepFiringFor, [new("severity", "page")],
        [new("summary", "{{ $labels.pod }} at {{ $value | humanize }}")], LabelSet.Empty, "http://loki");

    private static RuleSample[] Errors(double value = 12) => [new(Pod, value)];

    private static DateTimeOffset At(int minutes) => T0 + TimeSpan.FromMinutes(minutes);

    [Fact]
    public void PendingThenFiringAfterForThenResolved()
    {
        var rule = Rule(TimeSpan.FromMinutes(2));
        Assert.Equal(AlertState.Unknown, rule.State);
        rule.Evaluate(Errors(), At(0));
        var alert = Assert.Single(rule.ActiveAlerts());
        Assert.Equal(AlertState.Pending, alert.State);
        Assert.Equal(At(0), alert.ActiveAt);
        Assert.Equal(LabelSet.From(("alertname", "HighErrorRate"), ("app", "django"), ("pod", "p1"), ("severity", "page")), alert.Labels);
        Assert.Equal("p1 at 12", alert.Annotations.Get("summary"));
        Assert.Empty(rule.AlertsToSend(At(0), Interval, Interval));

        rule.Evaluate(Errors(), At(1));
        Assert.Equal(AlertState.Pending, rule.State);
        rule.Evaluate(Errors(1234), At(2));
        alert = Assert.Single(rule.ActiveAlerts());
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.Equal(At(2), alert.FiredAt);
        Assert.Equal(At(0), alert.ActiveAt);
        Assert.Equal("p1 at 1.234k", alert.Annotations.Get("summary"));

        rule.Evaluate([], At(3));
        Assert.Empty(rule.ActiveAlerts());
        var resolved = Assert.Single(rule.CurrentAlerts());
        Assert.Equal(AlertState.Inactive, resolved.State);
        Assert.Equal(At(3), resolved.ResolvedAt);
        Assert.Equal(AlertState.Inactive, rule.State);
    }

    [Fact]
    public void PendingAlertThatGoesAwayIsDroppedAtOnce()
    {
        var rule = Rule(TimeSpan.FromMinutes(5));
        rule.Evaluate(Errors(), At(0));
        rule.Evaluate([], At(1));
        Assert.Empty(rule.CurrentAlerts());
    }

    [Fact]
    public void ZeroForFiresOnTheFirstEvaluation()
    {
        var rule = Rule(TimeSpan.Zero);
        rule.Evaluate(Errors(), At(0));
        Assert.Equal(AlertState.Firing, Assert.Single(rule.ActiveAlerts()).State);
    }

    [Fact]
    public void ResolvedAlertsAreKeptFifteenMinutesThenDropped()
    {
        var rule = Rule(TimeSpan.Zero);
        rule.Evaluate(Errors(), At(0));
        rule.Evaluate([], At(1));
        rule.Evaluate([], At(16));
        Assert.Single(rule.CurrentAlerts());
        rule.Evaluate([], At(17));
        Assert.Empty(rule.CurrentAlerts());
    }

    [Fact]
    public void ResolvedAlertThatReturnsStartsOverAsPending()
    {
        var rule = Rule(TimeSpan.FromMinutes(1));
        rule.Evaluate(Errors(), At(0));
        rule.Evaluate(Errors(), At(1));
        rule.Evaluate([], At(2));
        rule.Evaluate(Errors(), At(3));
        var alert = Assert.Single(rule.CurrentAlerts());
        Assert.Equal(AlertState.Pending, alert.State);
        Assert.Equal(At(3), alert.ActiveAt);
        Assert.Null(alert.ResolvedAt);
    }

    [Fact]
    public void KeepFiringForHoldsTheAlertAfterTheConditionEnds()
    {
        var rule = Rule(TimeSpan.Zero, keepFiringFor: TimeSpan.FromMinutes(2));
        rule.Evaluate(Errors(), At(0));
        rule.Evaluate([], At(1));
        var alert = Assert.Single(rule.ActiveAlerts());
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.Equal(At(1), alert.KeepFiringSince);
        rule.Evaluate([], At(2));
        Assert.Equal(AlertState.Firing, Assert.Single(rule.ActiveAlerts()).State);
        rule.Evaluate([], At(3));
        Assert.Empty(rule.ActiveAlerts());
        Assert.Equal(At(3), Assert.Single(rule.CurrentAlerts()).ResolvedAt);
    }

    [Fact]
    public void ConditionReturningResetsKeepFiringSince()
    {
        var rule = Rule(TimeSpan.Zero, keepFiringFor: TimeSpan.FromMinutes(2));
        rule.Evaluate(Errors(), At(0));
        rule.Evaluate([], At(1));
        rule.Evaluate(Errors(), At(2));
        Assert.Null(Assert.Single(rule.ActiveAlerts()).KeepFiringSince);
    }

    [Fact]
    public void SendsFiringAlertsEveryResendDelayAndTheResolutionOnce()
    {
        var resend = TimeSpan.FromMinutes(1);
        var rule = Rule(TimeSpan.Zero);
        rule.Evaluate(Errors(), At(0));
        var sent = Assert.Single(rule.AlertsToSend(At(0), resend, Interval));
        Assert.Equal(At(0), sent.LastSentAt);
        Assert.Equal(At(4), sent.ValidUntil);
        var notification = AlertNotification.From(sent, "http://loki/graph");
        Assert.Equal(At(0), notification.StartsAt);
        Assert.Equal(At(4), notification.EndsAt);

        // Not yet due: last sent + resend delay must be strictly before now.
        Assert.Empty(rule.AlertsToSend(At(1), resend, Interval));
        Assert.Single(rule.AlertsToSend(At(1) + TimeSpan.FromSeconds(1), resend, Interval));

        rule.Evaluate([], At(2));
        var resolution = Assert.Single(rule.AlertsToSend(At(2), resend, Interval));
        Assert.Equal(At(2), AlertNotification.From(resolution, "").EndsAt);
        Assert.Equal(AlertState.Inactive, resolution.State);
        // A resolved alert is resent every resend delay until dropped.
        Assert.Empty(rule.AlertsToSend(At(2), resend, Interval));
        Assert.Single(rule.AlertsToSend(At(4), resend, Interval));
    }

    [Fact]
    public void ValidUntilUsesTheLargerOfIntervalAndResendDelay()
    {
        var rule = Rule(TimeSpan.Zero);
        rule.Evaluate(Errors(), At(0));
        Assert.Equal(At(0) + TimeSpan.FromMinutes(20), Assert.Single(rule.AlertsToSend(At(0), TimeSpan.FromMinutes(5), Interval)).ValidUntil);
    }

    [Fact]
    public void WritesAlertsAndForStateSeriesOnceRestored()
    {
        var rule = Rule(TimeSpan.FromMinutes(1));
        rule.Restored = false;
        Assert.Empty(rule.Evaluate(Errors(), At(0)).Series);
        rule.Restored = true;
        var evaluation = rule.Evaluate([new(LabelSet.From(("__name__", "x"), ("pod", "p1")), 3)], At(1), TimeSpan.FromSeconds(30));
        Assert.Equal(At(1) - TimeSpan.FromSeconds(30), evaluation.Time);
        Assert.Null(evaluation.Error);
        Assert.Equal(2, evaluation.Series.Count);
        Assert.Equal(
            LabelSet.From(("__name__", "ALERTS"), ("alertname", "HighErrorRate"), ("alertstate", "pending"), ("pod", "p1"), ("severity", "page")),
            evaluation.Series[0].Labels);
        Assert.Equal(1, evaluation.Series[0].Value);
        Assert.Equal(LabelSet.From(("__name__", "ALERTS_FOR_STATE"), ("alertname", "HighErrorRate"), ("pod", "p1"), ("severity", "page")),
            evaluation.Series[1].Labels);
        Assert.Equal(At(1).ToUnixTimeSeconds(), evaluation.Series[1].Value);
    }

    [Fact]
    public void DuplicateLabelSetsAfterDroppingTheNameFail()
    {
        var rule = Rule(TimeSpan.Zero);
        var evaluation = rule.Evaluate([new(LabelSet.From(("__name__", "a"), ("pod", "p1")), 1), new(LabelSet.From(("__name__", "b"), ("pod", "p1")), 2)], At(0));
        Assert.Equal("vector contains metrics with the same labelset after applying alert labels", evaluation.Error);
    }

    [Fact]
    public void LimitDropsEveryAlert()
    {
        var rule = Rule(TimeSpan.Zero);
        var evaluation = rule.Evaluate([new(Pod, 1), new(LabelSet.From(("pod", "p2")), 2)], At(0), limit: 1);
        Assert.Equal("exceeded limit of 1 with 2 alerts", evaluation.Error);
        Assert.Empty(rule.CurrentAlerts());
    }

    [Fact]
    public void LongerForSendsAFiringAlertBackToPending()
    {
        // Prometheus restores state into a rule whose `for` grew; here the same alert is seen by a longer-for rule.
        var rule = Rule(TimeSpan.FromMinutes(10));
        rule.Evaluate(Errors(), At(0));
        Assert.Equal(AlertState.Pending, Assert.Single(rule.ActiveAlerts()).State);
        rule.Evaluate(Errors(), At(10));
        Assert.Equal(AlertState.Firing, Assert.Single(rule.ActiveAlerts()).State);
    }
}
