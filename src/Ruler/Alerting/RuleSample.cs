using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.Alerting;

/// <summary>One element of a rule query's instant vector: a series' labels and its value.</summary>
public readonly record struct RuleSample(LabelSet Labels, double Value);

/// <summary>Runs an instant LogQL query at a time (the templates' <c>query</c> function, the rules' evaluation).</summary>
public delegate IReadOnlyList<RuleSample> RuleQuery(string query, DateTimeOffset time);
