namespace LokiSharp.LogQL.Pipeline;

/// <summary>A line filter stage.</summary>
public sealed class LineFilterStep(LineMatcher matcher) : PipelineStep
{
    /// <summary>The compiled test.</summary>
    public LineMatcher Matcher { get; } = matcher;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels) => Matcher.Matches(line);

    /// <summary>A line filter reads and writes no label.</summary>
    internal override IEnumerable<string> LabelsWrittenIfInert => [];
}
