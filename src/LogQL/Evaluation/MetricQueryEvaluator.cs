using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation.Steps;
using LokiSharp.LogQL.Labels;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// Evaluates LogQL metric queries with Loki's semantics: range aggregations over windows <c>(t − range, t]</c> at
/// every step from start to end inclusive (once at <c>time</c> for instant queries), vector aggregations, binary
/// operations with vector matching, <c>label_replace</c>, <c>vector()</c> and literals. Samples come from an
/// <see cref="ISampleSource"/>, read on up to <see cref="MetricQueryLimits.MaxParallelism"/> threads; the result does
/// not depend on how many. The samples of each slice and the points of the result are reserved in a
/// <see cref="QueryMemoryBudget"/>, which fails the query when it would hold too much.
/// </summary>
public sealed class MetricQueryEvaluator
{
    // A result point held in its series' list (with the list's slack) and then written as JSON text.
    private const long PointBytes = 48;

    private readonly ISampleSource _source;
    private readonly MetricQueryLimits _limits;
    private readonly QueryMemoryBudget? _memory;

    /// <summary>Creates an evaluator reading samples from <paramref name="source"/>, holding at most what <paramref name="memory"/> allows.</summary>
    public MetricQueryEvaluator(ISampleSource source, MetricQueryLimits? limits = null, QueryMemoryBudget? memory = null)
    {
        _source = source;
        _limits = limits ?? MetricQueryLimits.Default;
        _memory = memory;
    }

    /// <summary>
    /// Evaluates <paramref name="expr"/>. Range queries give a <see cref="MatrixResult"/> sorted by labels; instant
    /// queries give a <see cref="VectorResult"/> (a <see cref="ScalarResult"/> when the query is only a literal).
    /// </summary>
    /// <exception cref="MetricQueryException">A limit, pipeline error or vector matching error, with Loki's text.</exception>
    /// <exception cref="QueryMemoryLimitException">The query would hold more memory than its budget allows.</exception>
    public MetricResult Evaluate(SampleExpr expr, MetricQueryParameters parameters, CancellationToken cancellationToken = default)
    {
        if (!parameters.IsInstant && (parameters.StepNs <= 0 || parameters.EndNs < parameters.StartNs))
        {
            throw new MetricQueryException(MetricQueryErrorKind.BadRequest,
                MetricQueryParameters.ValidateRange(parameters.StartNs, parameters.EndNs, parameters.StepNs)!);
        }

        switch (expr)
        {
            case LiteralExpr literal:
                return parameters.IsInstant
                    ? new ScalarResult(parameters.StartNs / 1_000_000, literal.Value)
                    : ConstantMatrix(literal.Value, parameters);
            case VectorExpr vector:
                return parameters.IsInstant
                    ? new VectorResult([new VectorSample(LabelSet.Empty, UnixMilli(parameters.StartNs), vector.Value)])
                    : ConstantMatrix(vector.Value, parameters);
        }

        if (!parameters.IsInstant && ContainsApproxTopk(expr))
        {
            throw new MetricQueryException(MetricQueryErrorKind.Execution, "count min sketches are only supported on instant queries");
        }

        using var root = Build(expr, new BuildContext(expr, parameters, cancellationToken));
        return parameters.IsInstant ? CollectVector(root, expr) : CollectMatrix(root);
    }

    /// <summary>Go's <c>time.UnixMilli()</c>: milliseconds rounded toward negative infinity.</summary>
    internal static long UnixMilli(long unixNs) => Math.DivRem(unixNs, 1_000_000, out var rem) - (rem < 0 ? 1 : 0);

    /// <summary>Whether the query uses <c>sort</c> or <c>sort_desc</c>, which keeps an instant vector in value order.</summary>
    public static bool IsSortedByValue(SampleExpr expr) => expr switch
    {
        VectorAggregationExpr v => v.Op is VectorOp.Sort or VectorOp.SortDesc || IsSortedByValue(v.Inner),
        BinaryOpExpr b => IsSortedByValue(b.Left) || IsSortedByValue(b.Right),
        LabelReplaceExpr l => IsSortedByValue(l.Inner),
        _ => false,
    };

    private static bool ContainsApproxTopk(SampleExpr expr) => expr switch
    {
        VectorAggregationExpr v => v.Op == VectorOp.ApproxTopk || ContainsApproxTopk(v.Inner),
        BinaryOpExpr b => ContainsApproxTopk(b.Left) || ContainsApproxTopk(b.Right),
        LabelReplaceExpr l => ContainsApproxTopk(l.Inner),
        _ => false,
    };

    /// <summary>
    /// The labels <c>absent_over_time</c> reports: the selector's <c>=</c> matchers, leaving out any label that is
    /// named twice or by a non-equality matcher.
    /// </summary>
    public static LabelSet AbsentLabels(LogSelectorExpr selector)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var matcher in selector.Matchers)
        {
            if (matcher.Name == "__name__")
            {
                continue;
            }

            if (matcher.Type == MatchType.Equal && !values.ContainsKey(matcher.Name))
            {
                values[matcher.Name] = matcher.Value;
            }
            else
            {
                excluded.Add(matcher.Name);
            }
        }

        return LabelSet.From(values.Where(p => !excluded.Contains(p.Key)).Select(static p => new LabelPair(p.Key, p.Value)));
    }

    private static MatrixResult ConstantMatrix(double value, MetricQueryParameters parameters)
    {
        var points = new List<MetricPoint>();
        for (var ts = parameters.StartNs; ts <= parameters.EndNs; ts += parameters.StepNs)
        {
            points.Add(new MetricPoint(ts / 1_000_000, value));
        }

        return new MatrixResult([new MetricSeries(LabelSet.Empty, points)]);
    }

    private StepEvaluator Build(SampleExpr expr, BuildContext context)
    {
        switch (expr)
        {
            case RangeAggregationExpr range:
                return BuildRange(range, context);
            case VectorAggregationExpr { Op: VectorOp.Sum, Inner: RangeAggregationExpr { Grouping: null } range } vector
                when RangeFunction.Of(range.Op).SumsAcrossSeries:
                return new VectorAggregationEvaluator(vector, BuildRange(range, context, vector.Grouping));
            case VectorAggregationExpr
            {
                Op: VectorOp.Sum or VectorOp.Avg or VectorOp.Count or VectorOp.Max or VectorOp.Min or VectorOp.Stddev or VectorOp.Stdvar,
                Grouping: { Without: false } by,
                Inner: RangeAggregationExpr range,
            } vector:
                // These read a series' labels only through their grouping, so the range steps hand on just the grouped
                // labels: when every line is its own series, its whole label set need not be built for the steps.
                return new VectorAggregationEvaluator(vector, BuildRange(range, context, keptLabels: by.Labels));
            case VectorAggregationExpr vector:
                return new VectorAggregationEvaluator(vector, Build(vector.Inner, context));
            case BinaryOpExpr { Left: LiteralExpr left } binary:
                return new LiteralBinaryEvaluator(binary.Op, left.Value, literalOnLeft: true, binary.Modifier.ReturnBool,
                    Build(binary.Right, context));
            case BinaryOpExpr { Right: LiteralExpr right } binary:
                return new LiteralBinaryEvaluator(binary.Op, right.Value, literalOnLeft: false, binary.Modifier.ReturnBool,
                    Build(binary.Left, context));
            case BinaryOpExpr binary:
                var leftLeg = Build(binary.Left, context);
                try
                {
                    return new VectorBinaryEvaluator(binary, leftLeg, Build(binary.Right, context));
                }
                catch
                {
                    leftLeg.Dispose();
                    throw;
                }

            case LabelReplaceExpr replace:
                var inner = Build(replace.Inner, context);
                try
                {
                    return new LabelReplaceEvaluator(replace, inner);
                }
                catch
                {
                    inner.Dispose();
                    throw;
                }

            case VectorExpr constant:
                return new ConstantVectorEvaluator(constant.Value, context.Parameters);
            default:
                throw new MetricQueryException(MetricQueryErrorKind.Execution,
                    $"unexpected expr type ({expr.GetType().Name}) for the metric evaluator");
        }
    }

    private RangeVectorEvaluator BuildRange(RangeAggregationExpr expr, BuildContext context, Grouping? sumGrouping = null,
        IEnumerable<string>? keptLabels = null)
    {
        var parameters = context.Parameters;
        var absent = expr.Op == RangeOp.AbsentOverTime ? AbsentLabels(expr.Range.Left) : null;
        var seriesLimit = ReferenceEquals(expr, context.Root) && absent is null ? Math.Max(0, _limits.MaxQuerySeries) : 0;
        return new RangeVectorEvaluator(expr,
            (from, through) => _source.Select(new SampleSelection(expr, from, through) { SumGrouping = sumGrouping }, context.Cancellation),
            parameters, absent, seriesLimit, _limits.MaxParallelism, context.Cancellation, _memory, _limits.SliceSeriesTarget, keptLabels);
    }

    private VectorResult CollectVector(StepEvaluator root, SampleExpr expr)
    {
        if (!root.Next(out _, out var vector))
        {
            return new VectorResult([]);
        }

        var max = _limits.MaxQuerySeries;
        if (max > 0 && vector.Count > max)
        {
            throw MetricQueryException.SeriesLimit(max);
        }

        if (_memory is not null)
        {
            long bytes = 0;
            foreach (var sample in vector)
            {
                bytes += PointBytes + QueryMemoryBudget.EstimateLabels(sample.Labels);
            }

            _memory.Reserve(bytes);
        }

        var samples = vector.ToList();
        if (!IsSortedByValue(expr))
        {
            samples.Sort(static (a, b) => LabelOrder.Instance.Compare(a.Labels, b.Labels));
        }

        return new VectorResult(samples);
    }

    private MatrixResult CollectMatrix(StepEvaluator root)
    {
        var max = _limits.MaxQuerySeries;
        var series = new Dictionary<LabelSet, List<MetricPoint>>();
        var first = true;
        while (root.Next(out _, out var vector))
        {
            // Loki fails fast when the first step alone exceeds the limit.
            if (first && max > 0 && vector.Count > max)
            {
                throw MetricQueryException.SeriesLimit(max);
            }

            first = false;

            // Series × steps: every step adds a point to each series in its vector.
            _memory?.Reserve(vector.Count * PointBytes);
            foreach (var sample in vector)
            {
                if (!series.TryGetValue(sample.Labels, out var points))
                {
                    if (max > 0 && series.Count >= max)
                    {
                        throw MetricQueryException.SeriesLimit(max);
                    }

                    _memory?.Reserve(QueryMemoryBudget.EstimateLabels(sample.Labels));
                    points = [];
                    series.Add(sample.Labels, points);
                }

                points.Add(new MetricPoint(sample.TimestampMs, sample.Value));
            }
        }

        var result = series.Select(static p => new MetricSeries(p.Key, p.Value)).ToList();
        result.Sort(static (a, b) => LabelOrder.Instance.Compare(a.Labels, b.Labels));
        return new MatrixResult(result);
    }

    private sealed record BuildContext(SampleExpr Root, MetricQueryParameters Parameters, CancellationToken Cancellation);
}
