using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>A snapshot of one rule for the rules API: its definition, health and, for an alerting rule, its alerts.</summary>
public sealed record RuleStatus(
    RuleDefinition Definition,
    RuleHealth Health,
    string LastError,
    DateTimeOffset? LastEvaluation,
    TimeSpan EvaluationTime,
    AlertState State,
    IReadOnlyList<Alert> Alerts);
