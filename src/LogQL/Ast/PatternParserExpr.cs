using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| pattern "&lt;a&gt; &lt;_&gt;"</c>: named captures become labels.</summary>
public sealed record PatternParserExpr(string Pattern) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| pattern ");
        GoString.AppendQuoted(sb, Pattern);
    }
}
