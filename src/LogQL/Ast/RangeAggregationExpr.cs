using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>The range aggregation functions; <see cref="RangeFunction.All"/> describes each.</summary>
public enum RangeOp
{
    /// <summary><c>count_over_time</c></summary>
    CountOverTime,

    /// <summary><c>rate</c></summary>
    Rate,

    /// <summary><c>rate_counter</c></summary>
    RateCounter,

    /// <summary><c>bytes_over_time</c></summary>
    BytesOverTime,

    /// <summary><c>bytes_rate</c></summary>
    BytesRate,

    /// <summary><c>avg_over_time</c></summary>
    AvgOverTime,

    /// <summary><c>sum_over_time</c></summary>
    SumOverTime,

    /// <summary><c>min_over_time</c></summary>
    MinOverTime,

    /// <summary><c>max_over_time</c></summary>
    MaxOverTime,

    /// <summary><c>stdvar_over_time</c></summary>
    StdvarOverTime,

    /// <summary><c>stddev_over_time</c></summary>
    StddevOverTime,

    /// <summary><c>quantile_over_time</c></summary>
    QuantileOverTime,

    /// <summary><c>first_over_time</c></summary>
    FirstOverTime,

    /// <summary><c>last_over_time</c></summary>
    LastOverTime,

    /// <summary><c>absent_over_time</c></summary>
    AbsentOverTime,
}

/// <summary>A range aggregation such as <c>rate({app="x"}[5m])</c> or <c>quantile_over_time(0.99, ...) by (a)</c>.</summary>
public sealed record RangeAggregationExpr(RangeOp Op, LogRangeExpr Range, Grouping? Grouping, double? Parameter) : SampleExpr
{
    /// <summary>The function name.</summary>
    public static string OpText(RangeOp op) => RangeFunction.Of(op).Name;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append(OpText(Op)).Append('(');
        if (Parameter is { } p)
        {
            sb.Append(GoFloat.FormatShortestFixed(p)).Append(',');
        }

        Range.WriteTo(sb);
        sb.Append(')');
        Grouping?.WriteTo(sb);
    }
}
