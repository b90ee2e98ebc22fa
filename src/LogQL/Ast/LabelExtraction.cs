using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A <c>name="expression"</c> parameter of <c>json</c> or <c>logfmt</c>.</summary>
public readonly record struct LabelExtraction(string Name, string Expression)
{
    /// <summary>Appends <c>name="expression"</c>.</summary>
    public void WriteTo(StringBuilder sb)
    {
        sb.Append(Name).Append('=');
        GoString.AppendQuoted(sb, Expression);
    }

    /// <summary>Appends the list joined by commas.</summary>
    public static void WriteList(StringBuilder sb, EquatableArray<LabelExtraction> list)
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
