using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Bucket;

/// <content>
/// The compactor's operations on a bucket (docs/formats/bucket.md, "The compactor"): tombstone and replacement
/// segments of writer <c>compactor</c>, rewrites committed by their first tombstone, and packs collected only when
/// the newest view of the tenant, listed again, references none of their chunks. Callers serialize them (the chunk
/// store's maintenance lock).
/// </content>
internal sealed partial class BucketLayout
{
    // A replacement left pending this long by another process's rewrite is an interrupted one: well above a
    // rewrite's duration, the same settle time generations use.
    private static readonly TimeSpan SettleTime = TimeSpan.FromMinutes(10);

    private readonly HashSet<long> _ownRewritePacks = [];
    private long _lastSweepRefresh = long.MinValue / 2;

    /// <summary>
    /// Set by the compactor when no other compactor beat recently: a pending replacement another process left is then
    /// an interrupted rewrite for sure, and is repaired without waiting for the settle time.
    /// </summary>
    public bool SoleCompactor { get; set; }

    /// <summary>Whether this process may write the compactor's objects.</summary>
    public bool IsCompactor => _compactor is not null;

    /// <summary>
    /// Tombstones chunks (handles) in every table listing them: one compactor segment per table, applied here at once.
    /// </summary>
    /// <returns>Distinct chunks that were listed and are now deleted.</returns>
    public int DeleteChunks(string tenant, IReadOnlyCollection<(long PackId, long Offset)> keys, Action<string, string>? hook)
    {
        var compactor = Compactor();
        if (keys.Count == 0 || !_tenants.TryGetValue(tenant, out var t))
        {
            return 0;
        }

        RepairInterruptedRewrites(tenant, t, hook);
        var deleted = new HashSet<(long, long)>();
        try
        {
            DeleteFromTables(compactor, tenant, t, keys, deleted, hook);
        }
        finally
        {
            ApplyTenantTombstones(t);
        }

        return deleted.Count;
    }

    private void DeleteFromTables(SegmentWriter compactor, string tenant, BucketTenant t, IReadOnlyCollection<(long PackId, long Offset)> keys,
        HashSet<(long, long)> deleted, Action<string, string>? hook)
    {
        foreach (var table in TablesOf(tenant))
        {
            var present = new List<(long, long)>();
            foreach (var key in keys)
            {
                if (table.Index.ContainsChunk(key))
                {
                    present.Add(key);
                }
            }

            if (present.Count > 0)
            {
                hook?.Invoke("tombstone", table.Table);
                WriteCompactorSegment(compactor, t, table, [], [], present);
                deleted.UnionWith(present);
            }
        }
    }

    /// <summary>
    /// Rewrites a chunk: the new pack (writer <c>compactor</c>), then a replacement segment in each table listing the
    /// old chunk that the new one overlaps, then a tombstone segment of the old chunk in each table listing it. The
    /// first tombstone commits the rewrite; before it, readers ignore the replacement.
    /// </summary>
    /// <returns>The new chunk's ref (its pack id a handle of this process).</returns>
    public ChunkRef ReplaceChunk(string tenant, LabelSet labels, in ChunkRef old, ChunkWrite replacement, Action<string, string>? hook)
    {
        var compactor = Compactor();
        var t = TenantOf(tenant);
        RepairInterruptedRewrites(tenant, t, hook);
        var (packId, offsets) = WritePack(compactor, tenant, [replacement.Chunk]);
        try
        {
            var written = new ChunkRef(packId, offsets[0], replacement.Chunk.Length, replacement.Summary.MinTime,
                replacement.Summary.MaxTime, replacement.Summary.Entries, replacement.Summary.UncompressedBytes);
            var handle = t.Packs.HandleOf(WriterName.Compactor, packId);
            _ownRewritePacks.Add(handle);
            var chunk = written with { PackId = handle };
            var oldKey = old.Key;
            var tables = TablesOf(tenant).Where(table => table.Index.ContainsChunk(oldKey)).ToList();
            foreach (var table in tables)
            {
                if (table.Period is { } p && chunk.From < p.Start + p.Length && chunk.Through >= p.Start)
                {
                    hook?.Invoke("replace", table.Table);
                    WriteCompactorSegment(compactor, t, table, [(labels, chunk, oldKey)], [], []);
                }
            }

            foreach (var table in tables)
            {
                hook?.Invoke("tombstone", table.Table);
                WriteCompactorSegment(compactor, t, table, [], [], [oldKey]);
            }

            return chunk;
        }
        finally
        {
            // Also after a failure: a tombstone written in one table already committed the rewrite everywhere.
            ApplyTenantTombstones(t);
            PackDone(tenant, WriterName.Compactor, packId);
        }
    }

    /// <summary>
    /// Packs of <paramref name="tenant"/> in the bucket that no table lists a chunk of (nor a pending replacement) and
    /// that no flush of this process is filling. Nothing while a table of the tenant is damaged.
    /// </summary>
    public List<PackFileInfo> UnreferencedPacks(string tenant)
    {
        var result = new List<PackFileInfo>();
        if (!_tenants.TryGetValue(tenant, out var t) || IsDamaged(t))
        {
            return result;
        }

        // List first, then take the in-flight and referenced sets (as the local layout does).
        var listed = new List<(string Key, string Writer, long PackId, long Bytes)>();
        var prefix = BucketKeys.PacksPrefix(tenant);
        foreach (var info in ListBlocking(prefix))
        {
            var name = info.Key.AsSpan(prefix.Length);
            if (name.EndsWith(PackFiles.Suffix, StringComparison.Ordinal) &&
                BucketKeys.TryParsePackName(name[..^PackFiles.Suffix.Length], out var writer, out var packId))
            {
                listed.Add((info.Key, writer, packId, info.Size));
            }
        }

        var inFlight = new HashSet<string>(_packsInFlight.Keys, StringComparer.Ordinal);
        var referenced = ReferencedHandles(t);
        foreach (var (key, writer, packId, bytes) in listed)
        {
            if (!inFlight.Contains(key) && !InUse(t, writer, packId, referenced))
            {
                result.Add(new PackFileInfo(packId, bytes, BucketKeys.PackName(writer, packId)));
            }
        }

        return result;
    }

    /// <summary>
    /// Deletes a pack (<c>writer/packId</c>) if, after a fresh refresh of the whole bucket, no chunk of it is listed,
    /// no pending replacement names it, no flush of this process fills it and no table of the tenant is damaged.
    /// </summary>
    /// <returns>Bytes freed; 0 when the pack was missing or is still in use.</returns>
    public long DeletePackIfUnreferenced(string tenant, string name)
    {
        Compactor();
        if (!BucketKeys.TryParsePackName(name, out var writer, out var packId))
        {
            return 0;
        }

        // One listing serves a sweep's consecutive deletes: a segment naming a pack marked a delete delay ago cannot
        // appear within the second since, unless its put took longer than the delay (which the delay must exceed).
        if (Environment.TickCount64 - _lastSweepRefresh > 1000)
        {
            RefreshAsync(CancellationToken.None).GetAwaiter().GetResult();
            _lastSweepRefresh = Environment.TickCount64;
        }

        var key = BucketKeys.Pack(tenant, writer, packId);
        if (!_tenants.TryGetValue(tenant, out var t) || IsDamaged(t) || _packsInFlight.ContainsKey(key) ||
            InUse(t, writer, packId, ReferencedHandles(t)))
        {
            return 0;
        }

        var bytes = WithRetry("head", ct => _store.HeadAsync(key, ct));
        if (bytes is null)
        {
            return 0;
        }

        WithRetry("delete", async ct =>
        {
            await _store.DeleteAsync(key, ct).ConfigureAwait(false);
            return true;
        });
        return bytes.Value;
    }

    /// <summary>Sizes of the tenant's packs in the bucket.</summary>
    public long PackBytes(string tenant)
    {
        long total = 0;
        foreach (var info in ListBlocking(BucketKeys.PacksPrefix(tenant)))
        {
            total += info.Size;
        }

        return total;
    }

    // A rewrite that wrote its replacements but no tombstone never committed; if a later tombstone of the old
    // chunk committed it, it would duplicate the rerun's chunk. Its replacement chunk is tombstoned instead: this
    // process's own ones at once (no rewrite of ours is in flight under the maintenance lock), other processes'
    // once they are older than the settle time (a twin compactor may still be mid-rewrite), or at once when no other
    // compactor is alive (SoleCompactor).
    private void RepairInterruptedRewrites(string tenant, BucketTenant t, Action<string, string>? hook)
    {
        var compactor = Compactor();
        var settled = DateTime.UtcNow.Ticks - SettleTime.Ticks;
        foreach (var table in TablesOf(tenant).ToList())
        {
            var orphans = new List<(long, long)>();
            foreach (var (_, chunk, _) in table.PendingReplacements())
            {
                var (writer, packId) = t.Packs.PackOf(chunk.PackId);
                if (_ownRewritePacks.Contains(chunk.PackId) || (writer == WriterName.Compactor && (SoleCompactor || packId < settled)))
                {
                    orphans.Add(chunk.Key);
                }
            }

            if (orphans.Count > 0)
            {
                hook?.Invoke("repair", table.Table);
                WriteCompactorSegment(compactor, t, table, [], [], orphans);
            }
        }
    }

    private void WriteCompactorSegment(SegmentWriter compactor, BucketTenant t, BucketIndexReader table,
        List<(LabelSet Labels, ChunkRef Chunk, (long PackId, long Offset) Replaced)> replacements,
        List<(LabelSet Labels, ChunkRef Chunk)> chunks, List<(long PackId, long Offset)> tombstones)
    {
        var period = table.Period ?? throw new InvalidOperationException($"table {table.Table} has no period");
        var inBucket = replacements.ConvertAll(r =>
        {
            var (_, packId) = t.Packs.PackOf(r.Chunk.PackId);
            return (r.Labels, r.Chunk with { PackId = packId }, KeyOf(t, r.Replaced));
        });
        var deleted = tombstones.ConvertAll(k => KeyOf(t, k));
        var key = WithRetry("put", ct => compactor.WriteAsync(table.Tenant, table.Table, period.Start, period.Length, [], inBucket, deleted, ct));
        table.ApplyOwn(key, period, chunks, replacements, tombstones);
    }

    private static BucketChunkKey KeyOf(BucketTenant t, (long PackId, long Offset) key)
    {
        var (writer, packId) = t.Packs.PackOf(key.PackId);
        return new BucketChunkKey(writer, packId, key.Offset);
    }

    // Referenced by a live chunk or a pending replacement; or never indexed anywhere yet and younger than the settle
    // time: another process may be between the pack's put and its segment's (retries included), which a short
    // retention_delete_delay alone would not cover. A pack id is its writer's sequence, i.e. its creation time in ticks.
    private static bool InUse(BucketTenant t, string writer, long packId, HashSet<long> referenced) =>
        t.Packs.TryGetHandle(writer, packId, out var handle)
            ? referenced.Contains(handle)
            : packId > DateTime.UtcNow.Ticks - SettleTime.Ticks;

    private static bool IsDamaged(BucketTenant t) => t.Tables.Values.Any(table => table.Damaged.Count > 0);

    private static HashSet<long> ReferencedHandles(BucketTenant t)
    {
        var referenced = new HashSet<long>();
        foreach (var table in t.Tables.Values)
        {
            table.Index.VisitChunks([], long.MinValue, long.MaxValue, (_, chunk) => referenced.Add(chunk.PackId));
            foreach (var (_, chunk, _) in table.PendingReplacements())
            {
                referenced.Add(chunk.PackId);
            }
        }

        return referenced;
    }

    // A tombstone deletes its chunk from every table of the tenant, whichever table carries it.
    private static void ApplyTenantTombstones(BucketTenant t)
    {
        var all = new HashSet<(long, long)>();
        foreach (var table in t.Tables.Values)
        {
            all.UnionWith(table.Tombstones());
        }

        if (all.Count > 0)
        {
            foreach (var table in t.Tables.Values)
            {
                table.ApplyTenantTombstones(all);
            }
        }
    }

    private List<ObjectInfo> ListBlocking(string prefix) => WithRetry("list", async ct =>
    {
        var list = new List<ObjectInfo>();
        await foreach (var info in _store.ListAsync(prefix, ct).ConfigureAwait(false))
        {
            list.Add(info);
        }

        return list;
    });

    private SegmentWriter Compactor() => _compactor ??
        throw new InvalidOperationException("this process does not run the compactor: the chunk store was opened without a compactor epoch");
}
