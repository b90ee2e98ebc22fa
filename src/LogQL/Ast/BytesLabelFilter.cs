using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A byte-size comparison such as <c>size &gt; 20kB</c>.</summary>
public sealed record BytesLabelFilter(string Name, ComparisonOp Op, ulong Value) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append(Name).Append(ComparisonText(Op)).Append(HumanBytes.Format(Value));
}
