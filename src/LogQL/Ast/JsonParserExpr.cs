using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| json</c>, optionally with extraction parameters.</summary>
public sealed record JsonParserExpr(EquatableArray<LabelExtraction> Extractions) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| json");
        if (!Extractions.IsEmpty)
        {
            sb.Append(' ');
            LabelExtraction.WriteList(sb, Extractions);
        }
    }
}
