using System.Collections.Concurrent;
using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>
/// The chunk store: per tenant, immutable packs of chunks and a label index per schema period (index table).
/// <see cref="Write"/> makes chunks durable and queryable before returning; everything written is queryable again
/// right after <see cref="Open"/>. Thread-safe.
/// </summary>
/// <remarks>
/// Two layouts. Local (<see cref="Open"/>), under <see cref="StorageOptions.RootDirectory"/>:
/// <c>&lt;tenant&gt;/chunks/&lt;packId&gt;.pack</c> and <c>&lt;tenant&gt;/index/&lt;table&gt;.journal | &lt;table&gt;.g&lt;n&gt;.idx</c>
/// (docs/formats/chunk.md). Bucket (<see cref="OpenBucket"/>): immutable packs and index segments per writer in an
/// object store, refreshed by <see cref="RefreshAsync"/> (docs/formats/bucket.md); the compactor's operations are
/// not available there yet.
/// </remarks>
public sealed partial class ChunkStore : ILogSource, IDisposable
{
    private const string ChunksDirectory = "chunks";
    private const string IndexDirectory = "index";

    // What IndexTable appends to the name of a journal it sets aside.
    private const string CorruptMarker = ".corrupt-";

    private readonly ConcurrentDictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);
    private readonly PackFiles _packs = new();
    private readonly ChunkTailCache _tails = new(ChunkTailCache.DefaultMaxBytes);
    private readonly SchemaPeriod[] _periods;
    private readonly ConcurrentDictionary<long, byte> _packsInFlight = new();

    // Chunks (block -1) and blocks already reported as skipped: a damaged block is logged and counted once, not
    // once per query that meets it. Grows only with the damage found on disk.
    private readonly ConcurrentDictionary<(string Tenant, long PackId, long Offset, int Block), byte> _reportedSkips = new();
    private readonly Lock _maintenance = new();
    private readonly BucketLayout? _bucket;
    private long _nextPackId;

    private ChunkStore(StorageOptions options, BucketLayout? bucket = null)
    {
        Options = options;
        _bucket = bucket;
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

    /// <summary>Whether the store keeps its data in a bucket (<see cref="OpenBucket"/>) rather than the local layout.</summary>
    public bool IsBucket => _bucket is not null;

    /// <summary>The bucket of a store opened by <see cref="OpenBucket"/> (the compactor keeps its state there); else null.</summary>
    public IObjectStore? Bucket => _bucket?.Store;

    /// <summary>The compactor epoch the bucket store was opened with (<see cref="BucketOptions.CompactorEpoch"/>).</summary>
    public long? CompactorEpoch => _bucket?.Options.CompactorEpoch;

    /// <summary>Whether the bucket answers, for a bucket store; null for the local layout.</summary>
    public BucketHealth? BucketHealth => _bucket?.Health;

    /// <summary>Chunk reads answered by the local chunk cache and those that went to the bucket; zeros locally.</summary>
    public (long Hits, long Misses) ChunkCacheCounts => _bucket is { } b ? (b.Cache.Hits, b.Cache.Misses) : (0, 0);

    /// <summary>How often a bucket store should be refreshed (<see cref="RefreshAsync"/>); null for the local layout.</summary>
    public TimeSpan? ResyncInterval => _bucket?.Options.ResyncInterval;

    /// <summary>Opened by <see cref="OpenReadOnly"/> (or <see cref="OpenBucket"/> without a writer): writes and maintenance throw.</summary>
    public bool ReadOnly { get; private init; }

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
    public static ChunkStore Open(StorageOptions options) => OpenStore(options, readOnly: false);

    /// <summary>
    /// Opens the store to read what another process writes there: nothing on disk is created, repaired, sealed
    /// or deleted (a torn journal tail is most likely that writer's append in progress, so it is neither cut nor
    /// reported), and the write and maintenance methods throw. What it sees is what was written before it
    /// opened; a missing directory is an empty store.
    /// </summary>
    public static ChunkStore OpenReadOnly(StorageOptions options) => OpenStore(options, readOnly: true);

    /// <summary>
    /// Opens a store over a bucket and loads every tenant's tables from it. With <see cref="BucketOptions.Writer"/>
    /// the store writes (packs and segments under that writer's name), without it it is read-only. The index is
    /// refreshed by <see cref="RefreshAsync"/>, which the host calls every <see cref="BucketOptions.ResyncInterval"/>.
    /// Takes ownership of <paramref name="objects"/>.
    /// </summary>
    /// <exception cref="ObjectStoreException">The bucket cannot be listed (missing, bad credentials, unreachable).</exception>
    public static async Task<ChunkStore> OpenBucketAsync(StorageOptions options, IObjectStore objects, BucketOptions bucket,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        ArgumentNullException.ThrowIfNull(objects);
        var layout = new BucketLayout(objects, bucket, (tenant, key, message) =>
            options.OnCorruption?.Invoke(new StorageCorruption(tenant, key, message)));
        var store = new ChunkStore(options, layout) { ReadOnly = bucket.Writer is null && bucket.CompactorEpoch is null };
        try
        {
            await layout.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }

    /// <inheritdoc cref="OpenBucketAsync"/>
    public static ChunkStore OpenBucket(StorageOptions options, IObjectStore objects, BucketOptions bucket) =>
        OpenBucketAsync(options, objects, bucket).GetAwaiter().GetResult();

    /// <summary>
    /// Loads what other writers (and the compactor) put in the bucket since the last refresh: new tenants, tables and
    /// segments. Nothing for the local layout. A store failure propagates (and marks <see cref="BucketHealth"/>);
    /// what was loaded before stays queryable.
    /// </summary>
    public Task RefreshAsync(CancellationToken cancellationToken = default) =>
        _bucket?.RefreshAsync(cancellationToken) ?? Task.CompletedTask;

    private static ChunkStore OpenStore(StorageOptions options, bool readOnly)
    {
        options.Validate();
        var store = new ChunkStore(options) { ReadOnly = readOnly };
        if (readOnly && !Directory.Exists(options.RootDirectory))
        {
            return store;
        }

        if (!readOnly)
        {
            DurableFile.EnsureDirectory(options.RootDirectory);
        }

        foreach (var directory in Directory.EnumerateDirectories(options.RootDirectory))
        {
            var name = Path.GetFileName(directory);
            if (!TenantPaths.TryDecode(name, out var tenantId))
            {
                continue;
            }

            var tenant = store.GetTenant(tenantId);
            if (!readOnly)
            {
                DurableFile.DeleteLeftovers(tenant.ChunksPath);
                DurableFile.DeleteLeftovers(tenant.IndexPath);
            }

            foreach (var tableName in IndexTable.Names(tenant.IndexPath))
            {
                (string Path, string Message)? sealedDamage = null;
                var table = IndexTable.Load(tenant.IndexPath, tableName, readOnly, (path, message) =>
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

        if (!readOnly)
        {
            store.SealClosedTables(DateTimeOffset.UtcNow);
        }

        return store;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _bucket?.Dispose();
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

    /// <summary>The index table holding time <paramref name="time"/>: its name, start and length (ns).</summary>
    private (string Name, long Start, long Length) TableAt(long time)
    {
        var period = PeriodAt(time);
        var length = period.IndexPeriod.Ticks * 100;
        var number = FloorDiv(time, length);
        return (period.IndexPrefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture), number * length, length);
    }

    private static long FloorDiv(long a, long b) => (a / b) - (((a % b) != 0 && ((a < 0) ^ (b < 0))) ? 1 : 0);

    // The tables of either layout that a read over [from, through) must look at, in period order.
    private List<TableView> ViewsIn(string tenant, long from, long through)
    {
        var result = new List<TableView>();
        if (_bucket is { } bucket)
        {
            foreach (var table in bucket.TablesOf(tenant))
            {
                if (table.Period is { } period && period.Start < through && period.Start + period.Length > from)
                {
                    result.Add(new TableView(table.Table, period.Start, period.Start + period.Length, table.Index));
                }
            }
        }
        else if (_tenants.TryGetValue(tenant, out var t))
        {
            foreach (var table in t.Tables.Values)
            {
                if (table.Start < through && table.End > from)
                {
                    result.Add(new TableView(table.Name, table.Start, table.End, table.Index));
                }
            }
        }

        result.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return result;
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
            var path = _bucket is { } bucket ? bucket.Describe(tenant.Id, chunk) : PackFiles.PathOf(tenant.ChunksPath, chunk.PackId);
            report(new StorageCorruption(tenant.Id, path, warning, kind));
        }
    }

    private void ThrowIfReadOnly()
    {
        if (ReadOnly)
        {
            throw new InvalidOperationException("the chunk store was opened read-only");
        }
    }

    // The compactor's operations on a bucket are a later step (docs/formats/bucket.md, "The compactor").
    private void ThrowIfBucket(string operation)
    {
        if (_bucket is not null)
        {
            throw new NotSupportedException($"{operation} is not supported yet on a chunk store in object storage (object_store: s3)");
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
            var (name, start, length) = store.TableAt(time);
            return Tables.GetOrAdd(name, n => IndexTable.Create(IndexPath, n, start, length,
                (p, m) => store.Report(Id, p, m)));
        }

        // The pack file name relative to the tenant's chunks directory (the pack key in a bucket), and the chunk's offset in it.
        public string Describe(in ChunkRef chunk) => store._bucket is { } bucket
            ? bucket.Describe(Id, chunk)
            : $"{PackFiles.NameOf(chunk.PackId)}@{chunk.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

        public void Skipped(in ChunkRef chunk, int block, CorruptionKind kind, string warning) =>
            store.ReportSkipped(this, chunk, block, kind, warning);
    }

    /// <summary>An index table of either layout as a read sees it: name, period and label index.</summary>
    private readonly record struct TableView(string Name, long Start, long End, LabelIndex Index);

    /// <summary>A damaged index file of a table: the table's period, the file and what is wrong with it.</summary>
    private readonly record struct IndexDamage(long Start, long End, string Path, string Message);
}
