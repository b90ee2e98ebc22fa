using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A number literal (scalar).</summary>
public sealed record LiteralExpr(double Value) : SampleExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) => sb.Append(GoFloat.FormatV(Value));
}
