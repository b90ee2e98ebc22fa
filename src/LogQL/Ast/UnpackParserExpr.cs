using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| unpack</c>.</summary>
public sealed record UnpackParserExpr : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) => sb.Append("| unpack");
}
