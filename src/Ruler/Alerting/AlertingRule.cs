using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Rules;
using LokiSharp.Ruler.Templates;

namespace LokiSharp.Ruler.Alerting;

/// <summary>
/// The state of one alerting rule across evaluations, as Prometheus keeps it (<c>rules/alerting.go</c>): each
/// evaluation takes the query's vector at the group's evaluation time and moves the rule's alerts between pending,
/// firing and inactive; resolved alerts are kept (and resent) for <see cref="ResolvedRetention"/>. Pure logic: the
/// caller runs the query and passes the time. Not thread-safe; one group evaluates it at a time.
/// </summary>
public sealed partial class AlertingRule
{
    /// <summary>How long a resolved alert is kept and resent, so that Alertmanager hears of the resolution.</summary>
    public static readonly TimeSpan ResolvedRetention = TimeSpan.FromMinutes(15);

    private const string AlertsMetric = "ALERTS";
    private const string ForStateMetric = "ALERTS_FOR_STATE";

    private readonly Dictionary<LabelSet, Alert> _active = [];
    private readonly (string Name, AlertTemplate Template)[] _labelTemplates;
    private readonly (string Name, AlertTemplate Template)[] _annotationTemplates;
    private readonly LabelSet _ruleLabels;
    private DateTimeOffset? _lastEvaluation;

    /// <summary>Creates the rule with no alerts.</summary>
    public AlertingRule(
        string name, TimeSpan holdDuration, TimeSpan keepFiringFor, IReadOnlyList<KeyValuePair<string, string>> labels,
        IReadOnlyList<KeyValuePair<string, string>> annotations, LabelSet externalLabels, string externalUrl, bool restored = true)
    {
        Name = name;
        HoldDuration = holdDuration;
        KeepFiringFor = keepFiringFor;
        ExternalLabels = externalLabels;
        ExternalUrl = externalUrl;
        Restored = restored;
        _ruleLabels = LabelSet.From(labels.Select(static l => new LabelPair(l.Key, l.Value)));
        _labelTemplates = [.. labels.Select(l => (l.Key, AlertTemplate.Parse(name, l.Value)))];
        _annotationTemplates = [.. annotations.Select(a => (a.Key, AlertTemplate.Parse(name, a.Value)))];
    }

    /// <summary>Creates the state of a loaded alerting rule.</summary>
    public static AlertingRule From(RuleDefinition rule, LabelSet externalLabels, string externalUrl, bool restored = true) =>
        rule.Kind == RuleKind.Alerting
            ? new(rule.Name, rule.For.ToTimeSpan(), rule.KeepFiringFor.ToTimeSpan(), rule.Labels, rule.Annotations, externalLabels, externalUrl, restored)
            : throw new ArgumentException("not an alerting rule: " + rule.Name, nameof(rule));

    /// <summary>The alert name.</summary>
    public string Name { get; }

    /// <summary>The rule's <c>for</c>.</summary>
    public TimeSpan HoldDuration { get; }

    /// <summary>The rule's <c>keep_firing_for</c>.</summary>
    public TimeSpan KeepFiringFor { get; }

    /// <summary>The ruler's external labels (for templates).</summary>
    public LabelSet ExternalLabels { get; }

    /// <summary>The ruler's external URL (for templates).</summary>
    public string ExternalUrl { get; }

    /// <summary>
    /// Whether the <c>for</c> state has been restored after a start; until then evaluations write no
    /// <c>ALERTS</c>/<c>ALERTS_FOR_STATE</c> samples, as in Prometheus.
    /// </summary>
    public bool Restored { get; set; }

    /// <summary>The highest state of the rule's alerts; <see cref="AlertState.Unknown"/> before the first evaluation.</summary>
    public AlertState State
    {
        get
        {
            if (_lastEvaluation is null)
            {
                return AlertState.Unknown;
            }

            var max = AlertState.Inactive;
            foreach (var alert in _active.Values)
            {
                if (alert.State > max)
                {
                    max = alert.State;
                }
            }

            return max;
        }
    }

    /// <summary>Copies of the pending and firing alerts (what the alerts API lists).</summary>
    public IReadOnlyList<Alert> ActiveAlerts() => [.. _active.Values.Where(static a => a.ResolvedAt is null).Select(static a => a.Copy())];

    /// <summary>Copies of every alert kept, resolved ones included.</summary>
    public IReadOnlyList<Alert> CurrentAlerts() => [.. _active.Values.Select(static a => a.Copy())];

    /// <summary>
    /// Evaluates the rule at <paramref name="time"/> on the query's <paramref name="vector"/> (taken at
    /// <paramref name="time"/> minus <paramref name="queryOffset"/>); <paramref name="limit"/> above 0 caps the
    /// active alerts (over it, every alert is dropped and the evaluation fails, as in Prometheus).
    /// </summary>
    public AlertEvaluation Evaluate(
        IReadOnlyList<RuleSample> vector, DateTimeOffset time, TimeSpan queryOffset = default, int limit = 0, RuleQuery? query = null)
    {
        _lastEvaluation = time;
        var sampleTime = time - queryOffset;
        var current = new Dictionary<LabelSet, Alert>(vector.Count);
        foreach (var sample in vector)
        {
            var data = new AlertTemplateData(sample.Labels, ExternalLabels, ExternalUrl, sample.Value, time, query);
            var builder = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in sample.Labels)
            {
                if (pair.Name != "__name__")
                {
                    builder[pair.Name] = pair.Value;
                }
            }

            foreach (var (name, template) in _labelTemplates)
            {
                builder[name] = template.Expand(data);
            }

            builder["alertname"] = Name;
            var annotations = LabelSet.From(_annotationTemplates.Select(a => new LabelPair(a.Name, a.Template.Expand(data))));
            var labels = LabelSet.From(builder.Select(static p => new LabelPair(p.Key, p.Value)));
            if (!current.TryAdd(labels, new Alert(labels, annotations, sample.Value, time)))
            {
                return new AlertEvaluation(sampleTime, [], "vector contains metrics with the same labelset after applying alert labels");
            }
        }

        foreach (var (labels, alert) in current)
        {
            // An alert still pending or firing keeps its times; an inactive (resolved) one starts over.
            if (_active.TryGetValue(labels, out var existing) && existing.State != AlertState.Inactive)
            {
                existing.Value = alert.Value;
                existing.Annotations = alert.Annotations;
                continue;
            }

            _active[labels] = alert;
        }

        return Advance(current, time, sampleTime, limit);
    }

    // Prometheus' second loop: resolve or drop alerts gone from the vector, fire those pending long enough.
    private AlertEvaluation Advance(Dictionary<LabelSet, Alert> current, DateTimeOffset time, DateTimeOffset sampleTime, int limit)
    {
        var series = new List<RuleSample>();
        var removed = new List<LabelSet>();
        var activeCount = 0;
        foreach (var (labels, alert) in _active)
        {
            if (!current.ContainsKey(labels))
            {
                var keepFiring = false;
                if (alert.State == AlertState.Firing && KeepFiringFor > TimeSpan.Zero)
                {
                    alert.KeepFiringSince ??= time;
                    keepFiring = time - alert.KeepFiringSince.Value < KeepFiringFor;
                }

                if (alert.State == AlertState.Pending || (alert.ResolvedAt is { } resolved && time - resolved > ResolvedRetention))
                {
                    removed.Add(labels);
                }

                if (alert.State != AlertState.Inactive && !keepFiring)
                {
                    alert.State = AlertState.Inactive;
                    alert.ResolvedAt = time;
                }

                if (!keepFiring)
                {
                    continue;
                }
            }
            else
            {
                alert.KeepFiringSince = null;
            }

            activeCount++;
            if (alert.State == AlertState.Pending && time - alert.ActiveAt >= HoldDuration)
            {
                alert.State = AlertState.Firing;
                alert.FiredAt = time;
            }

            // A longer `for` after a reload sends a firing alert back to pending.
            if (alert.State == AlertState.Firing && time - alert.ActiveAt < HoldDuration)
            {
                alert.State = AlertState.Pending;
                alert.FiredAt = null;
                alert.LastSentAt = null;
                alert.KeepFiringSince = null;
            }

            if (Restored)
            {
                series.Add(AlertsSample(alert));
                series.Add(ForStateSample(alert));
            }
        }

        foreach (var labels in removed)
        {
            _active.Remove(labels);
        }

        if (limit > 0 && activeCount > limit)
        {
            _active.Clear();
            return new AlertEvaluation(sampleTime, [], "exceeded limit of " + limit + " with " + activeCount + " alerts");
        }

        return new AlertEvaluation(sampleTime, series, null);
    }

    /// <summary>
    /// The alerts to notify at <paramref name="time"/> (copies), marking them sent: firing alerts every
    /// <paramref name="resendDelay"/>, resolutions once more after each resolve, each valid for four times the larger
    /// of the group <paramref name="interval"/> and the resend delay (two missed evaluations or sends).
    /// </summary>
    public IReadOnlyList<Alert> AlertsToSend(DateTimeOffset time, TimeSpan resendDelay, TimeSpan interval)
    {
        var delta = interval > resendDelay ? interval : resendDelay;
        var alerts = new List<Alert>();
        foreach (var alert in _active.Values)
        {
            if (alert.NeedsSending(time, resendDelay))
            {
                alert.LastSentAt = time;
                alert.ValidUntil = time + (4 * delta);
                alerts.Add(alert.Copy());
            }
        }

        return alerts;
    }

    // ALERTS{alertname, alertstate, rule labels, alert labels} 1.
    private RuleSample AlertsSample(Alert alert) =>
        new(SeriesLabels(alert, AlertsMetric, [new LabelPair("alertstate", alert.State == AlertState.Firing ? "firing" : "pending")]), 1);

    // ALERTS_FOR_STATE{alertname, rule labels, alert labels} = ActiveAt in Unix seconds.
    private RuleSample ForStateSample(Alert alert) => new(SeriesLabels(alert, ForStateMetric, []), alert.ActiveAt.ToUnixTimeSeconds());

    private LabelSet SeriesLabels(Alert alert, string metric, LabelPair[] extra)
    {
        var pairs = new List<LabelPair>(_ruleLabels.Count + alert.Labels.Count + 3);
        pairs.AddRange(_ruleLabels);
        pairs.AddRange(alert.Labels);
        pairs.Add(new LabelPair("__name__", metric));
        pairs.Add(new LabelPair("alertname", Name));
        pairs.AddRange(extra);
        return LabelSet.From(pairs);
    }
}
