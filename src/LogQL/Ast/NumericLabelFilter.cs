using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A numeric comparison such as <c>status &gt;= 500</c>.</summary>
public sealed record NumericLabelFilter(string Name, ComparisonOp Op, double Value) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append(Name).Append(ComparisonText(Op)).Append(GoFloat.FormatShortestFixed(Value));
}
