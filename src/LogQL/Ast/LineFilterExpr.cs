using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>The operator of a line filter.</summary>
public enum LineFilterOp
{
    /// <summary><c>|=</c> contains.</summary>
    Contains,

    /// <summary><c>!=</c> does not contain.</summary>
    NotContains,

    /// <summary><c>|~</c> regex matches.</summary>
    Regex,

    /// <summary><c>!~</c> regex does not match.</summary>
    NotRegex,

    /// <summary><c>|&gt;</c> pattern matches.</summary>
    Pattern,

    /// <summary><c>!&gt;</c> pattern does not match.</summary>
    NotPattern,
}

/// <summary>One operand of a line filter: a literal/regex/pattern string, or an <c>ip("...")</c> filter.</summary>
public readonly record struct LineFilterArg(string Value, bool IsIp)
{
    /// <summary>Appends <c>"value"</c> or <c>ip("value")</c>.</summary>
    public void WriteTo(StringBuilder sb)
    {
        if (IsIp)
        {
            sb.Append("ip(");
            GoString.AppendQuoted(sb, Value);
            sb.Append(')');
        }
        else
        {
            GoString.AppendQuoted(sb, Value);
        }
    }
}

/// <summary>
/// A line filter such as <c>|= "error"</c> or <c>|~ "a" or "b"</c>. A positive filter with several
/// arguments matches when any argument matches; negative <c>or</c> chains are split into separate filters at
/// parse time, as Loki does.
/// </summary>
public sealed record LineFilterExpr(LineFilterOp Op, EquatableArray<LineFilterArg> Args) : StageExpr
{
    /// <summary>The operator as written.</summary>
    public static string OperatorText(LineFilterOp op) => op switch
    {
        LineFilterOp.Contains => "|=",
        LineFilterOp.NotContains => "!=",
        LineFilterOp.Regex => "|~",
        LineFilterOp.NotRegex => "!~",
        LineFilterOp.Pattern => "|>",
        LineFilterOp.NotPattern => "!>",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Whether the operator is a negation.</summary>
    public bool IsNegative => Op is LineFilterOp.NotContains or LineFilterOp.NotRegex or LineFilterOp.NotPattern;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append(OperatorText(Op)).Append(' ');
        for (var i = 0; i < Args.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(" or ");
            }

            Args[i].WriteTo(sb);
        }
    }
}
