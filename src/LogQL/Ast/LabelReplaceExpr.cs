using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>label_replace(inner, "dst", "replacement", "src", "regex")</c>.</summary>
public sealed record LabelReplaceExpr(SampleExpr Inner, string Destination, string Replacement, string Source, string Regex) : SampleExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("label_replace(");
        Inner.WriteTo(sb);
        sb.Append(',');
        GoString.AppendQuoted(sb, Destination);
        sb.Append(',');
        GoString.AppendQuoted(sb, Replacement);
        sb.Append(',');
        GoString.AppendQuoted(sb, Source);
        sb.Append(',');
        GoString.AppendQuoted(sb, Regex);
        sb.Append(')');
    }
}
