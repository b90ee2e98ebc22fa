using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| decolorize</c>.</summary>
public sealed record DecolorizeExpr : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) => sb.Append("| decolorize");
}
