namespace LokiSharp.Ruler.Rules;

/// <summary>
/// What one rule file (namespace) yields: its valid groups (each holding only its valid rules) and the problems
/// found in it.
/// </summary>
public sealed record RuleGroupFile(string File, IReadOnlyList<RuleGroup> Groups, IReadOnlyList<RuleProblem> Problems);
