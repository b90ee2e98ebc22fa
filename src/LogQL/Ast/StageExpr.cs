using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>One stage of a log pipeline.</summary>
public abstract record StageExpr
{
    /// <summary>Appends the canonical form to <paramref name="sb"/>.</summary>
    public abstract void WriteTo(StringBuilder sb);

    /// <summary>Loki's canonical form of the stage.</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder(32);
        WriteTo(sb);
        return sb.ToString();
    }
}
