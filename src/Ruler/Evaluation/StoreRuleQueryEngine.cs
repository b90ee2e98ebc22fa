using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Metrics;
using LokiSharp.Querier.Responses;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// Rule queries on the engine <c>/loki/api/v1/query</c> uses: the Querier's <see cref="StoredSampleSource"/> over the
/// same log sources (this process's head and the chunk store) feeding LogQL's <see cref="MetricQueryEvaluator"/>,
/// under the tenant's series, memory and time limits.
/// </summary>
public sealed class StoreRuleQueryEngine(IReadOnlyList<ILogSource> sources, Func<string, RuleQueryLimits> limits) : IRuleQueryEngine
{
    /// <inheritdoc />
    public IReadOnlyList<RuleSample> Query(string tenant, SampleExpr expr, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var tenantLimits = limits(tenant);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (tenantLimits.QueryTimeout > TimeSpan.Zero)
        {
            timeout.CancelAfter(tenantLimits.QueryTimeout);
        }

        var memory = new QueryMemoryBudget(tenantLimits.MaxQueryMemoryBytes);
        var source = new StoredSampleSource(sources, tenant, new QueryStatistics(), new QueryWarnings(), memory);
        var evaluator = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxQuerySeries = tenantLimits.MaxQuerySeries }, memory);
        MetricResult result;
        try
        {
            result = evaluator.Evaluate(expr, MetricQueryParameters.Instant(time.ToUnixTimeMilliseconds() * 1_000_000), timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("query timed out after " + tenantLimits.QueryTimeout);
        }

        return result switch
        {
            VectorResult vector => [.. vector.Samples.Select(static s => new RuleSample(s.Labels, s.Value))],
            ScalarResult scalar => [new RuleSample(LogQL.Labels.LabelSet.Empty, scalar.Value)],
            _ => throw new InvalidOperationException("rule result is not a vector or scalar"),
        };
    }
}
