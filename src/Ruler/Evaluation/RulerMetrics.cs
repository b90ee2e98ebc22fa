using Prometheus;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// The ruler's metrics under Loki's names (<c>pkg/ruler/base/manager_metrics.go</c>: Prometheus' rule-group metrics
/// prefixed <c>loki_</c>, labelled by <c>user</c> and <c>rule_group</c> = <c>&lt;file&gt;;&lt;group&gt;</c>), plus the rule-loading ones.
/// </summary>
public sealed class RulerMetrics
{
    private static readonly string[] GroupLabels = ["user", "rule_group"];

    /// <summary>Registers the metrics in <paramref name="factory"/>.</summary>
    public RulerMetrics(IMetricFactory factory)
    {
        Evaluations = factory.CreateCounter("loki_prometheus_rule_evaluations_total", "The total number of rule evaluations.", GroupLabels);
        EvaluationFailures = factory.CreateCounter("loki_prometheus_rule_evaluation_failures_total",
            "The total number of rule evaluation failures.", GroupLabels);
        GroupLastDuration = factory.CreateGauge("loki_prometheus_rule_group_last_duration_seconds",
            "The duration of the last rule group evaluation.", GroupLabels);
        GroupRules = factory.CreateGauge("loki_prometheus_rule_group_rules", "The number of rules.", GroupLabels);
        GroupInterval = factory.CreateGauge("loki_prometheus_rule_group_interval_seconds", "The interval of a rule group.", GroupLabels);
        GroupLastEvaluation = factory.CreateGauge("loki_prometheus_rule_group_last_evaluation_timestamp_seconds",
            "The timestamp of the last rule group evaluation in seconds.", GroupLabels);
        IterationsScheduled = factory.CreateCounter("loki_prometheus_rule_group_iterations_total",
            "The total number of scheduled rule group evaluations, whether executed or missed.", GroupLabels);
        IterationsMissed = factory.CreateCounter("loki_prometheus_rule_group_iterations_missed_total",
            "The total number of rule group evaluations missed due to slow rule group evaluation.", GroupLabels);
        LastReloadSuccessful = factory.CreateGauge("loki_ruler_config_last_reload_successful",
            "Boolean set to 1 whenever the last configuration reload attempt was successful.", ["user"]);
        LoadFailures = factory.CreateCounter("loki_ruler_rule_load_failures_total",
            "Rule files, groups and rules skipped because they were invalid, counted when first seen (LokiSharp).", ["user"]);
    }

    /// <summary><c>loki_prometheus_rule_evaluations_total</c>.</summary>
    public Counter Evaluations { get; }

    /// <summary><c>loki_prometheus_rule_evaluation_failures_total</c>.</summary>
    public Counter EvaluationFailures { get; }

    /// <summary><c>loki_prometheus_rule_group_last_duration_seconds</c>.</summary>
    public Gauge GroupLastDuration { get; }

    /// <summary><c>loki_prometheus_rule_group_rules</c>.</summary>
    public Gauge GroupRules { get; }

    /// <summary><c>loki_prometheus_rule_group_interval_seconds</c>.</summary>
    public Gauge GroupInterval { get; }

    /// <summary><c>loki_prometheus_rule_group_last_evaluation_timestamp_seconds</c>.</summary>
    public Gauge GroupLastEvaluation { get; }

    /// <summary><c>loki_prometheus_rule_group_iterations_total</c>.</summary>
    public Counter IterationsScheduled { get; }

    /// <summary><c>loki_prometheus_rule_group_iterations_missed_total</c>.</summary>
    public Counter IterationsMissed { get; }

    /// <summary><c>loki_ruler_config_last_reload_successful</c>: 0 while some file of the tenant has problems.</summary>
    public Gauge LastReloadSuccessful { get; }

    /// <summary><c>loki_ruler_rule_load_failures_total</c> (LokiSharp): problems found in rule files, each counted once.</summary>
    public Counter LoadFailures { get; }

    /// <summary>Forgets a removed group's series.</summary>
    public void RemoveGroup(string user, string ruleGroup)
    {
        foreach (var counter in new[] { Evaluations, EvaluationFailures, IterationsScheduled, IterationsMissed })
        {
            counter.RemoveLabelled(user, ruleGroup);
        }

        foreach (var gauge in new[] { GroupLastDuration, GroupRules, GroupInterval, GroupLastEvaluation })
        {
            gauge.RemoveLabelled(user, ruleGroup);
        }
    }
}
