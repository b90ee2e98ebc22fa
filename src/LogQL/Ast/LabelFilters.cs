using System.Text;
using MatchType = LokiSharp.LogQL.Labels.MatchType;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A comparison of a typed label filter.</summary>
public enum ComparisonOp
{
    /// <summary><c>=</c> or <c>==</c>, printed <c>==</c>.</summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,

    /// <summary><c>&gt;</c></summary>
    GreaterThan,

    /// <summary><c>&gt;=</c></summary>
    GreaterThanOrEqual,

    /// <summary><c>&lt;</c></summary>
    LessThan,

    /// <summary><c>&lt;=</c></summary>
    LessThanOrEqual,
}

/// <summary>A label filter expression (after <c>|</c> or <c>unwrap</c>).</summary>
public abstract record LabelFilter
{
    /// <summary>Appends the canonical form to <paramref name="sb"/>.</summary>
    public abstract void WriteTo(StringBuilder sb);

    /// <summary>Loki's canonical form of the filter.</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder(32);
        WriteTo(sb);
        return sb.ToString();
    }

    /// <summary>The comparison as Loki prints it.</summary>
    public static string ComparisonText(ComparisonOp op) => op switch
    {
        ComparisonOp.Equal => "==",
        ComparisonOp.NotEqual => "!=",
        ComparisonOp.GreaterThan => ">",
        ComparisonOp.GreaterThanOrEqual => ">=",
        ComparisonOp.LessThan => "<",
        ComparisonOp.LessThanOrEqual => "<=",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}

/// <summary>A string matcher on a label: <c>name="x"</c>, <c>name!="x"</c>, <c>name=~"re"</c>, <c>name!~"re"</c>.</summary>
public sealed record StringLabelFilter(LabelMatcher Matcher) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        // Loki prints a regex it cannot reduce to literal tests with backquotes (its regex filter's form).
        if (Matcher.Type == MatchType.Regex && !RegexLiterals.IsReducibleToLiterals(Matcher.Value))
        {
            sb.Append(Matcher.Name).Append("=~");
            if (Matcher.Value.Contains('`', StringComparison.Ordinal))
            {
                GoString.AppendQuoted(sb, Matcher.Value);
            }
            else
            {
                sb.Append('`').Append(Matcher.Value).Append('`');
            }

            return;
        }

        sb.Append(Matcher.ToString());
    }
}

/// <summary>A numeric comparison such as <c>status &gt;= 500</c>.</summary>
public sealed record NumericLabelFilter(string Name, ComparisonOp Op, double Value) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append(Name).Append(ComparisonText(Op)).Append(GoFloat.FormatShortestFixed(Value));
}

/// <summary>A duration comparison such as <c>latency &gt; 250ms</c>.</summary>
public sealed record DurationLabelFilter(string Name, ComparisonOp Op, GoDuration Value) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append(Name).Append(ComparisonText(Op)).Append(Value.ToString());
}

/// <summary>A byte-size comparison such as <c>size &gt; 20kB</c>.</summary>
public sealed record BytesLabelFilter(string Name, ComparisonOp Op, ulong Value) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb) =>
        sb.Append(Name).Append(ComparisonText(Op)).Append(HumanBytes.Format(Value));
}

/// <summary><c>name=ip("pattern")</c> or <c>name!=ip("pattern")</c>.</summary>
public sealed record IpLabelFilter(string Name, bool NotEqual, string Pattern) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append(Name).Append(NotEqual ? "!=" : "=").Append("ip(");
        GoString.AppendQuoted(sb, Pattern);
        sb.Append(')');
    }
}

/// <summary>Two filters joined by <c>and</c> (also <c>,</c> and juxtaposition) or <c>or</c>.</summary>
public sealed record BinaryLabelFilter(LabelFilter Left, LabelFilter Right, bool And) : LabelFilter
{
    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("( ");
        Left.WriteTo(sb);
        sb.Append(And ? " , " : " or ");
        Right.WriteTo(sb);
        sb.Append(" )");
    }
}
