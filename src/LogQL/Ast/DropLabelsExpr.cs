using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| drop a, b="x"</c>.</summary>
public sealed record DropLabelsExpr(EquatableArray<NamedLabelMatcher> Labels) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| drop ");
        NamedLabelMatcher.WriteList(sb, Labels);
    }
}
