using System.Collections.Concurrent;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tenants;

/// <summary>
/// One query over several tenants (Loki's <c>querier.multi_tenant_queries_enabled</c> with
/// <c>X-Scope-OrgID: a|b</c>): every stream gets a <c>__tenant_id__</c> label naming its tenant, matchers on that
/// label choose the tenants and are not passed on, and each tenant's data is read as that tenant. One instance
/// serves one request; the tenant argument of its methods (the joined IDs) is not used.
/// </summary>
public sealed class MultiTenantLogSource(ILogSource inner, IReadOnlyList<string> tenants) : ILogSource
{
    /// <summary>The label every stream of a multi-tenant query carries, as in Loki.</summary>
    public const string TenantLabel = "__tenant_id__";

    // The streams handed out, by their labels with the tenant, to the tenant and stream they are read as.
    private readonly ConcurrentDictionary<LabelSet, (string Tenant, SelectedStream Stream)> _selected = new();

    /// <summary>Loki's form of several tenant IDs: sorted, without duplicates, joined by <c>|</c>.</summary>
    public static string Join(IEnumerable<string> tenants) => string.Join('|', tenants.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    /// <inheritdoc />
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var selected = new List<SelectedStream>();
        foreach (var (id, rest) in Tenants(matchers))
        {
            foreach (var stream in inner.SelectStreams(id, rest, from, through))
            {
                var labels = WithTenant(stream.Labels, id);
                _selected[labels] = (id, stream);
                selected.Add(new SelectedStream(labels, Fingerprint.Of(labels)));
            }
        }

        return selected;
    }

    /// <inheritdoc />
    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query)
    {
        var (id, original) = Original(stream);
        return inner.OpenEntries(id, original, query);
    }

    /// <inheritdoc />
    public ReadStats ExtractSamples(string tenant, SelectedStream stream, in EntryQuery query, SampleExtractor? extractor,
        List<Sample> output)
    {
        var (id, original) = Original(stream);
        return inner.ExtractSamples(id, original, query, extractor, output);
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (id, rest) in Tenants(matchers))
        {
            var own = inner.LabelNames(id, rest, from, through);
            names.UnionWith(own);
            if (own.Count > 0)
            {
                names.Add(TenantLabel);
            }
        }

        return names;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (id, rest) in Tenants(matchers))
        {
            if (name == TenantLabel)
            {
                if (inner.SelectStreams(id, rest, from, through).Count > 0)
                {
                    values.Add(id);
                }
            }
            else
            {
                values.UnionWith(inner.LabelValues(id, name, rest, from, through));
            }
        }

        return values;
    }

    /// <inheritdoc />
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        long streams = 0, chunks = 0, bytes = 0, entries = 0;
        foreach (var (id, rest) in Tenants(matchers))
        {
            var stats = inner.Stats(id, rest, from, through);
            (streams, chunks, bytes, entries) = (streams + stats.Streams, chunks + stats.Chunks, bytes + stats.Bytes, entries + stats.Entries);
        }

        return new IndexStats(streams, chunks, bytes, entries);
    }

    /// <inheritdoc />
    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var volumes = new List<SeriesVolume>();
        foreach (var (id, rest) in Tenants(matchers))
        {
            foreach (var volume in inner.Volumes(id, rest, from, through))
            {
                volumes.Add(volume with { Labels = WithTenant(volume.Labels, id) });
            }
        }

        return volumes;
    }

    // The tenants the matchers on __tenant_id__ accept, each with the other matchers.
    private IEnumerable<(string Tenant, IReadOnlyList<LabelMatcher> Others)> Tenants(IReadOnlyList<LabelMatcher> matchers)
    {
        var rest = new List<LabelMatcher>(matchers.Count);
        var onTenant = new List<LabelMatcher>();
        foreach (var matcher in matchers)
        {
            (matcher.Name == TenantLabel ? onTenant : rest).Add(matcher);
        }

        foreach (var id in tenants)
        {
            if (onTenant.TrueForAll(m => m.Matches(id)))
            {
                yield return (id, rest);
            }
        }
    }

    private (string Tenant, SelectedStream Stream) Original(SelectedStream stream) =>
        _selected.TryGetValue(stream.Labels, out var original)
            ? original
            : throw new InvalidOperationException("stream " + stream.Labels + " was not selected by this multi-tenant query");

    private static LabelSet WithTenant(LabelSet labels, string tenant)
    {
        var pairs = new List<LabelPair>(labels.Count + 1);
        foreach (var pair in labels)
        {
            if (pair.Name != TenantLabel)
            {
                pairs.Add(pair);
            }
        }

        pairs.Add(new LabelPair(TenantLabel, tenant));
        return LabelSet.From(pairs);
    }
}
