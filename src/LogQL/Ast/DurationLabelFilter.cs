using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A duration comparison such as <c>latency &gt; 250ms</c>.</summary>
public sealed record DurationLabelFilter(string Name, ComparisonOp Op, GoDuration Value) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append(Name).Append(ComparisonText(Op)).Append(Value.ToString());
}
