using System.Globalization;
using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A metric query: evaluates to samples.</summary>
public abstract record SampleExpr : Expr;

/// <summary>The conversion applied by <c>unwrap</c>.</summary>
public enum UnwrapConversion
{
    /// <summary>Plain float parsing.</summary>
    None,

    /// <summary><c>bytes(label)</c></summary>
    Bytes,

    /// <summary><c>duration(label)</c></summary>
    Duration,

    /// <summary><c>duration_seconds(label)</c></summary>
    DurationSeconds,
}

/// <summary><c>| unwrap label</c> or <c>| unwrap bytes(label)</c>, with the label filters that follow it.</summary>
public sealed record UnwrapExpr(string Identifier, UnwrapConversion Conversion, EquatableArray<LabelFilter> PostFilters)
{
    /// <summary>The conversion's name as written.</summary>
    public static string ConversionText(UnwrapConversion conversion) => conversion switch
    {
        UnwrapConversion.Bytes => "bytes",
        UnwrapConversion.Duration => "duration",
        UnwrapConversion.DurationSeconds => "duration_seconds",
        _ => string.Empty,
    };

    /// <summary>Appends <c> | unwrap x | filter...</c> (with the leading space, as Loki prints it).</summary>
    public void WriteTo(StringBuilder sb)
    {
        sb.Append(" | unwrap ");
        if (Conversion == UnwrapConversion.None)
        {
            sb.Append(Identifier);
        }
        else
        {
            sb.Append(ConversionText(Conversion)).Append('(').Append(Identifier).Append(')');
        }

        foreach (var filter in PostFilters)
        {
            sb.Append(" | ");
            filter.WriteTo(sb);
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        WriteTo(sb);
        return sb.ToString();
    }
}

/// <summary>A log query over a time window: <c>{app="x"} |= "y" [5m] offset 1h</c>.</summary>
public sealed record LogRangeExpr(LogSelectorExpr Left, GoDuration Interval, GoDuration Offset, UnwrapExpr? Unwrap)
{
    /// <summary>Appends the canonical form: selector, pipeline, unwrap, <c>[range]</c>, offset.</summary>
    public void WriteTo(StringBuilder sb)
    {
        Left.WriteTo(sb);
        Unwrap?.WriteTo(sb);
        sb.Append('[').Append(Interval.ToPrometheusString()).Append(']');
        if (Offset.Nanoseconds != 0)
        {
            sb.Append(" offset ").Append(Offset.ToString());
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        WriteTo(sb);
        return sb.ToString();
    }
}

/// <summary>A <c>by (...)</c> or <c>without (...)</c> clause.</summary>
public sealed record Grouping(bool Without, EquatableArray<string> Labels)
{
    /// <summary>No clause, or <c>by ()</c>: everything aggregated into one series.</summary>
    public bool IsSingleton => !Without && Labels.IsEmpty;

    /// <summary>Appends <c> by (a,b)</c> or <c> without (a)</c>.</summary>
    public void WriteTo(StringBuilder sb)
    {
        sb.Append(Without ? " without (" : " by (");
        for (var i = 0; i < Labels.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(Labels[i]);
        }

        sb.Append(')');
    }
}

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

/// <summary>The vector aggregation operators.</summary>
public enum VectorOp
{
    /// <summary><c>sum</c></summary>
    Sum,

    /// <summary><c>avg</c></summary>
    Avg,

    /// <summary><c>count</c></summary>
    Count,

    /// <summary><c>max</c></summary>
    Max,

    /// <summary><c>min</c></summary>
    Min,

    /// <summary><c>stddev</c></summary>
    Stddev,

    /// <summary><c>stdvar</c></summary>
    Stdvar,

    /// <summary><c>bottomk</c></summary>
    Bottomk,

    /// <summary><c>topk</c></summary>
    Topk,

    /// <summary><c>sort</c></summary>
    Sort,

    /// <summary><c>sort_desc</c></summary>
    SortDesc,

    /// <summary><c>approx_topk</c></summary>
    ApproxTopk,
}

/// <summary>A vector aggregation such as <c>sum by (app) (rate(...))</c> or <c>topk(5, ...)</c>.</summary>
public sealed record VectorAggregationExpr(VectorOp Op, SampleExpr Inner, Grouping Grouping, int Parameter) : SampleExpr
{
    /// <summary>The operator name.</summary>
    public static string OpText(VectorOp op) => op switch
    {
        VectorOp.Sum => "sum",
        VectorOp.Avg => "avg",
        VectorOp.Count => "count",
        VectorOp.Max => "max",
        VectorOp.Min => "min",
        VectorOp.Stddev => "stddev",
        VectorOp.Stdvar => "stdvar",
        VectorOp.Bottomk => "bottomk",
        VectorOp.Topk => "topk",
        VectorOp.Sort => "sort",
        VectorOp.SortDesc => "sort_desc",
        VectorOp.ApproxTopk => "approx_topk",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Whether the operator takes the <c>k</c> parameter.</summary>
    public static bool TakesParameter(VectorOp op) => op is VectorOp.Topk or VectorOp.Bottomk or VectorOp.ApproxTopk;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append(OpText(Op));
        if (!Grouping.IsSingleton)
        {
            Grouping.WriteTo(sb);
        }

        sb.Append('(');
        if (TakesParameter(Op) || Parameter != 0)
        {
            sb.Append(Parameter.ToString(CultureInfo.InvariantCulture)).Append(',');
        }

        Inner.WriteTo(sb);
        sb.Append(')');
    }
}

/// <summary>The binary operators.</summary>
public enum BinaryOp
{
    /// <summary><c>or</c></summary>
    Or,

    /// <summary><c>and</c></summary>
    And,

    /// <summary><c>unless</c></summary>
    Unless,

    /// <summary><c>+</c></summary>
    Add,

    /// <summary><c>-</c></summary>
    Sub,

    /// <summary><c>*</c></summary>
    Mul,

    /// <summary><c>/</c></summary>
    Div,

    /// <summary><c>%</c></summary>
    Mod,

    /// <summary><c>^</c></summary>
    Pow,

    /// <summary><c>==</c></summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,

    /// <summary><c>&gt;</c></summary>
    GreaterThan,

    /// <summary><c>&gt;=</c></summary>
    GreaterThanOrEqual,

    /// <summary><c>&lt;</c></summary>
    LessThan,

    /// <summary><c>&lt;=</c></summary>
    LessThanOrEqual,
}

/// <summary>How samples of the two sides of a binary operation are matched.</summary>
public enum VectorMatchCardinality
{
    /// <summary>One-to-one (the default).</summary>
    OneToOne,

    /// <summary><c>group_left</c></summary>
    ManyToOne,

    /// <summary><c>group_right</c></summary>
    OneToMany,
}

/// <summary>
/// The modifiers of a binary operation: <c>bool</c>, <c>on(...)</c>/<c>ignoring(...)</c> and
/// <c>group_left(...)</c>/<c>group_right(...)</c>.
/// </summary>
public sealed record BinaryOpModifier(
    bool ReturnBool,
    bool On,
    EquatableArray<string> MatchingLabels,
    VectorMatchCardinality Card,
    EquatableArray<string> Include)
{
    /// <summary>No modifiers.</summary>
    public static BinaryOpModifier None { get; } = new(false, false, EquatableArray<string>.Empty, VectorMatchCardinality.OneToOne, EquatableArray<string>.Empty);
}

/// <summary>A binary operation; Loki prints it fully parenthesised.</summary>
public sealed record BinaryOpExpr(BinaryOp Op, SampleExpr Left, SampleExpr Right, BinaryOpModifier Modifier) : SampleExpr
{
    /// <summary>The operator as written.</summary>
    public static string OpText(BinaryOp op) => op switch
    {
        BinaryOp.Or => "or",
        BinaryOp.And => "and",
        BinaryOp.Unless => "unless",
        BinaryOp.Add => "+",
        BinaryOp.Sub => "-",
        BinaryOp.Mul => "*",
        BinaryOp.Div => "/",
        BinaryOp.Mod => "%",
        BinaryOp.Pow => "^",
        BinaryOp.Equal => "==",
        BinaryOp.NotEqual => "!=",
        BinaryOp.GreaterThan => ">",
        BinaryOp.GreaterThanOrEqual => ">=",
        BinaryOp.LessThan => "<",
        BinaryOp.LessThanOrEqual => "<=",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Whether the operator is one of the set operators <c>and or unless</c>.</summary>
    public static bool IsSetOperator(BinaryOp op) => op is BinaryOp.And or BinaryOp.Or or BinaryOp.Unless;

    /// <summary>Whether the operator is a comparison.</summary>
    public static bool IsComparison(BinaryOp op) => op >= BinaryOp.Equal;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append('(');
        Left.WriteTo(sb);
        sb.Append(' ').Append(OpText(Op));
        if (Modifier.ReturnBool)
        {
            sb.Append(" bool");
        }

        if (Modifier.On || !Modifier.MatchingLabels.IsEmpty)
        {
            sb.Append(Modifier.On ? " on (" : " ignoring (");
            AppendLabels(sb, Modifier.MatchingLabels);
            sb.Append(") ");
            if (Modifier.Card != VectorMatchCardinality.OneToOne)
            {
                sb.Append(Modifier.Card == VectorMatchCardinality.ManyToOne ? "group_left" : "group_right");
                if (!Modifier.Include.IsEmpty)
                {
                    sb.Append(" (");
                    AppendLabels(sb, Modifier.Include);
                    sb.Append(')');
                }
            }
        }

        sb.Append(' ');
        Right.WriteTo(sb);
        sb.Append(')');
    }

    private static void AppendLabels(StringBuilder sb, EquatableArray<string> labels)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(labels[i]);
        }
    }
}

/// <summary>A number literal (scalar).</summary>
public sealed record LiteralExpr(double Value) : SampleExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) => sb.Append(GoFloat.FormatV(Value));
}

/// <summary><c>vector(s)</c>: one label-less sample of value s at every step.</summary>
public sealed record VectorExpr(double Value) : SampleExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append("vector(").Append(GoFloat.FormatFixed6(Value)).Append(')');
}

/// <summary><c>label_replace(inner, "dst", "replacement", "src", "regex")</c>.</summary>
public sealed record LabelReplaceExpr(SampleExpr Inner, string Destination, string Replacement, string Source, string Regex) : SampleExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("label_replace(");
        Inner.WriteTo(sb);
        sb.Append(',');
        GoString.AppendQuoted(sb, Destination);
        sb.Append(',');
        GoString.AppendQuoted(sb, Replacement);
        sb.Append(',');
        GoString.AppendQuoted(sb, Source);
        sb.Append(',');
        GoString.AppendQuoted(sb, Regex);
        sb.Append(')');
    }
}
