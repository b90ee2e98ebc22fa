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
/// same log sources (this process's head and the chunk store, and in scale-out the other ingesters' heads) feeding
/// LogQL's <see cref="MetricQueryEvaluator"/>, under the tenant's series, memory and time limits. A query that met a
/// warning (an ingester that did not answer, damaged data) fails: a rule must not alert, or resolve, on part of the
/// data without saying so.
/// </summary>
public sealed class StoreRuleQueryEngine : IRuleQueryEngine
{
    private readonly Func<QueryWarnings, CancellationToken, IReadOnlyList<ILogSource>> _sources;
    private readonly Func<string, RuleQueryLimits> _limits;

    /// <summary>An engine over sources chosen per query (they may report to the query's warnings).</summary>
    public StoreRuleQueryEngine(Func<QueryWarnings, CancellationToken, IReadOnlyList<ILogSource>> sources, Func<string, RuleQueryLimits> limits)
    {
        _sources = sources;
        _limits = limits;
    }

    /// <summary>An engine over fixed sources.</summary>
    public StoreRuleQueryEngine(IReadOnlyList<ILogSource> sources, Func<string, RuleQueryLimits> limits)
        : this((_, _) => sources, limits)
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<RuleSample> Query(string tenant, SampleExpr expr, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var tenantLimits = _limits(tenant);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (tenantLimits.QueryTimeout > TimeSpan.Zero)
        {
            timeout.CancelAfter(tenantLimits.QueryTimeout);
        }

        var memory = new QueryMemoryBudget(tenantLimits.MaxQueryMemoryBytes);
        var warnings = new QueryWarnings();
        var source = new StoredSampleSource(_sources(warnings, timeout.Token), tenant, new QueryStatistics(), warnings, memory);
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

        if (warnings.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", warnings.ToList()));
        }

        return result switch
        {
            VectorResult vector => [.. vector.Samples.Select(static s => new RuleSample(s.Labels, s.Value))],
            ScalarResult scalar => [new RuleSample(LogQL.Labels.LabelSet.Empty, scalar.Value)],
            _ => throw new InvalidOperationException("rule result is not a vector or scalar"),
        };
    }
}
