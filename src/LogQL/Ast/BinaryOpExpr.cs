using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>The binary operators.</summary>
public enum BinaryOp
{
    /// <summary><c>or</c></summary>
    Or,

    /// <summary><c>and</c></summary>
    And,

    /// <summary><c>unless</c></summary>
    Unless,

    /// <summary><c>+</c></summary>
    Add,

    /// <summary><c>-</c></summary>
    Sub,

    /// <summary><c>*</c></summary>
    Mul,

    /// <summary><c>/</c></summary>
    Div,

    /// <summary><c>%</c></summary>
    Mod,

    /// <summary><c>^</c></summary>
    Pow,

    /// <summary><c>==</c></summary>
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

/// <summary>How samples of the two sides of a binary operation are matched.</summary>
public enum VectorMatchCardinality
{
    /// <summary>One-to-one (the default).</summary>
    OneToOne,

    /// <summary><c>group_left</c></summary>
    ManyToOne,

    /// <summary><c>group_right</c></summary>
    OneToMany,
}

/// <summary>
/// The modifiers of a binary operation: <c>bool</c>, <c>on(...)</c>/<c>ignoring(...)</c> and
/// <c>group_left(...)</c>/<c>group_right(...)</c>.
/// </summary>
public sealed record BinaryOpModifier(
    bool ReturnBool,
    bool On,
    EquatableArray<string> MatchingLabels,
    VectorMatchCardinality Card,
    EquatableArray<string> Include)
{
    /// <summary>No modifiers.</summary>
    public static BinaryOpModifier None { get; } =
        new(false, false, EquatableArray<string>.Empty, VectorMatchCardinality.OneToOne, EquatableArray<string>.Empty);
}

/// <summary>A binary operation; Loki prints it fully parenthesised.</summary>
public sealed record BinaryOpExpr(BinaryOp Op, SampleExpr Left, SampleExpr Right, BinaryOpModifier Modifier) : SampleExpr
{
    /// <summary>The operator as written.</summary>
    public static string OpText(BinaryOp op) => op switch
    {
        BinaryOp.Or => "or",
        BinaryOp.And => "and",
        BinaryOp.Unless => "unless",
        BinaryOp.Add => "+",
        BinaryOp.Sub => "-",
        BinaryOp.Mul => "*",
        BinaryOp.Div => "/",
        BinaryOp.Mod => "%",
        BinaryOp.Pow => "^",
        BinaryOp.Equal => "==",
        BinaryOp.NotEqual => "!=",
        BinaryOp.GreaterThan => ">",
        BinaryOp.GreaterThanOrEqual => ">=",
        BinaryOp.LessThan => "<",
        BinaryOp.LessThanOrEqual => "<=",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Whether the operator is one of the set operators <c>and or unless</c>.</summary>
    public static bool IsSetOperator(BinaryOp op) => op is BinaryOp.And or BinaryOp.Or or BinaryOp.Unless;

    /// <summary>Whether the operator is a comparison.</summary>
    public static bool IsComparison(BinaryOp op) => op >= BinaryOp.Equal;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append('(');
        Left.WriteTo(sb);
        sb.Append(' ').Append(OpText(Op));
        if (Modifier.ReturnBool)
        {
            sb.Append(" bool");
        }

        if (Modifier.On || !Modifier.MatchingLabels.IsEmpty)
        {
            sb.Append(Modifier.On ? " on (" : " ignoring (");
            AppendLabels(sb, Modifier.MatchingLabels);
            sb.Append(") ");
            if (Modifier.Card != VectorMatchCardinality.OneToOne)
            {
                sb.Append(Modifier.Card == VectorMatchCardinality.ManyToOne ? "group_left" : "group_right");
                if (!Modifier.Include.IsEmpty)
                {
                    sb.Append(" (");
                    AppendLabels(sb, Modifier.Include);
                    sb.Append(')');
                }
            }
        }

        sb.Append(' ');
        Right.WriteTo(sb);
        sb.Append(')');
    }

    private static void AppendLabels(StringBuilder sb, EquatableArray<string> labels)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(labels[i]);
        }
    }
}
