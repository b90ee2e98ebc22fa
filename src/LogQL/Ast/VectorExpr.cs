using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary><c>vector(s)</c>: one label-less sample of value s at every step.</summary>
public sealed record VectorExpr(double Value) : SampleExpr
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append("vector(").Append(GoFloat.FormatFixed6(Value)).Append(')');
}
