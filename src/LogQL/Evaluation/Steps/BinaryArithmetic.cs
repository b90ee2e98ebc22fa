using LokiSharp.LogQL.Ast;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>Loki's <c>MergeBinOp</c> arithmetic: division and modulo by zero give NaN, comparisons give 1 or 0.</summary>
internal static class BinaryArithmetic
{
    public static double Apply(BinaryOp op, double left, double right) => op switch
    {
        BinaryOp.Add => left + right,
        BinaryOp.Sub => left - right,
        BinaryOp.Mul => left * right,
        BinaryOp.Div => right == 0 ? double.NaN : left / right,

        // .NET's % on doubles is C's fmod, like Go's math.Mod: the sign of the dividend.
        BinaryOp.Mod => right == 0 ? double.NaN : left % right,
        BinaryOp.Pow => Math.Pow(left, right),
        _ => Compare(op, left, right) ? 1 : 0,
    };

    public static bool Compare(BinaryOp op, double left, double right) => op switch
    {
        BinaryOp.Equal => left == right,
        BinaryOp.NotEqual => left != right,
        BinaryOp.GreaterThan => left > right,
        BinaryOp.GreaterThanOrEqual => left >= right,
        BinaryOp.LessThan => left < right,
        BinaryOp.LessThanOrEqual => left <= right,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
