using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| line_format "template"</c>.</summary>
public sealed record LineFormatExpr(string Template) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| line_format ");
        GoString.AppendQuoted(sb, Template);
    }
}
