using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| &lt;label filter&gt;</c>.</summary>
public sealed record LabelFilterExpr(LabelFilter Filter) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| ");
        Filter.WriteTo(sb);
    }
}
