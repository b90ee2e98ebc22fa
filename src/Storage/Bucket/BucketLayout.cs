using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// The bucket side of a <see cref="ChunkStore"/> (docs/formats/bucket.md): a flush is one pack object, then one index
/// segment per table (the commit point), applied at once to this process's index; chunk reads are ranged GETs through
/// the <see cref="ChunkCache"/>; every tenant's tables are loaded from the bucket and refreshed on
/// <see cref="RefreshAsync"/>. Thread-safe.
/// </summary>
internal sealed partial class BucketLayout : IDisposable
{
    private const string IndexSegment = "/index/";

    private readonly IObjectStore _store;
    private readonly SegmentWriter? _segments;
    private readonly SegmentWriter? _compactor;
    private readonly ConcurrentDictionary<string, byte> _packsInFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BucketTenant> _tenants = new(StringComparer.Ordinal);
    private readonly Action<string, string, string>? _onDamage;
    private readonly SemaphoreSlim _refresh = new(1, 1);

    // Environment.TickCount64 at the end of the last complete refresh (or at open, which loads everything).
    private long _lastRefreshTicks = Environment.TickCount64;

    public BucketLayout(IObjectStore store, BucketOptions options, Action<string, string, string>? onDamage)
    {
        _store = store;
        Options = options;
        _onDamage = onDamage;
        if (options.Writer is { } writer)
        {
            WriterName.Validate(writer);
            _segments = new SegmentWriter(store, writer);
        }

        if (options.CompactorEpoch is { } epoch)
        {
            _compactor = new SegmentWriter(store, WriterName.Compactor, epoch);
        }

        Cache = new ChunkCache(options.ChunkCacheDirectory, options.ChunkCacheBytes);
    }

    public BucketOptions Options { get; }

    /// <summary>The bucket.</summary>
    public IObjectStore Store => _store;

    public ChunkCache Cache { get; }

    public BucketHealth Health { get; } = new();

    /// <summary>Tenants with at least one loaded table.</summary>
    public IEnumerable<string> Tenants
    {
        get
        {
            foreach (var (id, tenant) in _tenants)
            {
                if (!tenant.Tables.IsEmpty)
                {
                    yield return id;
                }
            }
        }
    }

    /// <summary>The tables of <paramref name="tenant"/> that have a period (something was loaded or written).</summary>
    public IEnumerable<BucketIndexReader> TablesOf(string tenant)
    {
        if (_tenants.TryGetValue(tenant, out var t))
        {
            foreach (var table in t.Tables.Values)
            {
                if (table.Period is not null)
                {
                    yield return table;
                }
            }
        }
    }

    /// <summary>
    /// Writes a flush's pack: one object under a fresh sequence of this writer (create-only where the store offers
    /// it). Returns the writer's pack id and the chunks' offsets in it.
    /// </summary>
    public (long PackId, long[] Offsets) WritePack(string tenant, IReadOnlyList<ReadOnlyMemory<byte>> payloads) =>
        WritePack(_segments ?? throw new InvalidOperationException("the chunk store was opened read-only"), tenant, payloads);

    /// <summary>The pack is indexed (or its flush failed): the compactor may judge it by the index from now on.</summary>
    public void PackDone(string tenant, long packId) => PackDone(tenant, _segments?.Writer ?? "", packId);

    private void PackDone(string tenant, string writer, long packId) => _packsInFlight.TryRemove(BucketKeys.Pack(tenant, writer, packId), out _);

    private (long PackId, long[] Offsets) WritePack(SegmentWriter segments, string tenant, IReadOnlyList<ReadOnlyMemory<byte>> payloads)
    {
        var offsets = new long[payloads.Count];
        var content = PackFiles.Encode(payloads, offsets);
        for (var taken = 0; ; taken++)
        {
            var packId = segments.NextSequence();
            var key = BucketKeys.Pack(tenant, segments.Writer, packId);

            // In flight until indexed: a pack listed before its segment exists must not look unreferenced.
            _packsInFlight[key] = 0;
            var created = WithRetry("put", async ct =>
            {
                if (!_store.SupportsCreateOnly)
                {
                    await _store.PutAsync(key, content, ct).ConfigureAwait(false);
                    return true;
                }

                return await _store.TryCreateAsync(key, content, ct).ConfigureAwait(false);
            });
            if (created)
            {
                // Written through to the cache, as Loki's chunk store does on a flush: this writer's recent chunks,
                // which its own queries read most, are served locally, even while the bucket is unreachable.
                for (var i = 0; i < payloads.Count; i++)
                {
                    Cache.Add(CacheName(tenant, segments.Writer, packId, offsets[i]), payloads[i].Span);
                }

                return (packId, offsets);
            }

            _packsInFlight.TryRemove(key, out _);

            if (taken >= 1000)
            {
                throw new IOException($"pack keys of writer {segments.Writer} keep being taken (last {key}): is another process using the same name?");
            }
        }
    }

    /// <summary>
    /// Commits a flush for one table: writes its segment (chunk refs carry the writer's pack id), then applies it to
    /// this process's index with the pack's handle, so the flush is queryable here at once.
    /// </summary>
    public void CommitTable(string tenant, string table, long start, long length, long packId,
        List<(LabelSet Labels, ChunkRef Chunk)> chunks)
    {
        var segments = _segments ?? throw new InvalidOperationException("the chunk store was opened read-only");
        var key = WithRetry("put", ct => segments.WriteAsync(tenant, table, start, length, chunks, ct));
        var t = TenantOf(tenant);
        var handle = t.Packs.HandleOf(segments.Writer, packId);
        var own = chunks.ConvertAll(c => (c.Labels, c.Chunk with { PackId = handle }));
        TableOf(t, tenant, table).ApplyOwn(key, (start, length), own);
    }

    /// <summary>
    /// Reads one chunk into a rented buffer: from the cache, else by a ranged GET (then cached). A missing pack is an
    /// <see cref="IOException"/> (the chunk is skipped and reported); a bucket that does not answer throws
    /// <see cref="ObjectStoreException"/>, so the query fails rather than answer silently less.
    /// </summary>
    public byte[] ReadChunk(string tenant, in ChunkRef chunk)
    {
        var (writer, packId) = TenantOf(tenant).Packs.PackOf(chunk.PackId);
        var name = CacheName(tenant, writer, packId, chunk.Offset);
        if (Cache.TryRead(name, chunk.Length) is { } cached)
        {
            return cached;
        }

        var key = BucketKeys.Pack(tenant, writer, packId);
        var buffer = ArrayPool<byte>.Shared.Rent(chunk.Length);
        try
        {
            var offset = chunk.Offset;
            var length = chunk.Length;
            var read = WithRetry("get", async ct =>
            {
                var total = 0;
                while (total < length)
                {
                    var n = await _store.ReadAsync(key, offset + total, buffer.AsMemory(total, length - total), ct).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    total += n;
                }

                return total;
            }, attempts: 1);
            if (read < chunk.Length)
            {
                throw new Chunks.ChunkCorruptException($"pack {key} ends before chunk at offset {chunk.Offset} (+{chunk.Length} bytes)");
            }

            Cache.Add(name, buffer.AsSpan(0, chunk.Length));
            return buffer;
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new IOException($"pack {key} does not exist", e);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The pack key and offset of a chunk, as warnings name it.</summary>
    public string Describe(string tenant, in ChunkRef chunk)
    {
        if (!_tenants.TryGetValue(tenant, out var t) || chunk.PackId < 1 || chunk.PackId > t.Packs.Count)
        {
            return string.Empty;
        }

        var (writer, packId) = t.Packs.PackOf(chunk.PackId);
        return $"{BucketKeys.Pack(tenant, writer, packId)}@{chunk.Offset.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// Finds the tenants and their tables by prefix listings (<c>&lt;tenant&gt;/</c>, then
    /// <c>&lt;tenant&gt;/index/&lt;table&gt;/</c>: not one key of a pack), opens the tables not seen before and loads
    /// what is new in every table. A store failure propagates after marking the bucket unreachable; nothing is
    /// half-applied.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tables = new List<BucketIndexReader>();
            await foreach (var tenantPrefix in _store.ListPrefixesAsync("", cancellationToken).ConfigureAwait(false))
            {
                if (!TenantPaths.TryDecode(tenantPrefix[..^1], out var tenant))
                {
                    continue;
                }

                await foreach (var tablePrefix in _store.ListPrefixesAsync(tenantPrefix + "index/", cancellationToken).ConfigureAwait(false))
                {
                    if (TryParseTable(tablePrefix, out var parsedTenant, out var table) && parsedTenant == tenant)
                    {
                        tables.Add(TableOf(TenantOf(tenant), tenant, table));
                    }
                }
            }

            foreach (var table in tables)
            {
                await table.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var tenant in _tenants.Values)
            {
                ApplyTenantTombstones(tenant);
            }

            Interlocked.Exchange(ref _lastRefreshTicks, Environment.TickCount64);
            Health.Succeeded();
        }
        catch (ObjectStoreException e)
        {
            Health.Failed("refresh", e);
            throw;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// When the last complete refresh is older than <see cref="BucketOptions.StaleViewLimit"/> (the bucket failing, or
    /// refreshes that take too long), the warning a query must carry: other processes' recent flushes may be missing
    /// from its answer. Null while the view is fresh.
    /// </summary>
    public string? StaleViewWarning()
    {
        var age = TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastRefreshTicks));
        return age <= Options.StaleViewLimit ? null
            : $"the object store index was last refreshed {Math.Round(age.TotalSeconds)}s ago (resync_interval " +
              $"{Options.ResyncInterval.TotalSeconds}s): chunks other processes flushed since then may be missing";
    }

    public void Dispose()
    {
        foreach (var tenant in _tenants.Values)
        {
            foreach (var table in tenant.Tables.Values)
            {
                table.Dispose();
            }
        }

        _tenants.Clear();
        _refresh.Dispose();
        _store.Dispose();
    }

    private static string CacheName(string tenant, string writer, long packId, long offset) =>
        $"{TenantPaths.Encode(tenant)}/{writer}/{packId.ToString("x16", CultureInfo.InvariantCulture)}-" +
        $"{offset.ToString("x", CultureInfo.InvariantCulture)}.chunk";

    // `<tenant>/index/<table>/...`, the tenant decoded.
    private static bool TryParseTable(string key, out string tenant, out string table)
    {
        tenant = table = string.Empty;
        var index = key.IndexOf(IndexSegment, StringComparison.Ordinal);
        if (index <= 0 || key.IndexOf('/') != index)
        {
            return false;
        }

        var rest = key.AsSpan(index + IndexSegment.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !TenantPaths.TryDecode(key[..index], out tenant))
        {
            return false;
        }

        table = rest[..slash].ToString();
        return true;
    }

    private BucketTenant TenantOf(string tenant) => _tenants.GetOrAdd(tenant, static _ => new BucketTenant());

    private BucketIndexReader TableOf(BucketTenant t, string tenant, string table) =>
        t.Tables.GetOrAdd(table, name => new BucketIndexReader(_store, tenant, name, t.Packs,
            (key, message) => _onDamage?.Invoke(tenant, key, message)));

    // One object operation of a flush or a read, retried with doubling waits while the bucket fails transiently;
    // every outcome updates Health. Sync over async: the chunk store's write and read paths are synchronous.
    private T WithRetry<T>(string operation, Func<CancellationToken, Task<T>> action, int attempts = 0)
    {
        attempts = attempts > 0 ? attempts : Math.Max(1, Options.WriteAttempts);
        var wait = Options.MinBackoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = action(CancellationToken.None).GetAwaiter().GetResult();
                Health.Succeeded();
                return result;
            }
            catch (ObjectStoreException e) when (e.Kind != ObjectStoreErrorKind.NotFound)
            {
                Health.Failed(operation, e);
                if (!e.IsTransient || attempt >= attempts)
                {
                    throw;
                }
            }

            Thread.Sleep(wait);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, Options.MaxBackoff.Ticks));
        }
    }

    /// <summary>One tenant's pack handles and tables.</summary>
    private sealed class BucketTenant
    {
        public PackHandles Packs { get; } = new();

        public ConcurrentDictionary<string, BucketIndexReader> Tables { get; } = new(StringComparer.Ordinal);
    }
}
