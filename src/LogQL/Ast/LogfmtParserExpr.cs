using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>| logfmt</c> with its flags and optional extraction parameters.</summary>
public sealed record LogfmtParserExpr(bool Strict, bool KeepEmpty, EquatableArray<LabelExtraction> Extractions) : StageExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("| logfmt");
        if (Strict)
        {
            sb.Append(" --strict");
        }

        if (KeepEmpty)
        {
            sb.Append(" --keep-empty");
        }

        if (!Extractions.IsEmpty)
        {
            sb.Append(' ');
            LabelExtraction.WriteList(sb, Extractions);
        }
    }
}
