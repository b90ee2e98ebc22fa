using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>A compiled label filter: decides whether an entry passes from its current labels.</summary>
public abstract class LabelPredicate
{
    /// <summary>Whether the entry passes; typed filters may set <c>LabelFilterErr</c>.</summary>
    public abstract bool Test(LineLabels labels);

    /// <summary>Compiles a label filter expression; throws <see cref="Syntax.LogQLParseException"/> for bad patterns.</summary>
    public static LabelPredicate Compile(LabelFilter filter, string? stageText = null) => filter switch
    {
        BinaryLabelFilter b => new BinaryPredicate(Compile(b.Left, stageText ?? "| " + filter), Compile(b.Right, stageText ?? "| " + filter), b.And),
        StringLabelFilter s => StringPredicate.Create(s.Matcher, stageText ?? "| " + filter),
        NumericLabelFilter n => new NumericPredicate(n.Name, n.Op, n.Value),
        DurationLabelFilter d => new DurationPredicate(d.Name, d.Op, d.Value.Nanoseconds),
        BytesLabelFilter b => new BytesPredicate(b.Name, b.Op, b.Value),
        IpLabelFilter ip => new IpPredicate(ip.Name, ip.NotEqual, IpPattern.TryParse(ip.Pattern) ??
            throw PipelineBuildError.Create(stageText ?? "| " + filter, "ip: invalid pattern: " + GoString.Quote(ip.Pattern))),
        _ => throw PipelineBuildError.Create(stageText ?? "| " + filter, "unsupported label filter"),
    };

    internal static bool Compare<T>(ComparisonOp op, T value, T reference)
        where T : IComparable<T>
    {
        var c = value.CompareTo(reference);
        return op switch
        {
            ComparisonOp.Equal => c == 0,
            ComparisonOp.NotEqual => c != 0,
            ComparisonOp.GreaterThan => c > 0,
            ComparisonOp.GreaterThanOrEqual => c >= 0,
            ComparisonOp.LessThan => c < 0,
            ComparisonOp.LessThanOrEqual => c <= 0,
            _ => false,
        };
    }

    internal static void SetFilterError(LineLabels labels, string details)
    {
        if (!labels.HasError)
        {
            labels.SetError(PipelineLabels.LabelFilterError, details);
        }
    }
}

internal sealed class BinaryPredicate(LabelPredicate left, LabelPredicate right, bool and) : LabelPredicate
{
    public override bool Test(LineLabels labels)
    {
        var l = left.Test(labels);
        if (!and && l)
        {
            return true;
        }

        var r = right.Test(labels);
        return and ? l && r : r;
    }
}
