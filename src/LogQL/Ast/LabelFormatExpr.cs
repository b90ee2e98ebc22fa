using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>One <c>label_format</c> item: <c>dst=src</c> (rename) or <c>dst="template"</c>.</summary>
public readonly record struct LabelFormatItem(string Name, string Value, bool IsRename);

/// <summary><c>| label_format a=b,c="{{.x}}"</c>.</summary>
public sealed record LabelFormatExpr(EquatableArray<LabelFormatItem> Items) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| label_format ");
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            var item = Items[i];
            sb.Append(item.Name).Append('=');
            if (item.IsRename)
            {
                sb.Append(item.Value);
            }
            else
            {
                GoString.AppendQuoted(sb, item.Value);
            }
        }
    }
}
