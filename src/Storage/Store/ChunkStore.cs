using System.Collections.Concurrent;
using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>A finished chunk handed to the store by the flush path.</summary>
/// <param name="Labels">The stream's labels.</param>
/// <param name="Chunk">The encoded chunk (from <see cref="ChunkBuilder.Finish"/>).</param>
/// <param name="Summary">Its summary (from the same call).</param>
public readonly record struct ChunkWrite(LabelSet Labels, ReadOnlyMemory<byte> Chunk, ChunkSummary Summary);

/// <summary>
/// The filesystem chunk store: per tenant, immutable pack files of chunks and a label index per schema period
/// (index table). <see cref="Write"/> makes chunks durable and queryable before returning; everything written
/// is queryable again right after <see cref="Open"/>. Thread-safe.
/// </summary>
/// <remarks>
/// Layout under <see cref="StorageOptions.RootDirectory"/>: <c>&lt;tenant&gt;/chunks/&lt;packId&gt;.pack</c> and
/// <c>&lt;tenant&gt;/index/&lt;table&gt;.journal | &lt;table&gt;.g&lt;n&gt;.idx</c>; see docs/formats/chunk.md.
/// </remarks>
public sealed partial class ChunkStore : ILogSource, IDisposable
{
    private const string ChunksDirectory = "chunks";
    private const string IndexDirectory = "index";

    // What IndexTable appends to the name of a journal it sets aside.
    private const string CorruptMarker = ".corrupt-";

    private readonly ConcurrentDictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);
    private readonly PackFiles _packs = new();
    private readonly SchemaPeriod[] _periods;
    private readonly ConcurrentDictionary<long, byte> _packsInFlight = new();

    // Chunks (block -1) and blocks already reported as skipped: a damaged block is logged and counted once, not
    // once per query that meets it. Grows only with the damage found on disk.
    private readonly ConcurrentDictionary<(string Tenant, long PackId, long Offset, int Block), byte> _reportedSkips = new();
    private readonly Lock _maintenance = new();
    private long _nextPackId;

    private ChunkStore(StorageOptions options)
    {
        Options = options;
        _periods = [.. options.SchemaPeriods];
        Array.Sort(_periods, static (a, b) => a.From.CompareTo(b.From));
        if (_periods.Length == 0)
        {
            _periods = [new SchemaPeriod { From = new DateOnly(1970, 1, 1) }];
        }

        _nextPackId = DateTime.UtcNow.Ticks;
    }

    /// <summary>The settings the store was opened with.</summary>
    public StorageOptions Options { get; }

    /// <summary>Flush steps, for crash-simulation tests: throwing here aborts the write at that point.</summary>
    internal Action<FlushStep>? FlushHook { get; set; }

    /// <summary>
    /// Called before each index append of a delete or rewrite with the step (<c>replace</c> or
    /// <c>tombstone</c>) and the table name, for crash-simulation tests: throwing stops the operation there.
    /// </summary>
    internal Action<string, string>? MaintenanceHook { get; set; }

    /// <summary>
    /// Opens (creating if needed) the store and loads every tenant's index; tables whose period ended more
    /// than <see cref="StorageOptions.SealGracePeriod"/> ago are sealed.
    /// </summary>
    public static ChunkStore Open(StorageOptions options)
    {
        options.Validate();
        var store = new ChunkStore(options);
        DurableFile.EnsureDirectory(options.RootDirectory);
        foreach (var directory in Directory.EnumerateDirectories(options.RootDirectory))
        {
            var name = Path.GetFileName(directory);
            if (!TenantPaths.TryDecode(name, out var tenantId))
            {
                continue;
            }

            var tenant = store.GetTenant(tenantId);
            DurableFile.DeleteLeftovers(tenant.ChunksPath);
            DurableFile.DeleteLeftovers(tenant.IndexPath);
            foreach (var tableName in IndexTable.Names(tenant.IndexPath))
            {
                (string Path, string Message)? sealedDamage = null;
                var table = IndexTable.Load(tenant.IndexPath, tableName, (path, message) =>
                {
                    store.Report(tenantId, path, message);

                    // A sealed generation is written atomically, so any failure in it is damage, never a torn
                    // write; the chunks it lists after the failure are missing. (A journal's torn tail is the
                    // unacknowledged end of a write that a crash cut short.)
                    if (path.EndsWith(IndexTable.SealedSuffix, StringComparison.Ordinal))
                    {
                        sealedDamage = (path, message);
                    }
                });
                if (table is not null)
                {
                    tenant.Tables[tableName] = table;
                }

                if (sealedDamage is { } damage)
                {
                    store.RecordIndexDamage(tenant, tableName, damage.Path, damage.Message);
                }
            }

            // Journals set aside for an unreadable header (now or at an earlier start) held acknowledged chunks.
            if (Directory.Exists(tenant.IndexPath))
            {
                foreach (var file in Directory.EnumerateFiles(tenant.IndexPath, "*" + IndexTable.JournalSuffix + CorruptMarker + "*"))
                {
                    var fileName = Path.GetFileName(file);
                    store.RecordIndexDamage(tenant, fileName[..fileName.IndexOf(IndexTable.JournalSuffix + CorruptMarker, StringComparison.Ordinal)],
                        file, "journal set aside: its header is unreadable");
                }
            }

            store.ReconcileDeletes(tenant);
        }

        store.SealClosedTables(DateTimeOffset.UtcNow);
        return store;
    }

    /// <summary>
    /// Stores chunks durably: one pack file (temp, fsync, rename, fsync dir), then the index journal of every
    /// period each chunk overlaps (append, fsync). Returns once all of it is on disk and queryable; if it
    /// throws, nothing partial is visible and the call can be retried.
    /// </summary>
    public void Write(string tenant, IReadOnlyList<ChunkWrite> chunks)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (chunks.Count == 0)
        {
            return;
        }

        var t = GetTenant(tenant);
        DurableFile.EnsureDirectory(t.ChunksPath);
        DurableFile.EnsureDirectory(t.IndexPath);
        var payloads = new ReadOnlyMemory<byte>[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            if (chunks[i].Summary.Entries == 0)
            {
                throw new ArgumentException("empty chunks are not stored", nameof(chunks));
            }

            payloads[i] = chunks[i].Chunk;
        }

        long packId;
        long[]? offsets;
        var packHook = FlushHook is { } hook ? (Action<DurableStep>)(s => hook(Map(s, pack: true))) : null;
        do
        {
            packId = Interlocked.Increment(ref _nextPackId);

            // Registered before the file exists, so the pack collector never takes a pack whose index entries
            // are still being written for unreferenced garbage.
            _packsInFlight[packId] = 0;
            offsets = PackFiles.TryWrite(PackFiles.PathOf(t.ChunksPath, packId), payloads, packHook);
            if (offsets is null)
            {
                _packsInFlight.TryRemove(packId, out _);
            }
        }
        while (offsets is null);

        try
        {
            AppendToTables(t, chunks, packId, offsets);
        }
        finally
        {
            _packsInFlight.TryRemove(packId, out _);
        }
    }

    private void AppendToTables(Tenant t, IReadOnlyList<ChunkWrite> chunks, long packId, long[] offsets)
    {

        var byTable = new Dictionary<IndexTable, List<(LabelSet, ChunkRef)>>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            var chunkRef = new ChunkRef(packId, offsets[i], c.Chunk.Length, c.Summary.MinTime, c.Summary.MaxTime,
                c.Summary.Entries, c.Summary.UncompressedBytes);
            var time = c.Summary.MinTime;
            while (true)
            {
                var table = t.TableFor(this, time);
                if (!byTable.TryGetValue(table, out var list))
                {
                    byTable[table] = list = [];
                }

                list.Add((c.Labels, chunkRef));
                if (table.End > c.Summary.MaxTime || table.End <= time)
                {
                    break;
                }

                time = table.End;
            }
        }

        var indexHook = FlushHook is { } h ? (Action<DurableStep>)(s => h(Map(s, pack: false))) : null;
        foreach (var (table, list) in byTable)
        {
            table.Append(list, indexHook);
        }
    }

    /// <summary>Every distinct chunk of <paramref name="tenant"/> with its stream's labels, oldest first.</summary>
    public List<StoredChunk> ListChunks(string tenant)
    {
        var result = new List<StoredChunk>();
        var seen = new HashSet<(long, long)>();
        foreach (var table in TablesIn(tenant, long.MinValue, long.MaxValue))
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
        if (!_tenants.TryGetValue(tenant, out var t))
        {
            return new ChunkEntryIterator([], query, static _ => default, NoOrigin.Instance);
        }

        return new ChunkEntryIterator([chunk], query,
            c => new ChunkBytes(_packs.Read(t.ChunksPath, c), 0, c.Length, Rented: true), t);
    }

    /// <summary>
    /// Deletes chunks from the index: a tombstone is appended (and fsynced) to the journal of every table
    /// listing each chunk, then the refs disappear from queries. Pack files are not touched; once none of
    /// their chunks is listed, <see cref="UnreferencedPacks"/> reports them. Idempotent.
    /// </summary>
    /// <returns>Distinct chunks that were listed and are now deleted.</returns>
    public int DeleteChunks(string tenant, IReadOnlyCollection<(long PackId, long Offset)> keys)
    {
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
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (replacement.Summary.Entries == 0)
        {
            throw new ArgumentException("empty chunks are not stored; delete the chunk instead", nameof(replacement));
        }

        if (replacement.Summary.MinTime < old.From || replacement.Summary.MaxTime > old.Through)
        {
            throw new ArgumentException("a replacement must lie within the chunk it replaces", nameof(replacement));
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
    /// Deletes a pack file if, checked again now, no chunk of it is listed and no write is filling it.
    /// </summary>
    /// <returns>Bytes freed; 0 when the pack was missing or is still in use (then nothing is deleted).</returns>
    public long DeletePackIfUnreferenced(string tenant, long packId)
    {
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

    /// <summary>
    /// Index compaction: every closed table that received writes or deletes since it was sealed (its journal)
    /// is merged into one new sealed generation, dropping deleted chunks and empty series.
    /// </summary>
    /// <returns>Tables compacted.</returns>
    public int CompactIndex(DateTimeOffset now) => SealClosedTables(now);

    /// <summary>Seals every table whose period ended before <paramref name="now"/> minus the grace period.</summary>
    /// <returns>Tables sealed.</returns>
    public int SealClosedTables(DateTimeOffset now)
    {
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

    /// <summary>Tenants with stored data.</summary>
    public IReadOnlyCollection<string> Tenants()
    {
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
        var tables = TablesIn(tenant, from, through);
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
        var chunks = ChunksOf(tenant, stream.Labels, query.From, query.Through);
        if (chunks.Count == 0 || !_tenants.TryGetValue(tenant, out var t))
        {
            return new ChunkEntryIterator([], query, static _ => default, NoOrigin.Instance);
        }

        return new ChunkEntryIterator(chunks, query,
            c => new ChunkBytes(_packs.Read(t.ChunksPath, c), 0, c.Length, Rented: true), t);
    }

    /// <summary>The chunk refs of one stream overlapping <c>[from, through)</c>, each once.</summary>
    public List<ChunkRef> ChunksOf(string tenant, LabelSet labels, long from, long through)
    {
        var chunks = new List<ChunkRef>();
        var tables = TablesIn(tenant, from, through);
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
        foreach (var table in TablesIn(tenant, from, through))
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
        foreach (var table in TablesIn(tenant, from, through))
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
        foreach (var table in TablesIn(tenant, from, through))
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
        foreach (var table in TablesIn(tenant, from, through))
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

    /// <inheritdoc />
    public void Dispose()
    {
        _packs.Dispose();
        foreach (var tenant in _tenants.Values)
        {
            foreach (var table in tenant.Tables.Values)
            {
                table.Dispose();
            }
        }

        _tenants.Clear();
    }

    /// <summary>The schema period in force at <paramref name="time"/> (the first one for earlier times).</summary>
    internal SchemaPeriod PeriodAt(long time)
    {
        var day = DateOnly.FromDateTime(DateTime.UnixEpoch.AddTicks(FloorDiv(time, 100)));
        var period = _periods[0];
        foreach (var p in _periods)
        {
            if (p.From <= day)
            {
                period = p;
            }
        }

        return period;
    }

    private static long FloorDiv(long a, long b) => (a / b) - (((a % b) != 0 && ((a < 0) ^ (b < 0))) ? 1 : 0);

    private static FlushStep Map(DurableStep step, bool pack) => (step, pack) switch
    {
        (DurableStep.Written, true) => FlushStep.PackWritten,
        (DurableStep.Synced, true) => FlushStep.PackSynced,
        (DurableStep.Renamed, true) => FlushStep.PackRenamed,
        (DurableStep.Written, false) => FlushStep.IndexWritten,
        _ => FlushStep.IndexSynced,
    };

    private static List<string> Sorted(HashSet<string> set)
    {
        var list = new List<string>(set);
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    private List<IndexTable> TablesIn(string tenant, long from, long through)
    {
        var result = new List<IndexTable>();
        if (_tenants.TryGetValue(tenant, out var t))
        {
            foreach (var table in t.Tables.Values)
            {
                if (table.Start < through && table.End > from)
                {
                    result.Add(table);
                }
            }
        }

        result.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return result;
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

            if (repair.Count > 0)
            {
                table.Append([], [], repair, null);
            }

            table.LoadedTombstones.Clear();
            table.LoadedReplacements.Clear();
        }
    }

    private void Report(string tenant, string path, string message) =>
        Options.OnCorruption?.Invoke(new StorageCorruption(tenant, path, message));

    // The period of a damaged table: the loaded table's when it has one, else the one its name gives under the
    // schema, else all time (a warning too many is better than damage hidden).
    private void RecordIndexDamage(Tenant tenant, string tableName, string path, string message)
    {
        long start = long.MinValue, end = long.MaxValue;
        if (tenant.Tables.TryGetValue(tableName, out var table))
        {
            (start, end) = (table.Start, table.End);
        }
        else
        {
            foreach (var period in _periods)
            {
                var length = period.IndexPeriod.Ticks * 100;
                if (tableName.StartsWith(period.IndexPrefix, StringComparison.Ordinal) &&
                    long.TryParse(tableName.AsSpan(period.IndexPrefix.Length), System.Globalization.NumberStyles.AllowLeadingSign,
                        System.Globalization.CultureInfo.InvariantCulture, out var number) &&
                    number > -(long.MaxValue / length / 2) && number < long.MaxValue / length / 2 && ReferenceEquals(PeriodAt(number * length), period))
                {
                    (start, end) = (number * length, (number * length) + length);
                    break;
                }
            }
        }

        tenant.DamagedTables[tableName] = new IndexDamage(start, end, path, message);
    }

    private void ReportSkipped(Tenant tenant, in ChunkRef chunk, int block, CorruptionKind kind, string warning)
    {
        if (Options.OnCorruption is { } report && _reportedSkips.TryAdd((tenant.Id, chunk.PackId, chunk.Offset, block), 0))
        {
            report(new StorageCorruption(tenant.Id, PackFiles.PathOf(tenant.ChunksPath, chunk.PackId), warning, kind));
        }
    }

    private Tenant GetTenant(string tenant) => _tenants.GetOrAdd(tenant,
        id => new Tenant(this, id, Path.Combine(Options.RootDirectory, TenantPaths.Encode(id))));

    /// <summary>One tenant's directories and index tables; it names its chunks in warnings and reports skipped ones.</summary>
    private sealed class Tenant(ChunkStore store, string id, string path) : IChunkOrigin
    {
        public string Id { get; } = id;

        public string Root { get; } = path;

        public string ChunksPath { get; } = Path.Combine(path, ChunksDirectory);

        public string IndexPath { get; } = Path.Combine(path, IndexDirectory);

        public ConcurrentDictionary<string, IndexTable> Tables { get; } = new(StringComparer.Ordinal);

        /// <summary>Tables a damaged file of which was found on open: their chunks may be missing from the index.</summary>
        public ConcurrentDictionary<string, IndexDamage> DamagedTables { get; } = new(StringComparer.Ordinal);

        public IndexTable TableFor(ChunkStore store, long time)
        {
            var period = store.PeriodAt(time);
            var length = period.IndexPeriod.Ticks * 100;
            var number = FloorDiv(time, length);
            var name = period.IndexPrefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Tables.GetOrAdd(name, n => IndexTable.Create(IndexPath, n, number * length, length,
                (p, m) => store.Report(Id, p, m)));
        }

        // The pack file name relative to the tenant's chunks directory, and the chunk's offset in it.
        public string Describe(in ChunkRef chunk) =>
            $"{PackFiles.NameOf(chunk.PackId)}@{chunk.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

        public void Skipped(in ChunkRef chunk, int block, CorruptionKind kind, string warning) =>
            store.ReportSkipped(this, chunk, block, kind, warning);
    }

    /// <summary>A damaged index file of a table: the table's period, the file and what is wrong with it.</summary>
    private readonly record struct IndexDamage(long Start, long End, string Path, string Message);

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

/// <summary>A stored chunk and the labels of its stream.</summary>
/// <param name="Labels">The stream's labels.</param>
/// <param name="Chunk">Where the chunk lives and what it covers.</param>
public readonly record struct StoredChunk(LabelSet Labels, ChunkRef Chunk);

/// <summary>A pack file on disk.</summary>
/// <param name="PackId">Its id (the file name).</param>
/// <param name="Bytes">Its size.</param>
public readonly record struct PackFileInfo(long PackId, long Bytes);

/// <summary>Steps of <see cref="ChunkStore.Write"/>, in order.</summary>
internal enum FlushStep
{
    PackWritten,
    PackSynced,
    PackRenamed,
    IndexWritten,
    IndexSynced,
}

/// <summary>Tenant ids as directory names: Loki's allowed characters kept, anything else %-escaped.</summary>
internal static class TenantPaths
{
    public static string Encode(string tenant)
    {
        var sb = new StringBuilder(tenant.Length);
        foreach (var b in Encoding.UTF8.GetBytes(tenant))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '!' or '*' or '\'' or '(' or ')' ||
                (c == '.' && tenant != "." && tenant != ".."))
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    public static bool TryDecode(string name, out string tenant)
    {
        tenant = string.Empty;
        var bytes = new List<byte>(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '%')
            {
                if (i + 2 >= name.Length || !byte.TryParse(name.AsSpan(i + 1, 2),
                        System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture,
                        out var b))
                {
                    return false;
                }

                bytes.Add(b);
                i += 2;
            }
            else if (name[i] > 127)
            {
                return false;
            }
            else
            {
                bytes.Add((byte)name[i]);
            }
        }

        tenant = Encoding.UTF8.GetString([.. bytes]);
        return tenant.Length > 0 && Encode(tenant) == name;
    }
}
