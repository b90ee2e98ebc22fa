using LokiSharp.LogQL.Ast;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// The parsed labels a metric query can observe, so the <c>json</c> and <c>logfmt</c> parsers can skip the others
/// (Loki's parser hints). A label is needed when the output grouping keeps it or a stage reads it (label filters,
/// <c>keep</c>/<c>drop</c>, <c>label_format</c> renames, <c>unwrap</c> and its post filters). There are no hints when
/// every label can reach the output (no <c>by</c>, or <c>without</c>) or a template could read any label. Parsers
/// still scan the whole line, so malformed input sets the same <c>__error__</c>; the extractor then re-runs the entry
/// without hints, because an errored sample keeps all its labels.
/// </summary>
internal sealed class ParserHints
{
    private readonly HashSet<string> _names;

    private ParserHints(HashSet<string> names) => _names = names;

    /// <summary>The needed names, as a parsed label is finally named (with <c>_extracted</c> when it collided).</summary>
    public IReadOnlyCollection<string> Names => _names;

    /// <summary>Whether a parsed label named <paramref name="name"/> is read by a later stage or the output.</summary>
    public bool Wants(string name) => _names.Contains(name);

    /// <summary>Whether some needed name lies under the nested JSON object whose label prefix is <paramref name="prefix"/>.</summary>
    public bool WantsUnder(string prefix)
    {
        foreach (var name in _names)
        {
            if (name.Length > prefix.Length && name[prefix.Length] == '_' && name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The hints for a metric query's pipeline, or null when every label may be observable. <paramref name="output"/>
    /// is the set of labels the output keeps (null when it keeps all but some).
    /// </summary>
    public static ParserHints? For(IReadOnlyList<StageExpr> stages, IEnumerable<string>? output, UnwrapExpr? unwrap)
    {
        if (output is null)
        {
            return null;
        }

        var names = new HashSet<string>(output, StringComparer.Ordinal);
        var hasParser = false;
        foreach (var stage in stages)
        {
            switch (stage)
            {
                case JsonParserExpr { Extractions.IsEmpty: true } or LogfmtParserExpr { Extractions.IsEmpty: true }:
                    hasParser = true;
                    break;
                case LabelFilterExpr f:
                    AddNames(f.Filter, names);
                    break;
                case DropLabelsExpr d:
                    AddNames(d.Labels, names);
                    break;
                case KeepLabelsExpr k:
                    AddNames(k.Labels, names);
                    break;
                case LabelFormatExpr lf:
                    foreach (var item in lf.Items)
                    {
                        if (!item.IsRename)
                        {
                            // A template can range over every label.
                            return null;
                        }

                        names.Add(item.Name);
                        names.Add(item.Value);
                    }

                    break;
                case LineFormatExpr:
                    return null;
            }
        }

        if (!hasParser)
        {
            return null;
        }

        if (unwrap is not null)
        {
            names.Add(unwrap.Identifier);
            foreach (var filter in unwrap.PostFilters)
            {
                AddNames(filter, names);
            }
        }

        return new ParserHints(names);
    }

    private static void AddNames(EquatableArray<NamedLabelMatcher> labels, HashSet<string> names)
    {
        foreach (var l in labels)
        {
            names.Add(l.Matcher?.Name ?? l.Name);
        }
    }

    /// <summary>Adds the label names <paramref name="filter"/> reads to <paramref name="names"/>.</summary>
    internal static void AddNames(LabelFilter filter, HashSet<string> names)
    {
        switch (filter)
        {
            case BinaryLabelFilter b:
                AddNames(b.Left, names);
                AddNames(b.Right, names);
                break;
            case StringLabelFilter s:
                names.Add(s.Matcher.Name);
                break;
            case NumericLabelFilter n:
                names.Add(n.Name);
                break;
            case DurationLabelFilter d:
                names.Add(d.Name);
                break;
            case BytesLabelFilter b:
                names.Add(b.Name);
                break;
            case IpLabelFilter ip:
                names.Add(ip.Name);
                break;
            default:
                throw new ArgumentException("unknown label filter " + filter.GetType().Name, nameof(filter));
        }
    }
}
