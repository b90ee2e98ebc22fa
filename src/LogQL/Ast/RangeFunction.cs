using LokiSharp.LogQL.Evaluation.Steps;

namespace LokiSharp.LogQL.Ast;

/// <summary>Whether a range function reads an unwrapped value: <c>| unwrap label</c> in its log range.</summary>
public enum UnwrapUse
{
    /// <summary>Counts lines or bytes; <c>unwrap</c> is an error.</summary>
    Never,

    /// <summary>Works on lines and on unwrapped values.</summary>
    Optional,

    /// <summary>Needs an unwrapped value; without one it is an error.</summary>
    Required,
}

/// <summary>When a range function's value depends only on how many samples a window holds.</summary>
internal enum CountOnlyUse
{
    /// <summary>It reads the samples' values.</summary>
    Never,

    /// <summary>Only without <c>unwrap</c>, when every sample is one line.</summary>
    WithoutUnwrap,

    /// <summary>Always.</summary>
    Always,
}

/// <summary>
/// Everything LogQL knows about one range function (<c>rate</c>, <c>count_over_time</c>, ...): its name, what the
/// parser accepts with it, and how the evaluator computes it. <see cref="All"/> is the one table the lexer, the
/// grammar, the checks, the printer and the evaluator read; adding a function is a <see cref="RangeOp"/> member and
/// a row here.
/// </summary>
public sealed class RangeFunction
{
    /// <summary>Every range function, indexed by <see cref="RangeOp"/>.</summary>
    public static IReadOnlyList<RangeFunction> All => Table;

    // Rows in RangeOp order: Of indexes by the enum value (RangeFunctionTableTests checks it).
    private static readonly RangeFunction[] Table =
    [
        new("count_over_time", RangeOp.CountOverTime, UnwrapUse.Never, sumsAcrossSeries: true,
            countOnly: CountOnlyUse.Always, countValue: static (count, _) => count,
            accumulator: static _ => static () => new RangeAccumulator.Count()),
        new("rate", RangeOp.Rate, UnwrapUse.Optional, sumsAcrossSeries: true,
            countOnly: CountOnlyUse.WithoutUnwrap, countValue: static (count, seconds) => count / seconds,
            accumulator: static expr =>
            {
                var seconds = RangeAccumulator.GoSeconds(expr.Range.Interval.Nanoseconds);
                return expr.Range.Unwrap is null
                    ? () => new RangeAccumulator.CountPerSecond(seconds)
                    : () => new RangeAccumulator.SumPerSecond(seconds);
            }),
        new("rate_counter", RangeOp.RateCounter, UnwrapUse.Required,
            accumulator: static expr =>
            {
                var range = expr.Range.Interval.Nanoseconds;
                return () => new RangeAccumulator.RateCounter(range);
            }),
        new("bytes_over_time", RangeOp.BytesOverTime, UnwrapUse.Never, countsBytes: true, sumsAcrossSeries: true,
            accumulator: static _ => static () => new RangeAccumulator.Sum()),
        new("bytes_rate", RangeOp.BytesRate, UnwrapUse.Never, countsBytes: true, sumsAcrossSeries: true,
            accumulator: static expr =>
            {
                var seconds = RangeAccumulator.GoSeconds(expr.Range.Interval.Nanoseconds);
                return () => new RangeAccumulator.SumPerSecond(seconds);
            }),
        new("avg_over_time", RangeOp.AvgOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.Avg()),
        new("sum_over_time", RangeOp.SumOverTime, UnwrapUse.Required, sumsAcrossSeries: true,
            accumulator: static _ => static () => new RangeAccumulator.Sum()),
        new("min_over_time", RangeOp.MinOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.Min()),
        new("max_over_time", RangeOp.MaxOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.Max()),
        new("stdvar_over_time", RangeOp.StdvarOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.Variance(squareRoot: false)),
        new("stddev_over_time", RangeOp.StddevOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.Variance(squareRoot: true)),
        new("quantile_over_time", RangeOp.QuantileOverTime, UnwrapUse.Required, allowsGrouping: true, takesParameter: true,
            accumulator: static expr => () => new RangeAccumulator.Quantile(expr.Parameter ?? 0)),
        new("first_over_time", RangeOp.FirstOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.First()),
        new("last_over_time", RangeOp.LastOverTime, UnwrapUse.Required, allowsGrouping: true,
            accumulator: static _ => static () => new RangeAccumulator.Last()),
        new("absent_over_time", RangeOp.AbsentOverTime, UnwrapUse.Optional,
            countOnly: CountOnlyUse.Always, countValue: static (_, _) => 1.0,
            accumulator: static _ => static () => new RangeAccumulator.One()),
    ];

    private readonly Func<RangeAggregationExpr, Func<RangeAccumulator>> _accumulator;

    private RangeFunction(
        string name,
        RangeOp op,
        UnwrapUse unwrap,
        Func<RangeAggregationExpr, Func<RangeAccumulator>> accumulator,
        bool takesParameter = false,
        bool allowsGrouping = false,
        bool countsBytes = false,
        bool sumsAcrossSeries = false,
        CountOnlyUse countOnly = CountOnlyUse.Never,
        Func<long, double, double>? countValue = null)
    {
        Name = name;
        Op = op;
        Unwrap = unwrap;
        TakesParameter = takesParameter;
        AllowsGrouping = allowsGrouping;
        CountsBytes = countsBytes;
        SumsAcrossSeries = sumsAcrossSeries;
        CountOnly = countOnly;
        CountValue = countValue;
        TokenName = name.ToUpperInvariant();
        _accumulator = accumulator;
    }

    /// <summary>The function's name as written, e.g. <c>count_over_time</c>.</summary>
    public string Name { get; }

    /// <summary>The function.</summary>
    public RangeOp Op { get; }

    /// <summary>Whether it needs, allows or refuses <c>| unwrap</c>.</summary>
    public UnwrapUse Unwrap { get; }

    /// <summary>Whether it takes (and needs) a number before the range: <c>quantile_over_time(0.99, ...)</c>.</summary>
    public bool TakesParameter { get; }

    /// <summary>Whether <c>by (...)</c> / <c>without (...)</c> may follow it.</summary>
    public bool AllowsGrouping { get; }

    /// <summary>Whether, without <c>unwrap</c>, a sample is the line's size in bytes (else 1 per line).</summary>
    public bool CountsBytes { get; }

    /// <summary>
    /// Whether a <c>sum</c> over its series equals the function over the merged series, so an enclosing
    /// <c>sum by (...)</c> may group the samples before the function runs.
    /// </summary>
    public bool SumsAcrossSeries { get; }

    /// <summary>The name Loki's yacc grammar gives the function's token, as in <c>unexpected COUNT_OVER_TIME</c>.</summary>
    public string TokenName { get; }

    internal CountOnlyUse CountOnly { get; }

    /// <summary>The value of a count-only function from the window's sample count and the range in seconds.</summary>
    internal Func<long, double, double>? CountValue { get; }

    /// <summary>The row of <paramref name="op"/>.</summary>
    public static RangeFunction Of(RangeOp op) => Table[(int)op];

    /// <summary>Whether <paramref name="expr"/>'s value depends only on how many samples each window holds.</summary>
    internal bool IsCountOnly(RangeAggregationExpr expr) =>
        CountOnly == CountOnlyUse.Always || (CountOnly == CountOnlyUse.WithoutUnwrap && expr.Range.Unwrap is null);

    /// <summary>Makes a factory of fresh accumulators for <paramref name="expr"/> (one per evaluator thread).</summary>
    internal Func<RangeAccumulator> AccumulatorFactory(RangeAggregationExpr expr) => _accumulator(expr);

    /// <inheritdoc />
    public override string ToString() => Name;
}
