using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <content>
/// Maintenance for the compactor: deleting and rewriting chunks, collecting unreferenced packs, sealing closed
/// tables, and applying on load what interrupted deletes left.
/// </content>
public sealed partial class ChunkStore
{
    /// <summary>
    /// On a bucket: whether the compactor found no other compactor alive (its heartbeats), so rewrites other processes
    /// left half done are repaired at once rather than after the settle time. Nothing for the local layout.
    /// </summary>
    public bool SoleCompactor
    {
        get => _bucket?.SoleCompactor ?? true;
        set
        {
            if (_bucket is { } bucket)
            {
                bucket.SoleCompactor = value;
            }
        }
    }

    /// <summary>
    /// Deletes chunks from the index: a tombstone is appended (and fsynced) to the journal of every table
    /// listing each chunk, then the refs disappear from queries. Pack files are not touched; once none of
    /// their chunks is listed, <see cref="UnreferencedPacks"/> reports them. Idempotent.
    /// </summary>
    /// <returns>Distinct chunks that were listed and are now deleted.</returns>
    public int DeleteChunks(string tenant, IReadOnlyCollection<(long PackId, long Offset)> keys)
    {
        ThrowIfReadOnly();
        if (_bucket is { } bucket)
        {
            lock (_maintenance)
            {
                return bucket.DeleteChunks(tenant, keys, MaintenanceHook);
            }
        }

        if (keys.Count == 0 || !_tenants.TryGetValue(tenant, out var t))
        {
            return 0;
        }

        lock (_maintenance)
        {
            var deleted = new HashSet<(long, long)>();
            foreach (var table in TablesIn(tenant, long.MinValue, long.MaxValue))
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
                    MaintenanceHook?.Invoke("tombstone", table.Name);
                    DurableFile.EnsureDirectory(t.IndexPath);
                    table.Append([], [], present, null);
                    deleted.UnionWith(present);
                }
            }

            return deleted.Count;
        }
    }

    /// <summary>
    /// Replaces a stored chunk with a rewritten one (entries removed by a delete request) atomically as far as
    /// readers after a crash are concerned: the new pack is written, then the new chunk is listed as a
    /// replacement of the old one in its tables, then the old chunk is tombstoned everywhere. Loading treats
    /// the first tombstone of the old chunk as the commit point: before it, the replacement is rolled back.
    /// </summary>
    /// <returns>The new chunk's ref.</returns>
    public ChunkRef ReplaceChunk(string tenant, LabelSet labels, in ChunkRef old, ChunkWrite replacement)
    {
        ThrowIfReadOnly();
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (replacement.Summary.Entries == 0)
        {
            throw new ArgumentException("empty chunks are not stored; delete the chunk instead", nameof(replacement));
        }

        if (replacement.Summary.MinTime < old.From || replacement.Summary.MaxTime > old.Through)
        {
            throw new ArgumentException("a replacement must lie within the chunk it replaces", nameof(replacement));
        }

        if (_bucket is { } bucket)
        {
            lock (_maintenance)
            {
                return bucket.ReplaceChunk(tenant, labels, old, replacement, MaintenanceHook);
            }
        }

        var t = GetTenant(tenant);
        lock (_maintenance)
        {
            long packId;
            long[]? offsets;
            do
            {
                packId = Interlocked.Increment(ref _nextPackId);
                _packsInFlight[packId] = 0;
                offsets = PackFiles.TryWrite(PackFiles.PathOf(t.ChunksPath, packId), [replacement.Chunk], null);
                if (offsets is null)
                {
                    _packsInFlight.TryRemove(packId, out _);
                }
            }
            while (offsets is null);

            try
            {
                var chunk = new ChunkRef(packId, offsets[0], replacement.Chunk.Length, replacement.Summary.MinTime,
                    replacement.Summary.MaxTime, replacement.Summary.Entries, replacement.Summary.UncompressedBytes);
                var oldKey = old.Key;
                var tables = TablesIn(tenant, long.MinValue, long.MaxValue)
                    .FindAll(table => table.Index.ContainsChunk(oldKey));
                foreach (var table in tables)
                {
                    if (chunk.From < table.End && chunk.Through >= table.Start)
                    {
                        MaintenanceHook?.Invoke("replace", table.Name);
                        table.Append([], [(labels, chunk, old.Key)], [], null);
                    }
                }

                foreach (var table in tables)
                {
                    MaintenanceHook?.Invoke("tombstone", table.Name);
                    table.Append([], [], [old.Key], null);
                }

                return chunk;
            }
            finally
            {
                _packsInFlight.TryRemove(packId, out _);
            }
        }
    }

    /// <summary>
    /// Pack files of <paramref name="tenant"/> that no index table lists a chunk of and that no write in
    /// progress is filling: left by deletes, or by a crash between writing a pack and indexing it.
    /// </summary>
    public List<PackFileInfo> UnreferencedPacks(string tenant)
    {
        if (_bucket is { } bucket)
        {
            lock (_maintenance)
            {
                return bucket.UnreferencedPacks(tenant);
            }
        }

        var result = new List<PackFileInfo>();
        if (!_tenants.TryGetValue(tenant, out var t) || !Directory.Exists(t.ChunksPath) || !t.DamagedTables.IsEmpty)
        {
            // With a damaged index table, a pack that looks unreferenced may hold chunks only the lost records
            // listed: nothing of the tenant is collected until the damaged file is restored or removed.
            return result;
        }

        // Order matters: list files, then take the in-flight set, then the referenced set. A pack listed but
        // no longer in flight has either been indexed already (so it shows up as referenced) or failed.
        var onDisk = new List<(long Id, long Bytes)>();
        foreach (var file in new DirectoryInfo(t.ChunksPath).EnumerateFiles("*" + PackFiles.Suffix))
        {
            if (PackFiles.TryParseId(file.Name, out var id))
            {
                onDisk.Add((id, file.Length));
            }
        }

        var inFlight = new HashSet<long>(_packsInFlight.Keys);
        var referenced = ReferencedPacks(tenant);
        foreach (var (id, bytes) in onDisk)
        {
            if (!inFlight.Contains(id) && !referenced.Contains(id))
            {
                result.Add(new PackFileInfo(id, bytes));
            }
        }

        result.Sort(static (a, b) => a.PackId.CompareTo(b.PackId));
        return result;
    }

    /// <summary>
    /// Deletes a pack by the name <see cref="UnreferencedPacks"/> gave it (<see cref="PackFileInfo.MarkName"/>) if, checked
    /// again now (in a bucket: after listing the bucket again), no chunk of it is listed and no write is filling it.
    /// </summary>
    /// <returns>Bytes freed; 0 when the pack was missing, is still in use or the name does not parse.</returns>
    public long DeletePackIfUnreferenced(string tenant, string name)
    {
        ThrowIfReadOnly();
        if (_bucket is { } bucket)
        {
            lock (_maintenance)
            {
                return bucket.DeletePackIfUnreferenced(tenant, name);
            }
        }

        return long.TryParse(name, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture,
            out var packId) ? DeletePackIfUnreferenced(tenant, packId) : 0;
    }

    /// <summary>
    /// Deletes a pack file if, checked again now, no chunk of it is listed and no write is filling it.
    /// </summary>
    /// <returns>Bytes freed; 0 when the pack was missing or is still in use (then nothing is deleted).</returns>
    public long DeletePackIfUnreferenced(string tenant, long packId)
    {
        ThrowIfReadOnly();
        ThrowIfBucket("deleting packs");
        if (!_tenants.TryGetValue(tenant, out var t))
        {
            return 0;
        }

        lock (_maintenance)
        {
            var path = PackFiles.PathOf(t.ChunksPath, packId);
            if (!t.DamagedTables.IsEmpty || _packsInFlight.ContainsKey(packId) || ReferencedPacks(tenant).Contains(packId) || !File.Exists(path))
            {
                return 0;
            }

            var bytes = new FileInfo(path).Length;
            _packs.Forget(path);
            File.Delete(path);
            DurableFile.SyncDirectory(t.ChunksPath);
            return bytes;
        }
    }

    /// <summary>Total bytes of <paramref name="tenant"/>'s pack files on disk.</summary>
    public long PackBytes(string tenant)
    {
        if (_bucket is { } bucket)
        {
            return bucket.PackBytes(tenant);
        }

        if (!_tenants.TryGetValue(tenant, out var t) || !Directory.Exists(t.ChunksPath))
        {
            return 0;
        }

        long total = 0;
        foreach (var file in new DirectoryInfo(t.ChunksPath).EnumerateFiles("*" + PackFiles.Suffix))
        {
            total += file.Length;
        }

        return total;
    }


    /// <summary>Seals every table whose period ended before <paramref name="now"/> minus the grace period.</summary>
    /// <remarks>
    /// This is also the compactor's index compaction: every closed table that received writes or deletes since it
    /// was sealed (its journal) is merged into one new sealed generation, dropping deleted chunks and empty series.
    /// </remarks>
    /// <returns>Tables sealed.</returns>
    public int SealClosedTables(DateTimeOffset now)
    {
        if (_bucket is not null)
        {
            // A bucket's tables are immutable objects; folding them is the bucket compactor's job (not yet built).
            return 0;
        }

        ThrowIfReadOnly();
        lock (_maintenance)
        {
            return SealClosedTablesLocked(now);
        }
    }

    private int SealClosedTablesLocked(DateTimeOffset now)
    {
        var cutoff = (now - Options.SealGracePeriod).ToUnixTimeMilliseconds() * 1_000_000L;
        var sealedCount = 0;
        foreach (var tenant in _tenants.Values)
        {
            foreach (var table in tenant.Tables.Values)
            {
                // Sealing writes what was loaded and deletes the older generations: with a damaged one, that
                // would make the loss permanent and destroy the evidence. Its journal keeps the new records.
                if (table.End <= cutoff && table.HasJournal && !tenant.DamagedTables.ContainsKey(table.Name))
                {
                    table.Seal();
                    sealedCount++;
                }
            }
        }

        return sealedCount;
    }

    private HashSet<long> ReferencedPacks(string tenant)
    {
        var referenced = new HashSet<long>();
        foreach (var table in TablesIn(tenant, long.MinValue, long.MaxValue))
        {
            table.Index.VisitChunks([], long.MinValue, long.MaxValue, (_, chunk) => referenced.Add(chunk.PackId));
        }

        return referenced;
    }

    /// <summary>
    /// Applies on load what deletes and rewrites left in the files: a tombstone in any table deletes the chunk
    /// from all of them (a crash may have stopped before every table got its tombstone, so the missing ones
    /// are appended now); a replacement counts only if the chunk it replaces has a tombstone, otherwise the
    /// rewrite never committed and the replacement is tombstoned itself.
    /// </summary>
    private void ReconcileDeletes(Tenant tenant)
    {
        var tombstones = new HashSet<(long, long)>();
        foreach (var table in tenant.Tables.Values)
        {
            tombstones.UnionWith(table.LoadedTombstones);
        }

        foreach (var table in tenant.Tables.Values)
        {
            var repair = new List<(long, long)>();
            foreach (var (labels, chunk, replaced) in table.LoadedReplacements)
            {
                if (!tombstones.Contains(replaced))
                {
                    repair.Add(chunk.Key);
                }
                else if (!tombstones.Contains(chunk.Key))
                {
                    table.Index.Add(labels, chunk);
                }
            }

            if (tombstones.Count > 0)
            {
                foreach (var removed in table.Index.RemoveChunks(tombstones))
                {
                    if (!table.LoadedTombstones.Contains(removed.Key))
                    {
                        repair.Add(removed.Key);
                    }
                }
            }

            // Read-only, the repairs stay in memory: the writer applies them when it opens the store.
            if (repair.Count > 0 && !ReadOnly)
            {
                table.Append([], [], repair, null);
            }

            table.LoadedTombstones.Clear();
            table.LoadedReplacements.Clear();
        }
    }
}
