using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.LogQL.Ast;

/// <summary>A string matcher on a label: <c>name="x"</c>, <c>name!="x"</c>, <c>name=~"re"</c>, <c>name!~"re"</c>.</summary>
public sealed record StringLabelFilter(LabelMatcher Matcher) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        // Loki prints a regex it cannot reduce to literal tests with backquotes (its regex filter's form).
        if (Matcher.Type == MatchType.Regex && !RegexLiterals.IsReducibleToLiterals(Matcher.Value))
        {
            sb.Append(Matcher.Name).Append("=~");
            if (Matcher.Value.Contains('`', StringComparison.Ordinal))
            {
                GoString.AppendQuoted(sb, Matcher.Value);
            }
            else
            {
                sb.Append('`').Append(Matcher.Value).Append('`');
            }

            return;
        }

        sb.Append(Matcher.ToString());
    }
}
