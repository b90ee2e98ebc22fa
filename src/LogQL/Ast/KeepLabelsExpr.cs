using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| keep a, b="x"</c>.</summary>
public sealed record KeepLabelsExpr(EquatableArray<NamedLabelMatcher> Labels) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| keep ");
        NamedLabelMatcher.WriteList(sb, Labels);
    }
}
