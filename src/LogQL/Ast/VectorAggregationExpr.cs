using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>The vector aggregation operators; <see cref="VectorFunction.All"/> describes each.</summary>
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
    public static string OpText(VectorOp op) => VectorFunction.Of(op).Name;

    /// <summary>Whether the operator takes the <c>k</c> parameter.</summary>
    public static bool TakesParameter(VectorOp op) => VectorFunction.Of(op).TakesParameter;

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
