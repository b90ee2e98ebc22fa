using LokiSharp.LogQL.Ast;
using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// Runs a rule's LogQL metric query as an instant query for a tenant. Throws on failure (the message becomes the
/// rule's <c>lastError</c>); cancellation means the ruler is stopping.
/// </summary>
public interface IRuleQueryEngine
{
    /// <summary>The instant vector of <paramref name="expr"/> at <paramref name="time"/>; a scalar is one sample without labels.</summary>
    IReadOnlyList<RuleSample> Query(string tenant, SampleExpr expr, DateTimeOffset time, CancellationToken cancellationToken);
}
