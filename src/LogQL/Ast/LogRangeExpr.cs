using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A log query over a time window: <c>{app="x"} |= "y" [5m] offset 1h</c>.</summary>
public sealed record LogRangeExpr(LogSelectorExpr Left, GoDuration Interval, GoDuration Offset, UnwrapExpr? Unwrap)
{
    /// <summary>Appends the canonical form: selector, pipeline, unwrap, <c>[range]</c>, offset.</summary>
    public void WriteTo(StringBuilder sb)
    {
        Left.WriteTo(sb);
        Unwrap?.WriteTo(sb);
        sb.Append('[').Append(Interval.ToPrometheusString()).Append(']');
        if (Offset.Nanoseconds != 0)
        {
            sb.Append(" offset ").Append(Offset.ToString());
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        WriteTo(sb);
        return sb.ToString();
    }
}
