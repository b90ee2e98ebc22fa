using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// The labels of a processed entry: the full set (what identifies the output stream) and its split into stream
/// labels, structured metadata and parsed labels (the error labels count as parsed), as Loki 3 returns them.
/// Instances are shared between entries with the same labels; treat them as immutable. The split is made only
/// when asked for (log queries), so metric queries, where every line can be its own label set, allocate just the
/// full set per line.
/// </summary>
public sealed class LabelsResult
{
    private readonly ulong _parsedMask;
    private readonly ulong _metadataMask;
    private LabelSet? _stream;
    private LabelSet? _structuredMetadata;
    private LabelSet? _parsed;

    internal LabelsResult(LabelSet all, LabelSet stream, LabelSet structuredMetadata, LabelSet parsed, int hash)
    {
        All = all;
        _stream = stream;
        _structuredMetadata = structuredMetadata;
        _parsed = parsed;
        Hash = hash;
    }

    /// <summary>A result whose split is given by which positions of <paramref name="all"/> (at most 64) are parsed or metadata.</summary>
    internal LabelsResult(LabelSet all, ulong parsedMask, ulong metadataMask, int hash)
    {
        All = all;
        _parsedMask = parsedMask;
        _metadataMask = metadataMask;
        Hash = hash;
    }

    /// <summary>Every label, sorted by name.</summary>
    public LabelSet All { get; }

    /// <summary>The labels that come from the stream.</summary>
    public LabelSet Stream => _stream ??= Pick(~(_parsedMask | _metadataMask));

    /// <summary>The labels that come from structured metadata.</summary>
    public LabelSet StructuredMetadata => _structuredMetadata ??= Pick(_metadataMask);

    /// <summary>The labels the pipeline produced, with <c>__error__</c> and <c>__error_details__</c>.</summary>
    public LabelSet Parsed => _parsed ??= Pick(_parsedMask);

    /// <summary>A hash of <see cref="All"/>, stable within the process.</summary>
    public int Hash { get; }

    /// <inheritdoc />
    public override string ToString() => All.ToString();

    /// <summary>The labels of <see cref="All"/> at the positions set in <paramref name="mask"/>, still sorted.</summary>
    private LabelSet Pick(ulong mask)
    {
        var all = All.AsSpan();
        var count = 0;
        for (var i = 0; i < all.Length; i++)
        {
            count += (int)((mask >> i) & 1);
        }

        if (count == 0)
        {
            return LabelSet.Empty;
        }

        var picked = new LabelPair[count];
        count = 0;
        for (var i = 0; i < all.Length; i++)
        {
            if (((mask >> i) & 1) != 0)
            {
                picked[count++] = all[i];
            }
        }

        return LabelSet.FromSorted(picked);
    }
}

/// <summary>Interns <see cref="LabelsResult"/> instances per distinct label set for one query.</summary>
internal sealed class LabelsResultCache
{
    private const int MaxEntries = 4096;
    private readonly Dictionary<int, (LabelsResult Result, LabelPair[] Order)[]> _byHash = [];
    private readonly Dictionary<LabelSet, LabelsResult> _streams = [];
    private readonly Dictionary<string, object> _names = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>
    /// One shared object per distinct set of stream label names: what a label name resolves to depends only on the
    /// names, so parsers remember resolutions per names object rather than per stream.
    /// </summary>
    public object NamesOf(LabelSet stream)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var pair in stream.AsSpan())
        {
            sb.Append(pair.Name).Append('\n');
        }

        var key = sb.ToString();
        if (!_names.TryGetValue(key, out var names))
        {
            names = key;
            _names[key] = names;
        }

        return names;
    }

    public LabelsResult ForStream(LabelSet stream)
    {
        if (!_streams.TryGetValue(stream, out var result))
        {
            result = new LabelsResult(stream, stream, LabelSet.Empty, LabelSet.Empty, stream.GetHashCode());
            _streams[stream] = result;
        }

        return result;
    }

    public LabelsResult Get(ReadOnlySpan<LabelPair> unsorted, LineLabels source) => Get(unsorted, HashOf(unsorted), source, out _);

    /// <summary>
    /// The result for <paramref name="unsorted"/>, whose <see cref="HashOf"/> the caller computed;
    /// <paramref name="order"/> is the cached copy of the pairs in the order they were given, when the result was
    /// cached and came in that order (null otherwise).
    /// </summary>
    public LabelsResult Get(ReadOnlySpan<LabelPair> unsorted, int hash, LineLabels source, out LabelPair[]? order)
    {
        if (_byHash.TryGetValue(hash, out var bucket))
        {
            foreach (var (candidate, candidateOrder) in bucket)
            {
                if (SameOrder(candidateOrder, unsorted))
                {
                    order = candidateOrder;
                    return candidate;
                }

                if (SameLabels(candidate.All, unsorted))
                {
                    order = null;
                    return candidate;
                }
            }
        }

        var result = Build(unsorted, source, hash);
        order = null;
        if (_count < MaxEntries)
        {
            order = unsorted.ToArray();
            _byHash[hash] = bucket is null ? [(result, order)] : [.. bucket, (result, order)];
            _count++;
        }

        return result;
    }

    private static LabelsResult Build(ReadOnlySpan<LabelPair> unsorted, LineLabels source, int hash)
    {
        // Sorted once: the category subsets of a sorted set are sorted too, so no set is sorted again.
        var all = unsorted.ToArray();
        Array.Sort(all, ByName);
        int streamCount = 0, metadataCount = 0, parsedCount = 0;
        Span<LabelCategory> categories = all.Length <= 64 ? stackalloc LabelCategory[all.Length] : new LabelCategory[all.Length];
        for (var i = 0; i < all.Length; i++)
        {
            if (i > 0 && all[i - 1].Name == all[i].Name)
            {
                return BuildWithDuplicates(unsorted, source, hash);
            }

            var name = all[i].Name;
            var category = name is PipelineLabels.Error or PipelineLabels.ErrorDetails ? LabelCategory.Parsed : source.CategoryOf(name);
            categories[i] = category;
            switch (category)
            {
                case LabelCategory.Parsed:
                    parsedCount++;
                    break;
                case LabelCategory.StructuredMetadata:
                    metadataCount++;
                    break;
                default:
                    streamCount++;
                    break;
            }
        }

        if (all.Length <= 64)
        {
            ulong parsedMask = 0, metadataMask = 0;
            for (var i = 0; i < all.Length; i++)
            {
                if (categories[i] == LabelCategory.Parsed)
                {
                    parsedMask |= 1UL << i;
                }
                else if (categories[i] == LabelCategory.StructuredMetadata)
                {
                    metadataMask |= 1UL << i;
                }
            }

            // The snapshot's hash is the set's own (same formula, no duplicate names), so lookups never recompute it.
            return new LabelsResult(LabelSet.FromSorted(all, hash), parsedMask, metadataMask, hash);
        }

        var stream = new LabelPair[streamCount];
        var metadata = new LabelPair[metadataCount];
        var parsed = new LabelPair[parsedCount];
        streamCount = metadataCount = parsedCount = 0;
        for (var i = 0; i < all.Length; i++)
        {
            switch (categories[i])
            {
                case LabelCategory.Parsed:
                    parsed[parsedCount++] = all[i];
                    break;
                case LabelCategory.StructuredMetadata:
                    metadata[metadataCount++] = all[i];
                    break;
                default:
                    stream[streamCount++] = all[i];
                    break;
            }
        }

        // The snapshot's hash is the set's own (same formula, no duplicate names), so lookups never recompute it.
        return new LabelsResult(LabelSet.FromSorted(all, hash), LabelSet.FromSorted(stream), LabelSet.FromSorted(metadata),
            LabelSet.FromSorted(parsed), hash);
    }

    private static readonly Comparison<LabelPair> ByName = static (a, b) => string.CompareOrdinal(a.Name, b.Name);

    /// <summary>
    /// The general path, for a snapshot naming a label twice (the later value wins, as in
    /// <see cref="LabelSet.From(IEnumerable{LabelPair})"/>).
    /// </summary>
    private static LabelsResult BuildWithDuplicates(ReadOnlySpan<LabelPair> unsorted, LineLabels source, int hash)
    {
        var all = new List<LabelPair>(unsorted.Length);
        var stream = new List<LabelPair>();
        var metadata = new List<LabelPair>();
        var parsed = new List<LabelPair>();
        foreach (var pair in unsorted)
        {
            all.Add(pair);
            if (pair.Name is PipelineLabels.Error or PipelineLabels.ErrorDetails)
            {
                parsed.Add(pair);
                continue;
            }

            switch (source.CategoryOf(pair.Name))
            {
                case LabelCategory.Parsed:
                    parsed.Add(pair);
                    break;
                case LabelCategory.StructuredMetadata:
                    metadata.Add(pair);
                    break;
                default:
                    stream.Add(pair);
                    break;
            }
        }

        return new LabelsResult(LabelSet.From(all), LabelSet.From(stream), LabelSet.From(metadata), LabelSet.From(parsed), hash);
    }

    /// <summary>Order-independent (the count plus a sum of per-pair terms), so the unsorted snapshot hashes like the sorted set.</summary>
    public static int HashOf(ReadOnlySpan<LabelPair> labels)
    {
        var hash = labels.Length;
        foreach (var pair in labels)
        {
            hash += HashTerm(pair);
        }

        return hash;
    }

    /// <summary>One pair's share of <see cref="HashOf"/>.</summary>
    public static int HashTerm(LabelPair pair) => (FastHash.Of(pair.Name) * 31) ^ FastHash.Of(pair.Value);

    // Entries of one stream usually produce their labels in the same order: compare pairwise first.
    private static bool SameOrder(LabelPair[] order, ReadOnlySpan<LabelPair> unsorted)
    {
        if (order.Length != unsorted.Length)
        {
            return false;
        }

        for (var i = 0; i < order.Length; i++)
        {
            var a = order[i];
            var b = unsorted[i];
            if (!(ReferenceEquals(a.Name, b.Name) || a.Name == b.Name) || a.Value != b.Value)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameLabels(LabelSet set, ReadOnlySpan<LabelPair> unsorted)
    {
        if (set.Count != unsorted.Length)
        {
            return false;
        }

        foreach (var pair in unsorted)
        {
            if (set.Get(pair.Name) != pair.Value)
            {
                return false;
            }
        }

        return true;
    }
}
