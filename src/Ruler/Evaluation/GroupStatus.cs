using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>A snapshot of one rule group for the rules API.</summary>
public sealed record GroupStatus(
    GroupKey Key,
    RuleGroup Definition,
    TimeSpan Interval,
    DateTimeOffset? LastEvaluation,
    TimeSpan EvaluationTime,
    IReadOnlyList<RuleStatus> Rules);
