using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using LokiSharp.Querier.Metadata;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Detected;

/// <summary>One label of <c>detected_labels</c> with its number of distinct values.</summary>
public readonly record struct DetectedLabel(string Label, long Cardinality);

/// <summary>
/// Loki 3's <c>detected_labels</c>: the stream labels of matching streams with their cardinality, leaving out
/// labels whose values all look like IDs (numbers or UUIDs; a 0/1 pair counts as a flag, not an ID), except the
/// static labels <c>cluster</c>, <c>namespace</c>, <c>instance</c> and <c>pod</c>, which are always kept.
/// </summary>
public sealed class DetectedLabelsQuery(IReadOnlyList<ILogSource> sources, QueryMemoryBudget? memory = null)
{
    private static readonly HashSet<string> StaticLabels = new(["cluster", "namespace", "instance", "pod"], StringComparer.Ordinal);

    /// <summary>Detected labels sorted by name.</summary>
    public List<DetectedLabel> Labels(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var metadata = new MetadataQueries(sources, memory);
        var result = new List<DetectedLabel>();
        foreach (var name in metadata.LabelNames(tenant, matchers, from, through))
        {
            var values = metadata.LabelValues(tenant, name, matchers, from, through);
            if (values.Count == 0 || (!StaticLabels.Contains(name) && AllIds(values)))
            {
                continue;
            }

            result.Add(new DetectedLabel(name, values.Count));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Label, b.Label));
        return result;
    }

    /// <summary>True when every value is a number or a UUID, so the label is an identifier rather than a dimension.</summary>
    public static bool AllIds(IReadOnlyList<string> values)
    {
        if (values.Count <= 2 && values.All(static v => v is "0" or "1"))
        {
            return false;
        }

        foreach (var value in values)
        {
            if (!GoFloat.TryParse(value, out _, out _) && !Guid.TryParse(value, out _))
            {
                return false;
            }
        }

        return true;
    }
}
