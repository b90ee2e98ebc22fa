namespace LokiSharp.LogQL.Ast;

/// <summary>Which <c>by (...)</c> / <c>without (...)</c> clauses a vector aggregation accepts.</summary>
public enum GroupingUse
{
    /// <summary>Any clause.</summary>
    Any,

    /// <summary>Only an empty <c>by ()</c> / <c>without ()</c> (<c>sort</c>, <c>sort_desc</c>).</summary>
    EmptyOnly,

    /// <summary>No clause at all (<c>approx_topk</c>).</summary>
    None,
}

/// <summary>
/// Everything the parser knows about one vector aggregation operator (<c>sum</c>, <c>topk</c>, ...): its name and
/// what it accepts. <see cref="All"/> is the table the lexer, the grammar, the checks and the printer read; adding an
/// operator is a <see cref="VectorOp"/> member, a row here and its case in the evaluator's
/// <c>VectorAggregationEvaluator</c>.
/// </summary>
public sealed class VectorFunction
{
    // Rows in VectorOp order: Of indexes by the enum value (VectorFunctionTableTests checks it).
    private static readonly VectorFunction[] Table =
    [
        new("sum", VectorOp.Sum),
        new("avg", VectorOp.Avg),
        new("count", VectorOp.Count),
        new("max", VectorOp.Max),
        new("min", VectorOp.Min),
        new("stddev", VectorOp.Stddev),
        new("stdvar", VectorOp.Stdvar),
        new("bottomk", VectorOp.Bottomk, takesParameter: true),
        new("topk", VectorOp.Topk, takesParameter: true),
        new("sort", VectorOp.Sort, grouping: GroupingUse.EmptyOnly),
        new("sort_desc", VectorOp.SortDesc, grouping: GroupingUse.EmptyOnly),
        new("approx_topk", VectorOp.ApproxTopk, takesParameter: true, grouping: GroupingUse.None),
    ];

    private VectorFunction(string name, VectorOp op, bool takesParameter = false, GroupingUse grouping = GroupingUse.Any)
    {
        Name = name;
        Op = op;
        TakesParameter = takesParameter;
        Grouping = grouping;
        TokenName = name.ToUpperInvariant();
    }

    /// <summary>Every vector aggregation operator, indexed by <see cref="VectorOp"/>.</summary>
    public static IReadOnlyList<VectorFunction> All => Table;

    /// <summary>The operator's name as written, e.g. <c>sum</c>.</summary>
    public string Name { get; }

    /// <summary>The operator.</summary>
    public VectorOp Op { get; }

    /// <summary>Whether it takes (and needs) the integer <c>k</c>: <c>topk(5, ...)</c>.</summary>
    public bool TakesParameter { get; }

    /// <summary>Which grouping clauses it accepts.</summary>
    public GroupingUse Grouping { get; }

    /// <summary>The name Loki's yacc grammar gives the operator's token, as in <c>unexpected SUM</c>.</summary>
    public string TokenName { get; }

    /// <summary>The row of <paramref name="op"/>.</summary>
    public static VectorFunction Of(VectorOp op) => Table[(int)op];

    /// <inheritdoc />
    public override string ToString() => Name;
}
