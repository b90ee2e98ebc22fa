using System.Text;

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
