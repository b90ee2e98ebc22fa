using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Pipeline;

/// <summary><c>| drop a, b="x"</c>: removes labels (matchers only when the value matches); dropping an error label clears it.</summary>
public sealed class DropLabelsStep(IReadOnlyList<(string Name, LabelMatcher? Matcher)> items) : PipelineStep
{
    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        foreach (var (name, matcher) in items)
        {
            if (name == PipelineLabels.Error)
            {
                if (matcher is null || matcher.Matches(labels.Error))
                {
                    labels.Error = string.Empty;
                }

                continue;
            }

            if (name == PipelineLabels.ErrorDetails)
            {
                if (matcher is null || matcher.Matches(labels.ErrorDetails))
                {
                    labels.ErrorDetails = string.Empty;
                }

                continue;
            }

            var value = labels.Get(name);
            if (value is not null && (matcher is null || matcher.Matches(value)))
            {
                labels.Delete(name);
            }
        }

        return true;
    }
}
