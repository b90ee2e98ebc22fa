using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using static LokiSharp.Storage.Tests.TestData;

namespace LokiSharp.Storage.Tests.Bucket;

/// <summary>The chunk store over a bucket (a <see cref="FileSystemObjectStore"/>): flushes, reads through the cache, refresh.</summary>
public sealed class BucketChunkStoreTests : IDisposable
{
    private readonly TempDirectory _bucketDir = new();
    private readonly TempDirectory _local = new();
    private readonly List<StorageCorruption> _reports = [];

    public void Dispose()
    {
        _bucketDir.Dispose();
        _local.Dispose();
    }

    [Fact]
    public void FlushesAreQueryableAtOnceAndReadsGoThroughTheCache()
    {
        var bucket = new BucketFixture.CountingStore(new FileSystemObjectStore(_bucketDir.Path));
        using var store = Open(bucket, "ingester-0");
        var api = Labels(("app", "api"));
        store.Write("tenant-a", [Chunk(api, Lines(Base, Second, 300)), Chunk(Labels(("app", "web")), Lines(Base, Second, 5, "web"))]);
        store.Write("tenant-a", [Chunk(api, Lines(Base + (300 * Second), Second, 200, "later"))]);

        Assert.Equal(["tenant-a"], store.Tenants());
        Assert.Equal(["api", "web"], store.LabelValues("tenant-a", "app", [], Base, Base + Day));
        var first = ReadAll(store, "tenant-a", api, new EntryQuery(Base, Base + Day), out var warnings);
        Assert.Empty(warnings);
        Assert.Equal(500, first.Count);
        Assert.Equal("later 199 level=info msg=hello", first[^1].Line);

        // The writer's flushes were written through to its cache.
        Assert.Equal((2L, 0L), store.ChunkCacheCounts);
        Assert.Equal(0, bucket.Reads);

        // Another process reads them from the bucket once, then from its own disk cache.
        using var reader = Open(bucket, null, cache: "reader-cache");
        Assert.Equal(first, ReadAll(reader, "tenant-a", api, new EntryQuery(Base, Base + Day), out _));
        Assert.Equal((0L, 2L), reader.ChunkCacheCounts);
        var reads = bucket.Reads;
        Assert.Equal(first, ReadAll(reader, "tenant-a", api, new EntryQuery(Base, Base + Day), out _));
        Assert.Equal((2L, 2L), reader.ChunkCacheCounts);
        Assert.Equal(reads, bucket.Reads);
        Assert.Equal(2, Keys("tenant-a/packs/ingester-0/").Count);
        Assert.Equal(2, Keys("tenant-a/index/").Count);
    }

    [Fact]
    public async Task AReaderSeesAWritersFlushAfterItsRefreshNewTenantsIncluded()
    {
        using var writer = Open(new FileSystemObjectStore(_bucketDir.Path), "ingester-0");
        var api = Labels(("app", "api"));
        writer.Write("tenant-a", [Chunk(api, Lines(Base, Second, 10))]);
        using var reader = Open(new FileSystemObjectStore(_bucketDir.Path), null, cache: "reader-cache");
        Assert.True(reader.ReadOnly);
        Assert.Throws<InvalidOperationException>(() => reader.Write("tenant-a", [Chunk(api, Lines(Base, Second, 1))]));
        Assert.Equal(10, ReadAll(reader, "tenant-a", api, new EntryQuery(Base, Base + Day), out _).Count);

        writer.Write("tenant-a", [Chunk(api, Lines(Base + (2 * Day), Second, 7))]);
        writer.Write("tenant-b", [Chunk(api, Lines(Base, Second, 3))]);
        Assert.Equal(["tenant-a"], reader.Tenants());
        Assert.Empty(ReadAll(reader, "tenant-b", api, new EntryQuery(Base, Base + Day), out _));

        await reader.RefreshAsync();
        Assert.Equal(["tenant-a", "tenant-b"], reader.Tenants());
        Assert.Equal(17, ReadAll(reader, "tenant-a", api, new EntryQuery(Base, Base + (3 * Day)), out _).Count);
        Assert.Equal(3, ReadAll(reader, "tenant-b", api, new EntryQuery(Base, Base + Day), out _).Count);
        Assert.False(reader.BucketHealth!.Unreachable);
    }

    [Fact]
    public void ARestartedWriterKeepsItsKeysUniqueAndSeesEverything()
    {
        var api = Labels(("app", "api"));
        for (var run = 0; run < 3; run++)
        {
            using var store = Open(new FileSystemObjectStore(_bucketDir.Path), "ingester-0");
            Assert.Equal(run * 4, ReadAll(store, "t", api, new EntryQuery(Base, Base + Day), out _).Count);
            store.Write("t", [Chunk(api, Lines(Base + (run * 10 * Second), Second, 4, $"run{run}"))]);
        }

        Assert.Equal(3, Keys("t/packs/ingester-0/").Count);
        Assert.Equal(3, Keys("t/index/").Count);
        using var reopened = Open(new FileSystemObjectStore(_bucketDir.Path), null);
        Assert.Equal(12, ReadAll(reopened, "t", api, new EntryQuery(Base, Base + Day), out _).Count);
    }

    [Fact]
    public void ADamagedSegmentOrMissingPackIsReportedAndSkipped()
    {
        var api = Labels(("app", "api"));
        var web = Labels(("app", "web"));
        using (var writer = Open(new FileSystemObjectStore(_bucketDir.Path), "ingester-0"))
        {
            writer.Write("t", [Chunk(api, Lines(Base, Second, 4))]);
            writer.Write("t", [Chunk(web, Lines(Base, Second, 6))]);
        }

        var segments = Keys("t/index/");
        var packs = Keys("t/packs/");
        var segmentPath = Path.Combine(_bucketDir.Path, segments[0]);
        var bytes = File.ReadAllBytes(segmentPath);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(segmentPath, bytes);
        File.Delete(Path.Combine(_bucketDir.Path, packs[1]));

        using var reader = Open(new FileSystemObjectStore(_bucketDir.Path), null);
        Assert.Empty(ReadAll(reader, "t", api, new EntryQuery(Base, Base + Day), out _));
        var warning = Assert.Single(reader.KnownDamage("t", Base, Base + Day));
        Assert.Contains(segments[0], warning, StringComparison.Ordinal);
        Assert.Contains(_reports, r => r.Path == segments[0]);

        Assert.Empty(ReadAll(reader, "t", web, new EntryQuery(Base, Base + Day), out var warnings));
        Assert.Contains(packs[1], Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void TheChunkCacheStaysWithinItsBound()
    {
        using var store = Open(new FileSystemObjectStore(_bucketDir.Path), "ingester-0", cacheBytes: 3000);
        for (var i = 0; i < 20; i++)
        {
            var labels = Labels(("app", "a" + i));
            store.Write("t", [Chunk(labels, Lines(Base, Second, 50, "x" + i))]);
            Assert.Equal(50, ReadAll(store, "t", labels, new EntryQuery(Base, Base + Day), out _).Count);
        }

        var cached = Directory.EnumerateFiles(Path.Combine(_local.Path, "cache"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.InRange(cached, 1, 3000);
    }

    [Fact]
    public void TheCompactorsOperationsNeedACompactorEpochOnABucket()
    {
        using var store = Open(new FileSystemObjectStore(_bucketDir.Path), "ingester-0");
        Assert.Equal(0, store.SealClosedTables(DateTimeOffset.UtcNow.AddYears(10)));
        Assert.Throws<InvalidOperationException>(() => store.DeleteChunks("t", [(1, 8)]));
        Assert.Empty(store.UnreferencedPacks("t"));
    }

    [Fact]
    public async Task AFlushRetriesTransientFailuresAndTheHealthSaysWhileTheBucketIsDown()
    {
        var flaky = new FlakyStore(new FileSystemObjectStore(_bucketDir.Path));
        using var store = Open(flaky, "ingester-0");
        var api = Labels(("app", "api"));
        flaky.FailuresLeft = 2;

        // Two transient failures, then the put goes through: one flush, nothing lost.
        store.Write("t", [Chunk(api, Lines(Base, Second, 3))]);
        Assert.Equal(3, ReadAll(store, "t", api, new EntryQuery(Base, Base + Day), out _).Count);
        Assert.Equal(2, store.BucketHealth!.Failures["put"]);
        Assert.False(store.BucketHealth.Unreachable);

        // Down for longer than the attempts: the flush fails, the health says why, and the next flush goes through.
        flaky.FailuresLeft = int.MaxValue;
        var error = Assert.Throws<ObjectStoreException>(() => store.Write("t", [Chunk(api, Lines(Base + Second, Second, 2, "later"))]));
        Assert.True(error.IsTransient);
        Assert.StartsWith("object store unreachable (put): ", store.BucketHealth.Problem, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectStoreException>(() => store.RefreshAsync());
        Assert.StartsWith("object store unreachable (refresh): ", store.BucketHealth.Problem, StringComparison.Ordinal);

        flaky.FailuresLeft = 0;
        store.Write("t", [Chunk(api, Lines(Base + Second, Second, 2, "later"))]);
        Assert.Null(store.BucketHealth.Problem);
        Assert.Equal(5, ReadAll(store, "t", api, new EntryQuery(Base, Base + Day), out _).Count);
        Assert.Equal(2, Keys("t/packs/").Count);
    }

    [Fact]
    public async Task A_view_not_refreshed_for_two_resync_intervals_warns_every_query_until_a_refresh_succeeds()
    {
        var flaky = new FlakyStore(new FileSystemObjectStore(_bucketDir.Path));
        using var store = Open(flaky, null, resync: TimeSpan.FromMilliseconds(100));
        Assert.Empty(store.KnownDamage("t", Base, Base + Day));

        flaky.FailuresLeft = int.MaxValue;
        await Assert.ThrowsAsync<ObjectStoreException>(() => store.RefreshAsync());
        await Task.Delay(250);
        var warning = Assert.Single(store.KnownDamage("t", Base, Base + Day));
        Assert.Matches(@"^the object store index was last refreshed [0-9]+s ago \(resync_interval 0\.1s\): chunks other processes flushed since then may be missing$", warning);

        flaky.FailuresLeft = 0;
        await store.RefreshAsync();
        Assert.Empty(store.KnownDamage("t", Base, Base + Day));
    }

    [Fact]
    public async Task A_refresh_lists_prefixes_not_the_objects_under_them()
    {
        using (var writer = Open(new FileSystemObjectStore(_bucketDir.Path), "ingester-0"))
        {
            for (var i = 0; i < 5; i++)
            {
                writer.Write("t", [Chunk(Labels(("app", "api")), Lines(Base + (i * Second), Second, 2))]);
            }
        }

        var counting = new BucketFixture.CountingStore(new FileSystemObjectStore(_bucketDir.Path));
        using var reader = Open(counting, null);
        var before = counting.Listed;
        await reader.RefreshAsync();

        // One table: its segments are listed by the table's own refresh; no pack key is ever listed.
        Assert.DoesNotContain(counting.ListedKeys, k => k.Contains("/packs/", StringComparison.Ordinal));
        Assert.True(counting.Listed - before <= 5, $"{counting.Listed - before} keys listed for one table of 5 segments");
    }

    [Fact]
    public void AnInvalidWriterNameIsRefused() =>
        Assert.Throws<ArgumentException>(() => Open(new FileSystemObjectStore(_bucketDir.Path), "Ingester_0!"));

    private ChunkStore Open(IObjectStore objects, string? writer, long cacheBytes = 1 << 20, string cache = "cache", TimeSpan? resync = null) =>
        ChunkStore.OpenBucket(new StorageOptions { RootDirectory = Path.Combine(_local.Path, "chunks"), OnCorruption = _reports.Add }, objects,
            new BucketOptions
            {
                Writer = writer,
                ChunkCacheDirectory = Path.Combine(_local.Path, cache),
                ChunkCacheBytes = cacheBytes,
                MinBackoff = TimeSpan.FromMilliseconds(1),
                MaxBackoff = TimeSpan.FromMilliseconds(4),
                ResyncInterval = resync ?? TimeSpan.FromMinutes(5),
                StaleViewAfter = resync * 2,
            });

    /// <summary>Fails puts and listings transiently while <see cref="FailuresLeft"/> is above zero.</summary>
    private sealed class FlakyStore(IObjectStore inner) : IObjectStore
    {
        public int FailuresLeft { get; set; }

        public bool SupportsCreateOnly => inner.SupportsCreateOnly;

        public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
            TakeFailure() ? Task.FromException(Transient()) : inner.PutAsync(key, content, cancellationToken);

        public Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default) =>
            TakeFailure() ? Task.FromException(Transient()) : inner.PutAsync(key, content, cancellationToken);

        public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
            TakeFailure() ? Task.FromException<bool>(Transient()) : inner.TryCreateAsync(key, content, cancellationToken);

        public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(key, offset, destination, cancellationToken);

        public Task<long?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);

        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            FailuresLeft > 0 ? throw Transient() : inner.ListAsync(prefix, cancellationToken);

        public IAsyncEnumerable<string> ListPrefixesAsync(string prefix, CancellationToken cancellationToken = default) =>
            FailuresLeft > 0 ? throw Transient() : inner.ListPrefixesAsync(prefix, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public void Dispose() => inner.Dispose();

        private static ObjectStoreException Transient() =>
            new(ObjectStoreErrorKind.Transient, null, "S3 put failed: cannot reach http://127.0.0.1:1: Connection refused");

        private bool TakeFailure()
        {
            if (FailuresLeft <= 0)
            {
                return false;
            }

            FailuresLeft--;
            return true;
        }
    }

    private List<string> Keys(string prefix)
    {
        using var objects = new FileSystemObjectStore(_bucketDir.Path);
        return objects.ListAsync(prefix).ToBlockingEnumerable().Select(o => o.Key).ToList();
    }
}
