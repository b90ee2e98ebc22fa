using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>Label-set derivations shared by the evaluators: grouping, keeping and dropping names.</summary>
internal static class LabelSets
{
    /// <summary>Only the pairs whose name is in <paramref name="names"/>.</summary>
    public static LabelSet Keep(LabelSet labels, HashSet<string> names)
    {
        var kept = new List<LabelPair>(Math.Min(labels.Count, names.Count));
        foreach (var pair in labels.AsSpan())
        {
            if (names.Contains(pair.Name))
            {
                kept.Add(pair);
            }
        }

        return kept.Count == labels.Count ? labels : LabelSet.From(kept);
    }

    /// <summary>The pairs whose name is not in <paramref name="names"/>.</summary>
    public static LabelSet Drop(LabelSet labels, HashSet<string> names)
    {
        var kept = new List<LabelPair>(labels.Count);
        foreach (var pair in labels.AsSpan())
        {
            if (!names.Contains(pair.Name))
            {
                kept.Add(pair);
            }
        }

        return kept.Count == labels.Count ? labels : LabelSet.From(kept);
    }

    /// <summary>
    /// The grouping of a vector aggregation: <c>by</c> keeps the listed labels that exist, <c>without</c> removes them
    /// and <c>__name__</c>.
    /// </summary>
    public static Func<LabelSet, LabelSet> VectorGrouping(Grouping grouping)
    {
        if (grouping.Without)
        {
            var names = new HashSet<string>(grouping.Labels, StringComparer.Ordinal) { "__name__" };
            return labels => Drop(labels, names);
        }

        if (grouping.Labels.IsEmpty)
        {
            return static _ => LabelSet.Empty;
        }

        var keep = new HashSet<string>(grouping.Labels, StringComparer.Ordinal);
        return labels => Keep(labels, keep);
    }

    /// <summary>
    /// The grouping of a range aggregation, applied to each sample's labels: as Loki's extractor, samples carrying
    /// <c>__error__</c> keep all their labels so the error is reported rather than grouped away.
    /// </summary>
    public static Func<LabelSet, LabelSet> RangeGrouping(Grouping? grouping)
    {
        if (grouping is null)
        {
            return static labels => labels;
        }

        var names = new HashSet<string>(grouping.Labels, StringComparer.Ordinal);
        if (grouping.Without)
        {
            return labels => labels.Get(ErrorLabels.Error) is not null ? labels : Drop(labels, names);
        }

        return labels => labels.Get(ErrorLabels.Error) is not null ? labels : Keep(labels, names);
    }
}
