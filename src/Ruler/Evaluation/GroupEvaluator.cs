using System.Diagnostics;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.RemoteWrite;
using LokiSharp.Ruler.Rules;
using LokiSharp.Ruler.State;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// One loaded rule group and its rules' state. <see cref="Evaluate"/> runs the rules in order at one slot, as a
/// Prometheus group iteration does: each rule's query as an instant query at the slot minus <c>query_offset</c>;
/// alerting rules move their alerts and hand what must be sent to the notifier; recording rules hand their samples
/// (and alerting rules their <c>ALERTS</c> series) to the remote-write sink. A failing rule records its error and
/// the next rule still runs. One evaluation at a time; snapshots may be taken meanwhile.
/// </summary>
public sealed class GroupEvaluator
{
    private readonly RulerContext _context;
    private readonly RuleEntry[] _rules;
    // Evaluations run one at a time (and a reload waits for the old group's); snapshots take only the state lock, so
    // the rules API never waits for a rule's query.
    private readonly Lock _evaluationLock = new();
    private readonly Lock _stateLock = new();
    private readonly string _metricGroup;
    private bool _shouldRestore;
    private bool _savedAlerts;
    private DateTimeOffset? _lastEvaluation;
    private TimeSpan _evaluationTime;

    /// <summary>
    /// Creates the group with fresh rule state; rules of <paramref name="previous"/> (the same group before a reload)
    /// whose definition is unchanged keep their alerts and health. <paramref name="restore"/>: restore saved <c>for</c> state
    /// after the first evaluation (groups loaded at start).
    /// </summary>
    public GroupEvaluator(GroupKey key, RuleGroup group, RulerContext context, GroupEvaluator? previous = null, bool restore = false)
    {
        Key = key;
        Definition = group;
        _context = context;
        Interval = group.Interval is { } interval && interval.Nanoseconds > 0 ? interval.ToTimeSpan() : context.Options.EvaluationInterval;
        QueryOffset = group.QueryOffset?.ToTimeSpan() ?? TimeSpan.Zero;
        File = context.Options.RulePath.TrimEnd('/') + "/" + key.Tenant + "/" + key.Namespace;
        Schedule = new GroupSchedule(File, key.Group, Interval);
        _metricGroup = File + ";" + key.Group;
        _shouldRestore = restore && context.StateStore is not null;
        _rules = [.. group.Rules.Select(r => WithGroupLabels(group, r)).Select((rule, i) => previous?.TakeRule(rule, i) ?? new RuleEntry(rule,
            rule.Kind == RuleKind.Alerting
            ? AlertingRule.From(rule, context.Options.ExternalLabels, context.Options.ExternalUrl, restored: !_shouldRestore)
            : null))];
        if (_context.Metrics is { } metrics)
        {
            // Counters exist from the start at 0, as Prometheus' per-group series do.
            foreach (var counter in new[] { metrics.Evaluations, metrics.EvaluationFailures, metrics.IterationsScheduled, metrics.IterationsMissed })
            {
                counter.WithLabels(key.Tenant, _metricGroup);
            }
        }

        _context.Metrics?.GroupRules.WithLabels(key.Tenant, _metricGroup).Set(_rules.Length);
        _context.Metrics?.GroupInterval.WithLabels(key.Tenant, _metricGroup).Set(Interval.TotalSeconds);
    }

    /// <summary>The group's identity.</summary>
    public GroupKey Key { get; }

    /// <summary>The group as loaded.</summary>
    public RuleGroup Definition { get; }

    /// <summary>The group's <c>interval</c>, or the ruler's <c>evaluation_interval</c>.</summary>
    public TimeSpan Interval { get; }

    /// <summary>The group's <c>query_offset</c>.</summary>
    public TimeSpan QueryOffset { get; }

    /// <summary>The group's file as Loki names it in the <c>rule_group</c> label (<c>&lt;rule_path&gt;/&lt;tenant&gt;/&lt;namespace&gt;</c>).</summary>
    public string File { get; }

    /// <summary>When the group evaluates.</summary>
    public GroupSchedule Schedule { get; }

    /// <summary>Evaluates every rule at slot <paramref name="time"/>.</summary>
    public void Evaluate(DateTimeOffset time, CancellationToken cancellationToken)
    {
        lock (_evaluationLock)
        {
            var started = Stopwatch.GetTimestamp();
            var recorded = new List<RecordedSample>();
            foreach (var entry in _rules)
            {
                cancellationToken.ThrowIfCancellationRequested();
                EvaluateRule(entry, time, recorded, cancellationToken);
            }

            lock (_stateLock)
            {
                if (_shouldRestore)
                {
                    _shouldRestore = false;
                    Restore(time);
                }

                SaveAlerts(time);
                _lastEvaluation = time;
                _evaluationTime = Stopwatch.GetElapsedTime(started);
            }

            if (recorded.Count > 0)
            {
                _context.Sink?.Append(Key.Tenant, recorded);
            }

            var metrics = _context.Metrics;
            metrics?.GroupLastDuration.WithLabels(Key.Tenant, _metricGroup).Set(_evaluationTime.TotalSeconds);
            metrics?.GroupLastEvaluation.WithLabels(Key.Tenant, _metricGroup).Set(time.ToUnixTimeMilliseconds() / 1000.0);
        }
    }

    /// <summary>Counts a scheduled iteration and those skipped because evaluations fell behind.</summary>
    public void CountIterations(int missed)
    {
        _context.Metrics?.IterationsScheduled.WithLabels(Key.Tenant, _metricGroup).Inc(1 + missed);
        if (missed > 0)
        {
            _context.Metrics?.IterationsMissed.WithLabels(Key.Tenant, _metricGroup).Inc(missed);
        }
    }

    /// <summary>Forgets the group's metric series (it was removed).</summary>
    public void RemoveMetrics() => _context.Metrics?.RemoveGroup(Key.Tenant, _metricGroup);

    /// <summary>A snapshot for the rules API.</summary>
    public GroupStatus Status()
    {
        lock (_stateLock)
        {
            return new GroupStatus(Key, Definition, Interval, _lastEvaluation, _evaluationTime, [.. _rules.Select(static r => r.Status())]);
        }
    }

    private void EvaluateRule(RuleEntry entry, DateTimeOffset time, List<RecordedSample> recorded, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var rule = entry.Definition;
        string? error = null;
        try
        {
            var vector = _context.Engine.Query(Key.Tenant, rule.Query, time - QueryOffset, cancellationToken);
            if (entry.Alerting is { } alerting)
            {
                lock (_stateLock)
                {
                    error = EvaluateAlerting(alerting, rule, vector, time, recorded, cancellationToken);
                }
            }
            else
            {
                error = Record(rule, vector, time - QueryOffset, recorded);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever the query did (a limit, corrupt data, a bug), the rule fails and the group goes on.
            error = e.Message;
        }

        _context.Metrics?.Evaluations.WithLabels(Key.Tenant, _metricGroup).Inc();
        if (error is not null)
        {
            _context.Metrics?.EvaluationFailures.WithLabels(Key.Tenant, _metricGroup).Inc();
            _context.Warn?.Invoke("rule evaluation failed: tenant=" + Key.Tenant + " file=" + Key.Namespace + " group=" + Key.Group +
                " rule=" + rule.Name + " err=" + error);
        }

        lock (_stateLock)
        {
            entry.Health = error is null ? RuleHealth.Ok : RuleHealth.Err;
            entry.LastError = error ?? "";
            entry.LastEvaluation = time;
            entry.EvaluationTime = Stopwatch.GetElapsedTime(started);
        }
    }

    private string? EvaluateAlerting(AlertingRule alerting, RuleDefinition rule, IReadOnlyList<RuleSample> vector, DateTimeOffset time,
        List<RecordedSample> recorded, CancellationToken cancellationToken)
    {
        RuleQuery templateQuery = (query, at) => _context.Engine.Query(Key.Tenant, LogQLParser.ParseSampleExpr(query), at, cancellationToken);
        var result = alerting.Evaluate(vector, time, QueryOffset, Definition.Limit, templateQuery);
        var timestampMs = result.Time.ToUnixTimeMilliseconds();
        foreach (var series in result.Series)
        {
            recorded.Add(new RecordedSample(WithExternalLabels(series.Labels), timestampMs, series.Value));
        }

        var sends = alerting.AlertsToSend(time, _context.Options.ResendDelay, Interval);
        if (sends.Count > 0 && _context.Notifier is { } notifier)
        {
            var url = GeneratorUrl.For(_context.Options.ExternalUrl, rule.Query.ToString(), _context.Options.DatasourceUid);
            notifier.Send(Key.Tenant, [.. sends.Select(a => AlertNotification.From(a, url))]);
        }

        return result.Error;
    }

    // Prometheus' RecordingRule.Eval: __name__ becomes the record, the rule's labels override the series'.
    private string? Record(RuleDefinition rule, IReadOnlyList<RuleSample> vector, DateTimeOffset sampleTime, List<RecordedSample> recorded)
    {
        var timestampMs = sampleTime.ToUnixTimeMilliseconds();
        var samples = new List<RecordedSample>(vector.Count);
        var seen = new HashSet<LabelSet>();
        foreach (var sample in vector)
        {
            var pairs = new List<LabelPair>(sample.Labels.Count + rule.Labels.Count + 1);
            pairs.AddRange(sample.Labels.Where(static p => p.Name != "__name__"));
            pairs.AddRange(rule.Labels.Select(static l => new LabelPair(l.Key, l.Value)));
            pairs.Add(new LabelPair("__name__", rule.Name));
            var labels = LabelSet.From(pairs);
            if (!seen.Add(labels))
            {
                return "vector contains metrics with the same labelset after applying rule labels";
            }

            samples.Add(new RecordedSample(WithExternalLabels(labels), timestampMs, sample.Value));
        }

        if (Definition.Limit > 0 && samples.Count > Definition.Limit)
        {
            return "exceeded limit of " + Definition.Limit + " with " + samples.Count + " series";
        }

        recorded.AddRange(samples);
        return null;
    }

    // Remote write adds the external labels a series does not already have.
    private LabelSet WithExternalLabels(LabelSet labels)
    {
        var external = _context.Options.ExternalLabels;
        if (external.Count == 0)
        {
            return labels;
        }

        var names = new HashSet<string>(labels.Select(static p => p.Name));
        return LabelSet.From(labels.Concat(external.Where(p => !names.Contains(p.Name))));
    }

    private void Restore(DateTimeOffset time)
    {
        SavedGroupState? saved;
        try
        {
            saved = _context.StateStore!.Load(Key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or KeyNotFoundException
            or InvalidOperationException)
        {
            _context.Warn?.Invoke("cannot read the saved alert state: tenant=" + Key.Tenant + " group=" + Key.Group + " err=" + e.Message);
            saved = null;
        }

        foreach (var entry in _rules)
        {
            if (entry.Alerting is not { } alerting)
            {
                continue;
            }

            var byLabels = new Dictionary<LabelSet, DateTimeOffset>();
            foreach (var alert in saved?.Alerts ?? [])
            {
                if (alert.Rule == alerting.Name)
                {
                    byLabels.TryAdd(alert.Labels, alert.ActiveAt);
                }
            }

            alerting.RestoreForState(time, byLabels, saved?.EvaluatedAt ?? time, _context.Options.ForOutageTolerance, _context.Options.ForGracePeriod);
        }
    }

    private void SaveAlerts(DateTimeOffset time)
    {
        if (_context.StateStore is not { } store)
        {
            return;
        }

        var alerts = new List<SavedAlert>();
        foreach (var entry in _rules)
        {
            if (entry.Alerting is { } alerting)
            {
                alerts.AddRange(alerting.ActiveAlerts().Select(a => new SavedAlert(alerting.Name, a.Labels, a.ActiveAt)));
            }
        }

        if (alerts.Count == 0 && !_savedAlerts)
        {
            return;
        }

        try
        {
            store.Save(Key, time, alerts);
            _savedAlerts = alerts.Count > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _context.Warn?.Invoke("cannot save the alert state: tenant=" + Key.Tenant + " group=" + Key.Group + " err=" + e.Message);
        }
    }

    // A rule of the previous version of this group that is unchanged (same definition at the same position, or the
    // first equal one elsewhere) keeps its state, as Prometheus' CopyState does for rules of the same name and query.
    private RuleEntry? TakeRule(RuleDefinition rule, int index)
    {
        lock (_evaluationLock)
        {
            for (var i = 0; i < _rules.Length; i++)
            {
                var candidate = _rules[(index + i) % _rules.Length];
                if (!candidate.Taken && SameRule(candidate.Definition, rule))
                {
                    candidate.Taken = true;
                    _savedAlerts |= candidate.Alerting is not null;
                    return candidate;
                }
            }

            return null;
        }
    }

    // Prometheus 3 group labels: every rule carries them, its own labels winning.
    private static RuleDefinition WithGroupLabels(RuleGroup group, RuleDefinition rule)
    {
        if (group.Labels.Count == 0)
        {
            return rule;
        }

        var labels = new List<KeyValuePair<string, string>>(group.Labels.Where(g => !rule.Labels.Any(r => r.Key == g.Key)));
        labels.AddRange(rule.Labels);
        return rule with { Labels = labels };
    }

    /// <summary>Whether two definitions of a rule are the same (Prometheus keeps such a rule's state over a reload).</summary>
    internal static bool SameRule(RuleDefinition a, RuleDefinition b) =>
        a.Kind == b.Kind && a.Name == b.Name && a.Expr == b.Expr && a.For == b.For && a.KeepFiringFor == b.KeepFiringFor &&
        a.Labels.SequenceEqual(b.Labels) && a.Annotations.SequenceEqual(b.Annotations);

    private sealed class RuleEntry(RuleDefinition definition, AlertingRule? alerting)
    {
        public RuleDefinition Definition { get; } = definition;

        public AlertingRule? Alerting { get; } = alerting;

        public bool Taken { get; set; }

        public RuleHealth Health { get; set; }

        public string LastError { get; set; } = "";

        public DateTimeOffset? LastEvaluation { get; set; }

        public TimeSpan EvaluationTime { get; set; }

        public RuleStatus Status() => new(Definition, Health, LastError, LastEvaluation, EvaluationTime,
            Alerting?.State ?? AlertState.Unknown, Alerting?.ActiveAlerts() ?? []);
    }
}
