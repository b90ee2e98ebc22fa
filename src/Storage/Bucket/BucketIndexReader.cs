using System.Collections.Concurrent;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// One index table of one tenant as readers see it in the bucket: the newest generation, then every segment it
/// does not cover, loaded into the same <see cref="LabelIndex"/> the local store uses (chunk refs carry
/// <see cref="PackHandles"/> handles as pack ids). <see cref="RefreshAsync"/> loads only keys not seen before; a
/// new generation rebuilds the table once, swapped in when complete. A damaged object is reported once and
/// skipped, never fatal. Refreshes are serialized; queries may read <see cref="Index"/> at any time.
/// </summary>
internal sealed partial class BucketIndexReader : IDisposable
{
    private readonly IObjectStore _store;
    private readonly PackHandles _packs;
    private readonly Action<string, string>? _onDamage;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly ConcurrentDictionary<string, string> _damaged = new(StringComparer.Ordinal);
    private readonly string _segmentsPrefix;
    private readonly string _generationsPrefix;
    private volatile TableState _state = new(null);

    /// <summary>Creates the reader of <paramref name="table"/>; nothing is loaded before the first refresh.</summary>
    /// <param name="store">The bucket.</param>
    /// <param name="tenant">The tenant id.</param>
    /// <param name="table">The table name, such as <c>index_19723</c>.</param>
    /// <param name="packs">The tenant's pack handles, shared by its tables.</param>
    /// <param name="onDamage">Told (key, what is wrong) once per damaged object.</param>
    public BucketIndexReader(IObjectStore store, string tenant, string table, PackHandles packs, Action<string, string>? onDamage)
    {
        _store = store;
        _packs = packs;
        _onDamage = onDamage;
        Tenant = tenant;
        Table = table;
        _segmentsPrefix = BucketKeys.SegmentsPrefix(tenant, table);
        _generationsPrefix = BucketKeys.GenerationsPrefix(tenant, table);
    }

    /// <summary>The tenant id.</summary>
    public string Tenant { get; }

    /// <summary>The table name.</summary>
    public string Table { get; }

    /// <summary>The table's index as of the last refresh.</summary>
    public LabelIndex Index => _state.Index;

    /// <summary>The period (start, length in ns) the table's objects name; null before any was loaded.</summary>
    public (long Start, long Length)? Period => _state.Period;

    /// <summary>The key of the generation loaded, or null when the table has none (yet).</summary>
    public string? GenerationKey => _state.Generation;

    /// <summary>Damaged objects found so far (key, what is wrong): their chunks may be missing from the index.</summary>
    public IReadOnlyDictionary<string, string> Damaged => _damaged;

    /// <summary>The keys of the segments applied to <see cref="Index"/> (not those its generation covers).</summary>
    public IReadOnlyCollection<string> LoadedSegments
    {
        get
        {
            var state = _state;
            lock (state.Loaded)
            {
                return [.. state.Loaded];
            }
        }
    }

    /// <summary>
    /// Lists the table's generations and segments and loads what is new: a newer generation (rebuilding the table
    /// from it) and segments neither loaded nor covered. Store failures other than a missing object propagate
    /// (nothing half-applied; the next refresh tries again).
    /// </summary>
    public async Task<BucketRefresh> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var total = new BucketRefresh(0, false);
            var damagedBefore = _damaged.Count;

            // A listed segment that is gone was covered and deleted: a newer generation is there, so look again once.
            for (var pass = 0; pass < 2; pass++)
            {
                var (result, vanished) = await RefreshOnceAsync(cancellationToken).ConfigureAwait(false);
                total = new BucketRefresh(total.SegmentsLoaded + result.SegmentsLoaded, total.Rebuilt || result.Rebuilt);
                if (!vanished)
                {
                    break;
                }
            }

            return total with { Damaged = _damaged.Count - damagedBefore };
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// Applies a segment this process has just written (its key exists in the bucket), so the writer's own flush is
    /// visible to its queries at once rather than after the next refresh; a refresh that meets the key skips it.
    /// </summary>
    public void ApplyOwn(string key, (long Start, long Length) period, List<(LabelSet Labels, ChunkRef Chunk)> chunks) =>
        ApplyOwn(key, period, chunks, [], []);

    /// <summary>
    /// Applies a segment this process has just written with replacements and tombstones too (the compactor's), in
    /// handle terms, so the compactor's own process sees its deletes and rewrites at once.
    /// </summary>
    public void ApplyOwn(string key, (long Start, long Length) period, List<(LabelSet Labels, ChunkRef Chunk)> chunks,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk, (long PackId, long Offset) Replaced)> replacements,
        IReadOnlyList<(long PackId, long Offset)> tombstones)
    {
        _refresh.Wait();
        try
        {
            var state = _state;
            if (state.IsLoaded(key))
            {
                return;
            }

            state.Period ??= period;
            var loaded = new LoadedObject(key) { Identity = new IndexObjectIdentity(IndexFile.SegmentKind, "", 0, 0), Period = period };
            loaded.Chunks.AddRange(chunks);
            loaded.Replacements.AddRange(replacements);
            loaded.Tombstones.AddRange(tombstones);
            Apply(state, [loaded]);
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Replacements loaded whose rewrite has not committed (no tombstone of the replaced chunk yet).</summary>
    public List<(LabelSet Labels, ChunkRef Chunk, (long PackId, long Offset) Replaced)> PendingReplacements()
    {
        _refresh.Wait();
        try
        {
            return [.. _state.PendingReplacements];
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The tombstones this table's objects carry (in handle terms), for tenant-wide application.</summary>
    public List<(long PackId, long Offset)> Tombstones()
    {
        _refresh.Wait();
        try
        {
            return [.. _state.Tombstones];
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// Applies tombstones other tables of the tenant carry: a tombstone deletes its chunk from every table of the tenant,
    /// and commits a replacement here whose tombstone a crash left only in another table (docs/formats/bucket.md).
    /// </summary>
    public void ApplyTenantTombstones(IReadOnlyCollection<(long PackId, long Offset)> tombstones)
    {
        _refresh.Wait();
        try
        {
            var state = _state;
            var missing = new LoadedObject(string.Empty) { Identity = new IndexObjectIdentity(IndexFile.GenerationKind, "", 0, 0) };
            foreach (var key in tombstones)
            {
                if (!state.Tombstones.Contains(key))
                {
                    missing.Tombstones.Add(key);
                }
            }

            if (missing.Tombstones.Count > 0)
            {
                Apply(state, [missing]);
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _state.Index.Dispose();
        _refresh.Dispose();
    }

    private async Task<(BucketRefresh Result, bool Vanished)> RefreshOnceAsync(CancellationToken cancellationToken)
    {
        var vanished = false;
        var current = _state;
        var target = current;
        foreach (var (number, epoch, key) in await ListGenerationsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (key == current.Generation)
            {
                break;
            }

            if (_damaged.ContainsKey(key))
            {
                continue;
            }

            var loaded = await LoadAsync(key, new IndexObjectIdentity(IndexFile.GenerationKind, WriterName.Compactor, number, epoch),
                current.Period, cancellationToken).ConfigureAwait(false);
            if (loaded.Object is { } generation)
            {
                target = new TableState(key) { Period = generation.Period };
                foreach (var (writer, seq) in generation.Coverage)
                {
                    target.Coverage[writer] = seq;
                }

                Apply(target, [generation]);
                break;
            }

            vanished |= loaded.Vanished;
        }

        var batch = new List<LoadedObject>();
        await foreach (var info in _store.ListAsync(_segmentsPrefix, cancellationToken).ConfigureAwait(false))
        {
            var key = info.Key;
            if (!BucketKeys.TryParseSegment(key, _segmentsPrefix, out var writer, out var seq) || target.Covers(writer, seq) ||
                target.IsLoaded(key) || _damaged.ContainsKey(key))
            {
                continue;
            }

            var loaded = await LoadAsync(key, new IndexObjectIdentity(IndexFile.SegmentKind, writer, seq, 0),
                target.Period ?? batch.FirstOrDefault()?.Period, cancellationToken).ConfigureAwait(false);
            vanished |= loaded.Vanished;
            if (loaded.Object is { } segment)
            {
                batch.Add(segment);
            }
        }

        target.Period ??= batch.FirstOrDefault()?.Period;
        Apply(target, batch);
        var rebuilt = !ReferenceEquals(target, current);
        if (rebuilt)
        {
            // The old index is not disposed: queries that took it may still be reading it; the GC reclaims it.
            _state = target;
        }

        return (new BucketRefresh(batch.Count, rebuilt), vanished);
    }

    // Generations newest first: highest number, then highest epoch (both complete views of the table).
    private async Task<List<(int Number, long Epoch, string Key)>> ListGenerationsAsync(CancellationToken cancellationToken)
    {
        var generations = new List<(int Number, long Epoch, string Key)>();
        await foreach (var info in _store.ListAsync(_generationsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (BucketKeys.TryParseGeneration(info.Key, _generationsPrefix, out var number, out var epoch))
            {
                generations.Add((number, epoch, info.Key));
            }
        }

        generations.Sort(static (a, b) => a.Number != b.Number ? b.Number.CompareTo(a.Number) : b.Epoch.CompareTo(a.Epoch));
        return generations;
    }

    // Applies loaded objects so that no query sees a chunk whose tombstone is in the same batch: tombstones first
    // (known ones filter adds), then chunks, then replacements that their replaced chunk's tombstone commits.
    private static void Apply(TableState state, List<LoadedObject> batch)
    {
        var newTombstones = new HashSet<(long, long)>();
        foreach (var loaded in batch)
        {
            foreach (var key in loaded.Tombstones)
            {
                if (state.Tombstones.Add(key))
                {
                    newTombstones.Add(key);
                }
            }
        }

        foreach (var loaded in batch)
        {
            foreach (var (labels, chunk) in loaded.Chunks)
            {
                if (!state.Tombstones.Contains(chunk.Key))
                {
                    state.Index.Add(labels, chunk);
                }
            }

            state.PendingReplacements.AddRange(loaded.Replacements);
        }

        // A replacement counts once the chunk it replaces has a tombstone (the rewrite's commit point).
        state.PendingReplacements.RemoveAll(r =>
        {
            if (!state.Tombstones.Contains(r.Replaced))
            {
                return false;
            }

            if (!state.Tombstones.Contains(r.Chunk.Key))
            {
                state.Index.Add(r.Labels, r.Chunk);
            }

            return true;
        });

        if (newTombstones.Count > 0)
        {
            state.Index.RemoveChunks(newTombstones);
        }

        lock (state.Loaded)
        {
            foreach (var loaded in batch)
            {
                if (loaded.Identity.Kind == IndexFile.SegmentKind)
                {
                    state.Loaded.Add(loaded.Key);
                }
            }
        }
    }

    /// <summary>What a table is built from: a generation (or none), its coverage, and the segments applied on top.</summary>
    private sealed class TableState(string? generation)
    {
        public string? Generation { get; } = generation;

        public LabelIndex Index { get; } = new();

        public (long Start, long Length)? Period { get; set; }

        public Dictionary<string, long> Coverage { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Loaded { get; } = new(StringComparer.Ordinal);

        public HashSet<(long PackId, long Offset)> Tombstones { get; } = [];

        public List<(LabelSet Labels, ChunkRef Chunk, (long PackId, long Offset) Replaced)> PendingReplacements { get; } = [];

        public bool Covers(string writer, long seq) => Coverage.TryGetValue(writer, out var highest) && seq <= highest;

        public bool IsLoaded(string key)
        {
            lock (Loaded)
            {
                return Loaded.Contains(key);
            }
        }
    }
}

/// <summary>What a <see cref="BucketIndexReader.RefreshAsync"/> did.</summary>
/// <param name="SegmentsLoaded">Segments loaded and applied.</param>
/// <param name="Rebuilt">Whether a newer generation replaced the table.</param>
/// <param name="Damaged">Damaged objects newly found (reported and skipped).</param>
internal readonly record struct BucketRefresh(int SegmentsLoaded, bool Rebuilt, int Damaged = 0);
