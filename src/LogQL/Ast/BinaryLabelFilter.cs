using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>Two filters joined by <c>and</c> (also <c>,</c> and juxtaposition) or <c>or</c>.</summary>
public sealed record BinaryLabelFilter(LabelFilter Left, LabelFilter Right, bool And) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("( ");
        Left.WriteTo(sb);
        sb.Append(And ? " , " : " or ");
        Right.WriteTo(sb);
        sb.Append(" )");
    }
}
