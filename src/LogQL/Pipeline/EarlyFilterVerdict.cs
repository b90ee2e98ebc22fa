using LokiSharp.LogQL.Ast;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// A label filter that directly follows a <c>json</c> parser, judged while the parser walks the line: once the
/// parser has extracted every label the filter reads, those values are final for the stage (the first value of a
/// name wins), and a filter that drops the line then drops it whatever the rest of the line holds, errors included
/// (typed and string filters judge values only). The parser can stop there instead of walking the rest. A filter that
/// keeps the line is judged again by its own stage after the parser, so only the drop is decided early.
/// </summary>
internal sealed class EarlyFilterVerdict
{
    private readonly LabelPredicate _predicate;
    private readonly string[] _names;

    private EarlyFilterVerdict(LabelPredicate predicate, string[] names)
    {
        _predicate = predicate;
        _names = names;
    }

    /// <summary>
    /// The early verdict of <paramref name="filter"/> (compiled as <paramref name="predicate"/>), or null when its
    /// verdict can depend on more than label values: <c>ip</c> filters pass lines that carry an error, and filters on
    /// <c>__error__</c> read the error the rest of the line may still set.
    /// </summary>
    public static EarlyFilterVerdict? For(LabelFilter filter, LabelPredicate predicate)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        ParserHints.AddNames(filter, names);
        return HasIp(filter) || names.Contains(PipelineLabels.Error) || names.Contains(PipelineLabels.ErrorDetails)
            ? null
            : new EarlyFilterVerdict(predicate, [.. names]);
    }

    private static bool HasIp(LabelFilter filter) => filter switch
    {
        BinaryLabelFilter b => HasIp(b.Left) || HasIp(b.Right),
        IpLabelFilter => true,
        _ => false,
    };

    /// <summary>
    /// Whether the line is certain to be dropped by the filter, now that the parser extracted <paramref name="name"/>:
    /// only once every name the filter reads was extracted, and with the error labels left as they were (a
    /// conversion failure sets <c>LabelFilterErr</c> but keeps the line, which the filter's own stage then records).
    /// </summary>
    public bool Drops(string name, LineLabels labels)
    {
        var reads = false;
        foreach (var n in _names)
        {
            if (ReferenceEquals(n, name) || n == name)
            {
                reads = true;
            }
            else if (!labels.WasExtracted(n))
            {
                return false;
            }
        }

        if (!reads)
        {
            return false;
        }

        var error = labels.Error;
        var details = labels.ErrorDetails;
        var kept = _predicate.Test(labels);
        labels.Error = error;
        labels.ErrorDetails = details;
        return !kept;
    }
}
