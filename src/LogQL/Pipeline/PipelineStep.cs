namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// One compiled pipeline stage, the runtime form of a syntax-tree stage: the parser's nodes are named <c>...Expr</c>
/// (<see cref="Ast.LineFilterExpr"/>, <see cref="Ast.JsonParserExpr"/>, ...), their compiled steps <c>...Step</c>
/// (<see cref="LineFilterStep"/>, <see cref="JsonParserStep"/>, ...). Stages keep reusable scratch state, so a compiled
/// pipeline is used by one thread at a time. A stage that rewrites the line points <c>line</c> at a buffer it owns,
/// valid until its next call.
/// </summary>
public abstract class PipelineStep
{
    /// <summary>Runs the stage; false drops the entry.</summary>
    public abstract bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels);

    /// <summary>Whether the stage may replace the line (later line filters then see different text).</summary>
    public virtual bool RewritesLine => false;

    /// <summary>
    /// For an inert stage, one that reads no label (not even to drop or keep it), never sets an error and writes only
    /// labels it names up front: those names (empty for a stage that writes none). Null, the default, for every other
    /// stage: an entry's structured metadata can then change a sample through it in ways not known in advance.
    /// </summary>
    internal virtual IEnumerable<string>? LabelsWrittenIfInert => null;
}
