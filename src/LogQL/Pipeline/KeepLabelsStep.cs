using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Pipeline;

/// <summary><c>| keep a, b="x"</c>: removes every label not listed (error labels always stay).</summary>
public sealed class KeepLabelsStep(IReadOnlyList<(string Name, LabelMatcher? Matcher)> items) : PipelineStep
{
    private readonly List<string> _remove = [];

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (items.Count == 0)
        {
            return true;
        }

        _remove.Clear();
        foreach (var pair in labels.Snapshot(includeErrors: false))
        {
            if (pair.Name is PipelineLabels.Error or PipelineLabels.ErrorDetails or PipelineLabels.PreserveError)
            {
                continue;
            }

            var keep = false;
            foreach (var (name, matcher) in items)
            {
                if (name == pair.Name && (matcher is null || matcher.Matches(pair.Value)))
                {
                    keep = true;
                    break;
                }
            }

            if (!keep)
            {
                _remove.Add(pair.Name);
            }
        }

        foreach (var name in _remove)
        {
            labels.Delete(name);
        }

        return true;
    }
}
