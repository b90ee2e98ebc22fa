using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| regexp "re"</c>: named groups become labels.</summary>
public sealed record RegexpParserExpr(string Regex) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| regexp ");
        GoString.AppendQuoted(sb, Regex);
    }
}
