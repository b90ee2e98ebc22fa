using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Metadata;

/// <summary>How <c>index/volume</c> groups streams.</summary>
public enum VolumeAggregation
{
    /// <summary>One entry per distinct set of target labels.</summary>
    Series,

    /// <summary>One entry per label name, with an empty value.</summary>
    Labels,
}

/// <summary>
/// The metadata endpoints' answers (labels, label values, series, index stats and volume), combined over every
/// source: streams still in the ingester's head and those in the chunk store. What the answer holds (names,
/// values, label sets, groups) is reserved in <paramref name="memory"/> as it is collected.
/// </summary>
public sealed class MetadataQueries(IReadOnlyList<ILogSource> sources, QueryMemoryBudget? memory = null)
{
    /// <summary>Label names of matching streams, sorted.</summary>
    public List<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            Collect(names, source.LabelNames(tenant, matchers, from, through));
        }

        return [.. names];
    }

    /// <summary>Values of one label among matching streams, sorted.</summary>
    public List<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            Collect(values, source.LabelValues(tenant, name, matchers, from, through));
        }

        return [.. values];
    }

    // Each distinct string is held in the set, the sorted list and the response's JSON text.
    private void Collect(SortedSet<string> into, IReadOnlyCollection<string> strings)
    {
        long bytes = 0;
        foreach (var value in strings)
        {
            if (into.Add(value))
            {
                bytes += (2 * QueryMemoryBudget.ObjectOverhead) + value.Length;
            }
        }

        memory?.Reserve(bytes);
    }

    /// <summary>Distinct label sets matching any of the selectors (all streams for an empty list), sorted.</summary>
    public List<LabelSet> Series(string tenant, IReadOnlyList<IReadOnlyList<LabelMatcher>> selectors, long from, long through)
    {
        var series = new HashSet<LabelSet>();
        IReadOnlyList<IReadOnlyList<LabelMatcher>> effective = selectors.Count == 0 ? [[]] : selectors;
        foreach (var matchers in effective)
        {
            foreach (var source in sources)
            {
                foreach (var stream in source.SelectStreams(tenant, matchers, from, through))
                {
                    if (series.Add(stream.Labels))
                    {
                        memory?.Reserve(QueryMemoryBudget.EstimateLabels(stream.Labels));
                    }
                }
            }
        }

        var sorted = new List<LabelSet>(series);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        return sorted;
    }

    /// <summary>Streams, chunks, bytes and entries of matching streams.</summary>
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var streams = new HashSet<LabelSet>();
        long chunks = 0, bytes = 0, entries = 0;
        foreach (var source in sources)
        {
            var stats = source.Stats(tenant, matchers, from, through);
            chunks += stats.Chunks;
            bytes += stats.Bytes;
            entries += stats.Entries;
            foreach (var stream in source.SelectStreams(tenant, matchers, from, through))
            {
                if (streams.Add(stream.Labels))
                {
                    memory?.Reserve(QueryMemoryBudget.ObjectOverhead);
                }
            }
        }

        return new IndexStats(streams.Count, chunks, bytes, entries);
    }

    /// <summary>
    /// Bytes per group of matching streams, largest first, at most <paramref name="limit"/> groups. Without
    /// target labels, streams are grouped by the label names the selector mentions, as Loki does.
    /// </summary>
    public List<(LabelSet Metric, long Bytes)> Volume(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through,
        IReadOnlyList<string> targetLabels, VolumeAggregation aggregation, int limit)
    {
        var targets = new HashSet<string>(targetLabels, StringComparer.Ordinal);
        if (targets.Count == 0)
        {
            foreach (var matcher in matchers)
            {
                targets.Add(matcher.Name);
            }
        }

        var groups = new Dictionary<LabelSet, long>();
        foreach (var source in sources)
        {
            foreach (var volume in source.Volumes(tenant, matchers, from, through))
            {
                if (aggregation == VolumeAggregation.Labels)
                {
                    foreach (var pair in volume.Labels)
                    {
                        if (targetLabels.Count == 0 || targets.Contains(pair.Name))
                        {
                            var key = LabelSet.From((pair.Name, ""));
                            groups[key] = groups.GetValueOrDefault(key) + volume.Bytes;
                        }
                    }

                    continue;
                }

                var pairs = new List<LabelPair>();
                foreach (var pair in volume.Labels)
                {
                    if (targets.Contains(pair.Name))
                    {
                        pairs.Add(pair);
                    }
                }

                var metric = LabelSet.From(pairs);
                if (!groups.TryGetValue(metric, out var bytes))
                {
                    memory?.Reserve(QueryMemoryBudget.EstimateLabels(metric));
                }

                groups[metric] = bytes + volume.Bytes;
            }
        }

        var result = new List<(LabelSet, long)>(groups.Count);
        foreach (var (metric, bytes) in groups)
        {
            result.Add((metric, bytes));
        }

        result.Sort(static (a, b) => b.Item2 != a.Item2 ? b.Item2.CompareTo(a.Item2) : string.CompareOrdinal(a.Item1.ToString(), b.Item1.ToString()));
        return result.Count > limit ? result[..limit] : result;
    }
}
