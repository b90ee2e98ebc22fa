using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <content>
/// The read side: <see cref="ILogSource"/> over the index tables of a query's period, and chunk listing for the
/// compactor.
/// </content>
public sealed partial class ChunkStore
{
    /// <summary>Every distinct chunk of <paramref name="tenant"/> with its stream's labels, oldest first.</summary>
    public List<StoredChunk> ListChunks(string tenant)
    {
        var result = new List<StoredChunk>();
        var seen = new HashSet<(long, long)>();
        foreach (var table in ViewsIn(tenant, long.MinValue, long.MaxValue))
        {
            table.Index.VisitChunks([], long.MinValue, long.MaxValue, (labels, chunk) =>
            {
                if (seen.Add(chunk.Key))
                {
                    result.Add(new StoredChunk(labels, chunk));
                }
            });
        }

        result.Sort(static (a, b) => a.Chunk.From.CompareTo(b.Chunk.From));
        return result;
    }

    /// <summary>Reads the entries of one stored chunk in <c>[query.From, query.Through)</c>.</summary>
    public IEntryIterator OpenChunk(string tenant, in ChunkRef chunk, in EntryQuery query)
    {
        if (TenantToRead(tenant) is not { } t)
        {
            return new ChunkEntryIterator([], query, static _ => default, NoOrigin.Instance);
        }

        return new ChunkEntryIterator([chunk], query, ChunkLoader(t), t, ChunkPeek(t));
    }

    /// <summary>Tenants with stored data.</summary>
    public IReadOnlyCollection<string> Tenants()
    {
        if (_bucket is { } bucket)
        {
            var inBucket = new List<string>(bucket.Tenants);
            inBucket.Sort(StringComparer.Ordinal);
            return inBucket;
        }

        var names = new List<string>();
        foreach (var (name, tenant) in _tenants)
        {
            if (!tenant.Tables.IsEmpty)
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <inheritdoc />
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through)
    {
        var result = new List<SelectedStream>();
        var tables = ViewsIn(tenant, from, through);
        if (tables.Count == 1)
        {
            tables[0].Index.Select(matchers, from, through, result);
            return result;
        }

        var seen = new HashSet<LabelSet>();
        var scratch = new List<SelectedStream>();
        foreach (var table in tables)
        {
            scratch.Clear();
            table.Index.Select(matchers, from, through, scratch);
            foreach (var s in scratch)
            {
                if (seen.Add(s.Labels))
                {
                    result.Add(s);
                }
            }
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> KnownDamage(string tenant, long from, long through)
    {
        if (_bucket is { } bucket)
        {
            return BucketDamage(bucket, tenant, from, through);
        }

        if (!_tenants.TryGetValue(tenant, out var t) || t.DamagedTables.IsEmpty)
        {
            return [];
        }

        var warnings = new List<string>();
        foreach (var (name, damage) in t.DamagedTables)
        {
            if (damage.Start < through && damage.End > from)
            {
                warnings.Add($"index table {name} is damaged, chunks it lists may be missing: {Path.GetFileName(damage.Path)}: {damage.Message}");
            }
        }

        warnings.Sort(StringComparer.Ordinal);
        return warnings;
    }

    /// <inheritdoc />
    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query)
    {
        if (OpenJudged(tenant, stream.Labels, query) is { } judged)
        {
            return judged;
        }

        var chunks = ChunksOf(tenant, stream.Labels, query.From, query.Through);
        if (chunks.Count == 0 || TenantToRead(tenant) is not { } t)
        {
            return new ChunkEntryIterator([], query, static _ => default, NoOrigin.Instance);
        }

        return new ChunkEntryIterator(chunks, query, ChunkLoader(t), t, ChunkPeek(t), _bucket is null ? _tails.SieveFor(t.ChunksPath) : null);
    }

    /// <summary>
    /// A line-filtered read of a stream of local chunks in one index table, judged from the stream's
    /// <see cref="StreamSieve"/> kept by the index: a stream whose every chunk the sieve rules out costs a pass over it,
    /// and one that may match reads its chunks with their sieve entries at hand. Null when the read is not judged so.
    /// </summary>
    private ChunkEntryIterator? OpenJudged(string tenant, LabelSet labels, in EntryQuery query)
    {
        if (_bucket is not null || query.Filter is not { IsEmpty: false } filter || !_tenants.TryGetValue(tenant, out var t))
        {
            return null;
        }

        var tables = ViewsIn(tenant, query.From, query.Through);
        if (tables.Count != 1)
        {
            return null;
        }

        var tails = _tails.TableFor(t.ChunksPath);
        if (tables[0].Index.SummaryOf(labels, tails.Summarizer) is not { } summary)
        {
            return null;
        }

        var candidates = tails.Candidates(filter);
        if (summary.RuleOutAll(candidates, query.From, query.Through) is { } ruledOut)
        {
            return ChunkEntryIterator.RuledOut(query, t, ruledOut);
        }

        var (chunks, entries) = summary.Overlapping(query.From, query.Through, query.Direction);
        return new ChunkEntryIterator(chunks, entries, candidates, query, ChunkLoader(t), t, ChunkPeek(t)!);
    }

    /// <summary>The chunk refs of one stream overlapping <c>[from, through)</c>, each once.</summary>
    public List<ChunkRef> ChunksOf(string tenant, LabelSet labels, long from, long through)
    {
        var chunks = new List<ChunkRef>();
        var tables = ViewsIn(tenant, from, through);
        foreach (var table in tables)
        {
            table.Index.ChunksOf(labels, from, through, chunks);
        }

        if (tables.Count > 1)
        {
            var seen = new HashSet<(long, long)>();
            chunks.RemoveAll(c => !seen.Add(c.Key));
        }

        return chunks;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in ViewsIn(tenant, from, through))
        {
            table.Index.LabelNames(matchers, from, through, names);
        }

        return Sorted(names);
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers,
        long from, long through)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in ViewsIn(tenant, from, through))
        {
            table.Index.LabelValues(name, matchers, from, through, values);
        }

        return Sorted(values);
    }

    /// <inheritdoc />
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var streams = new HashSet<LabelSet>();
        var chunks = new HashSet<(long, long)>();
        long bytes = 0, entries = 0;
        foreach (var table in ViewsIn(tenant, from, through))
        {
            table.Index.VisitChunks(matchers, from, through, (labels, chunk) =>
            {
                streams.Add(labels);
                if (chunks.Add(chunk.Key))
                {
                    bytes += chunk.UncompressedBytes;
                    entries += chunk.Entries;
                }
            });
        }

        return new IndexStats(streams.Count, chunks.Count, bytes, entries);
    }

    /// <inheritdoc />
    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through)
    {
        var volumes = new Dictionary<LabelSet, long>();
        var chunks = new HashSet<(long, long)>();
        foreach (var table in ViewsIn(tenant, from, through))
        {
            table.Index.VisitChunks(matchers, from, through, (labels, chunk) =>
            {
                if (chunks.Add(chunk.Key))
                {
                    volumes[labels] = volumes.GetValueOrDefault(labels) + chunk.UncompressedBytes;
                }
            });
        }

        var result = new List<SeriesVolume>(volumes.Count);
        foreach (var (labels, bytes) in volumes)
        {
            result.Add(new SeriesVolume(labels, bytes));
        }

        result.Sort(static (a, b) => b.Bytes.CompareTo(a.Bytes));
        return result;
    }

    private static List<string> BucketDamage(BucketLayout bucket, string tenant, long from, long through)
    {
        var warnings = new List<string>();
        if (bucket.StaleViewWarning() is { } stale)
        {
            warnings.Add(stale);
        }

        foreach (var table in bucket.TablesOf(tenant))
        {
            if (table.Damaged.Count > 0 && table.Period is { } p && p.Start < through && p.Start + p.Length > from)
            {
                foreach (var (key, message) in table.Damaged)
                {
                    warnings.Add($"index table {table.Table} is damaged, chunks it lists may be missing: {key}: {message}");
                }
            }
        }

        warnings.Sort(StringComparer.Ordinal);
        return warnings;
    }

    // The tenant whose chunks a read opens: any tenant in a bucket (its tables live in the layout), a known one locally.
    private Tenant? TenantToRead(string tenant) =>
        _bucket is not null ? GetTenant(tenant) : _tenants.TryGetValue(tenant, out var t) ? t : null;

    // A line-filtered read looks at a local chunk's block table and filters first (cached); chunks in a bucket are
    // read whole, through the chunk cache.
    private ChunkTailSource? ChunkPeek(Tenant t)
    {
        if (_bucket is not null)
        {
            return null;
        }

        var directory = t.ChunksPath;
        ChunkRangeReader read = (in ChunkRef c, int start, Span<byte> destination) => _packs.ReadRange(directory, c, start, destination);
        return _tails.For(directory, read);
    }

    private Func<ChunkRef, ChunkBytes> ChunkLoader(Tenant t) => _bucket is { } bucket
        ? c => new ChunkBytes(bucket.ReadChunk(t.Id, c), 0, c.Length, Rented: true)
        : c => new ChunkBytes(_packs.Read(t.ChunksPath, c), 0, c.Length, Rented: true);

    private static List<string> Sorted(HashSet<string> set)
    {
        var list = new List<string>(set);
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    /// <summary>The origin of an iterator with no chunks.</summary>
    private sealed class NoOrigin : IChunkOrigin
    {
        public static NoOrigin Instance { get; } = new();

        public string Describe(in ChunkRef chunk) => string.Empty;

        public void Skipped(in ChunkRef chunk, int block, CorruptionKind kind, string warning)
        {
        }
    }
}
