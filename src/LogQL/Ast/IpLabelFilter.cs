using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>name=ip("pattern")</c> or <c>name!=ip("pattern")</c>.</summary>
public sealed record IpLabelFilter(string Name, bool NotEqual, string Pattern) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append(Name).Append(NotEqual ? "!=" : "=").Append("ip(");
        GoString.AppendQuoted(sb, Pattern);
        sb.Append(')');
    }
}
