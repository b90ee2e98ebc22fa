namespace LokiSharp.Ruler.Evaluation;

/// <summary>A tenant's query limits as they apply to rule queries (<c>limits_config</c>): 0 means none.</summary>
public sealed record RuleQueryLimits(int MaxQuerySeries, long MaxQueryMemoryBytes, TimeSpan QueryTimeout)
{
    /// <summary>No limits.</summary>
    public static RuleQueryLimits None { get; } = new(0, 0, TimeSpan.Zero);
}
