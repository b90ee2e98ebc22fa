using System.Text;
using System.Text.RegularExpressions;

namespace LokiSharp.LogQL.Pipeline;

/// <summary><c>| regexp "re"</c>: each named group becomes a label (unmatched optional groups give <c>""</c>).</summary>
public sealed class RegexpParserStep : PipelineStep
{
    private readonly Regex _regex;
    private readonly (int Group, string Name)[] _groups;

    internal RegexpParserStep(Regex regex, (int Group, string Name)[] groups)
    {
        _regex = regex;
        _groups = groups;
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        var match = _regex.Match(Encoding.UTF8.GetString(line));
        if (!match.Success)
        {
            return true;
        }

        foreach (var (group, name) in _groups)
        {
            var key = labels.ParsedName(name);
            if (labels.WasExtracted(key))
            {
                continue;
            }

            var g = match.Groups[group];
            labels.Set(LabelCategory.Parsed, key, g.Success ? g.Value : string.Empty);
        }

        return true;
    }
}
