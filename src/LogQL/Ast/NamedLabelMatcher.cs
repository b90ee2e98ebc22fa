using System.Text;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Ast;

/// <summary>An item of <c>drop</c>/<c>keep</c>: a bare label name, or a matcher on the label's value.</summary>
public readonly record struct NamedLabelMatcher(string Name, LabelMatcher? Matcher)
{
    /// <summary>Appends the name or the matcher.</summary>
    public void WriteTo(StringBuilder sb) => sb.Append(Matcher is null ? Name : Matcher.ToString());

    /// <summary>Appends the list joined by commas.</summary>
    public static void WriteList(StringBuilder sb, EquatableArray<NamedLabelMatcher> list)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            list[i].WriteTo(sb);
        }
    }
}
