namespace LokiSharp.LogQL.Pipeline;

/// <summary>A label filter stage.</summary>
public sealed class LabelFilterStep(LabelPredicate predicate) : PipelineStep
{
    /// <summary>The compiled filter.</summary>
    public LabelPredicate Predicate { get; } = predicate;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels) => Predicate.Test(labels);
}
