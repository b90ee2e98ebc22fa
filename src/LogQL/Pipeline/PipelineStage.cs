namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// One compiled pipeline stage. Stages keep reusable scratch state, so a compiled pipeline is used by one thread at a
/// time. A stage that rewrites the line points <c>line</c> at a buffer it owns, valid until its next call.
/// </summary>
public abstract class PipelineStage
{
    /// <summary>Runs the stage; false drops the entry.</summary>
    public abstract bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels);

    /// <summary>Whether the stage may replace the line (later line filters then see different text).</summary>
    public virtual bool RewritesLine => false;
}

/// <summary>A line filter stage.</summary>
public sealed class LineFilterStep(LineMatcher matcher) : PipelineStage
{
    /// <summary>The compiled test.</summary>
    public LineMatcher Matcher { get; } = matcher;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels) => Matcher.Matches(line);
}
