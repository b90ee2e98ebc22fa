namespace LokiSharp.Ruler.Rules;

/// <summary>Whether a rule raises alerts (<c>alert:</c>) or records a series (<c>record:</c>).</summary>
public enum RuleKind
{
    /// <summary>An alerting rule.</summary>
    Alerting,

    /// <summary>A recording rule.</summary>
    Recording,
}
