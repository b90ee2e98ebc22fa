using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using static LokiSharp.Storage.Tests.TestData;

namespace LokiSharp.Storage.Tests.Bucket;

/// <summary>
/// The compactor's operations on a bucket (a <see cref="FileSystemObjectStore"/>): tombstone and replacement segments of
/// writer <c>compactor</c>, rewrites committed by their first tombstone whatever the crash point, packs collected only
/// when unreferenced.
/// </summary>
public sealed class BucketMaintenanceTests : IDisposable
{
    private const long Epoch = 0x0123_4567_89ab_cdef;
    private static readonly LogQL.Labels.LabelSet Api = Labels(("app", "api"));

    private readonly TempDirectory _bucketDir = new();
    private readonly TempDirectory _local = new();
    private readonly List<StorageCorruption> _reports = [];
    private int _caches;

    public void Dispose()
    {
        _bucketDir.Dispose();
        _local.Dispose();
    }

    [Fact]
    public async Task DeletedChunksLeaveTheCompactorAtOnceAndEveryTableOfOtherReadersAfterTheirRefresh()
    {
        using var writer = Open("ingester-0", null);
        // Spans two daily tables: the tombstone goes to both.
        writer.Write("t", [Chunk(Api, Lines(Base + Day - (5 * Second), Second, 10))]);
        writer.Write("t", [Chunk(Labels(("app", "web")), Lines(Base, Second, 3, "web"))]);
        using var compactor = Open(null, Epoch);
        using var reader = Open(null, null);
        Assert.False(compactor.ReadOnly);
        var spanning = compactor.ListChunks("t").Single(c => c.Labels.Get("app") == "api").Chunk;

        Assert.Equal(1, compactor.DeleteChunks("t", [spanning.Key]));
        Assert.Equal(0, compactor.DeleteChunks("t", [spanning.Key]));
        Assert.Equal("web", Assert.Single(compactor.ListChunks("t")).Labels.Get("app"));
        Assert.Empty(ReadAll(compactor, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out _));
        Assert.Equal(2, Keys("t/index/").Count(k => k.Contains("/segments/compactor/", StringComparison.Ordinal)));

        Assert.Equal(10, ReadAll(reader, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out _).Count);
        await reader.RefreshAsync();
        Assert.Empty(ReadAll(reader, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out _));
        Assert.Single(reader.ListChunks("t"));

        // The writer's own process too, and a process that starts now.
        await writer.RefreshAsync();
        Assert.Single(writer.ListChunks("t"));
        using var fresh = Open(null, null);
        Assert.Single(fresh.ListChunks("t"));
        Assert.Empty(_reports);
    }

    [Fact]
    public void OnlyAProcessWithACompactorEpochMayDeleteOrRewrite()
    {
        using var writer = Open("ingester-0", null);
        writer.Write("t", [Chunk(Api, Lines(Base, Second, 3))]);
        var chunk = writer.ListChunks("t")[0].Chunk;
        Assert.Throws<InvalidOperationException>(() => writer.DeleteChunks("t", [chunk.Key]));
        using var reader = Open(null, null);
        Assert.Throws<InvalidOperationException>(() => reader.DeleteChunks("t", [chunk.Key]));
    }

    // Hook calls of a two-table rewrite: replace A, replace B, tombstone A, tombstone B. A crash before call n.
    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public async Task ARewriteIsAllOrNothingForReadersAtEveryCrashPointAndARerunFinishesIt(int crashAt, bool committed)
    {
        using (var writer = Open("ingester-0", null))
        {
            writer.Write("t", [Chunk(Api, Lines(Base + Day - (5 * Second), Second, 10))]);
        }

        using var compactor = Open(null, Epoch);
        var old = Assert.Single(compactor.ListChunks("t")).Chunk;
        var calls = 0;
        compactor.MaintenanceHook = (_, _) =>
        {
            if (calls++ == crashAt)
            {
                throw new IOException("injected crash");
            }
        };
        var kept = Chunk(Api, Lines(Base + Day - (5 * Second), 2 * Second, 5));
        if (crashAt < 4)
        {
            Assert.Throws<IOException>(() => compactor.ReplaceChunk("t", Api, old, kept));
        }
        else
        {
            compactor.ReplaceChunk("t", Api, old, kept);
        }

        // Another process sees the old chunk or the new one, never both or a mix.
        using (var reader = Open(null, null))
        {
            Assert.Equal(committed ? 5 : 10, ReadAll(reader, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out var warnings).Count);
            Assert.Empty(warnings);
            Assert.Single(reader.ListChunks("t"));
        }

        Assert.Equal(committed ? 5 : 10, ReadAll(compactor, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out _).Count);

        // The rerun (the delete request is still pending when the crash came before its commit) finishes it once.
        compactor.MaintenanceHook = null;
        if (!committed)
        {
            compactor.ReplaceChunk("t", Api, Assert.Single(compactor.ListChunks("t")).Chunk, kept);
        }

        using var after = Open(null, null);
        await after.RefreshAsync();
        Assert.Equal(5, ReadAll(after, "t", Api, new EntryQuery(Base, Base + (3 * Day)), out _).Count);
        Assert.Single(after.ListChunks("t"));
        Assert.Single(compactor.ListChunks("t"));
        Assert.Empty(_reports);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ARewriteAnotherCompactorLeftHalfDoneIsRepairedAtOnceWhenNoOtherCompactorIsAlive(bool sole)
    {
        using (var writer = Open("ingester-0", null))
        {
            writer.Write("t", [Chunk(Api, Lines(Base, Second, 10))]);
        }

        var kept = Chunk(Api, Lines(Base, 2 * Second, 5));
        using (var crashed = Open(null, Epoch))
        {
            crashed.MaintenanceHook = (step, _) =>
            {
                if (step == "tombstone")
                {
                    throw new IOException("injected crash");
                }
            };
            Assert.Throws<IOException>(() => crashed.ReplaceChunk("t", Api, crashed.ListChunks("t")[0].Chunk, kept));
        }

        // The restarted compactor reruns the delete request.
        using var compactor = Open(null, Epoch + 1);
        compactor.SoleCompactor = sole;
        compactor.ReplaceChunk("t", Api, Assert.Single(compactor.ListChunks("t")).Chunk, kept);
        using var reader = Open(null, null);
        // Sole: the first attempt's replacement was tombstoned, one chunk. Not sole (another compactor host beats, it
        // could still be mid-rewrite, and the replacement is younger than the settle time): both replacements commit,
        // and the store returns the kept lines twice - the documented limit (docs/formats/bucket.md).
        Assert.Equal(sole ? 5 : 10, ReadAll(reader, "t", Api, new EntryQuery(Base, Base + Day), out _).Count);
        Assert.Equal(sole ? 1 : 2, reader.ListChunks("t").Count);
    }

    [Fact]
    public void PacksNoChunkReferencesAreListedAndDeletedOnlyWhileUnreferenced()
    {
        using var writer = Open("ingester-0", null);
        writer.Write("t", [Chunk(Api, Lines(Base, Second, 3))]);
        writer.Write("t", [Chunk(Api, Lines(Base + (10 * Second), Second, 3))]);
        using var compactor = Open(null, Epoch);
        Assert.Empty(compactor.UnreferencedPacks("t"));
        var chunks = compactor.ListChunks("t");
        var packs = Keys("t/packs/ingester-0/");
        Assert.Equal(2, packs.Count);

        compactor.DeleteChunks("t", [chunks[0].Chunk.Key]);
        var unreferenced = Assert.Single(compactor.UnreferencedPacks("t"));
        Assert.StartsWith("ingester-0/", unreferenced.MarkName, StringComparison.Ordinal);
        Assert.True(unreferenced.Bytes > 0);

        // A name that does not parse, and a referenced pack, are left alone.
        Assert.Equal(0, compactor.DeletePackIfUnreferenced("t", "ingester-0/zz"));
        var referenced = packs.Select(k => k["t/packs/".Length..^PackFiles.Suffix.Length]).Single(n => n != unreferenced.MarkName);
        Assert.Equal(0, compactor.DeletePackIfUnreferenced("t", referenced));
        Assert.Equal(unreferenced.Bytes, compactor.DeletePackIfUnreferenced("t", unreferenced.MarkName));
        Assert.Single(Keys("t/packs/"));
        Assert.Equal(0, compactor.DeletePackIfUnreferenced("t", unreferenced.MarkName));
        Assert.Equal(3, ReadAll(compactor, "t", Api, new EntryQuery(Base, Base + Day), out _).Count);
    }

    [Fact]
    public async Task APackNoObjectListsIsCollectedOnlyOnceOlderThanTheSettleTime()
    {
        using var writer = Open("ingester-0", null);
        writer.Write("t", [Chunk(Api, Lines(Base, Second, 3))]);
        using var compactor = Open(null, Epoch);

        // Another writer between its pack and its segment (a fresh sequence), and a crash leftover (an old one).
        using var objects = new FileSystemObjectStore(_bucketDir.Path);
        var pending = BucketKeys.Pack("t", "ingester-1", DateTime.UtcNow.Ticks);
        var leftover = BucketKeys.Pack("t", "ingester-1", DateTime.UtcNow.AddMinutes(-11).Ticks);
        await objects.PutAsync(pending, new byte[] { 1 });
        await objects.PutAsync(leftover, new byte[] { 2 });
        var name = Assert.Single(compactor.UnreferencedPacks("t")).MarkName;
        Assert.Equal(leftover, $"t/packs/{name}.pack");
        Assert.Equal(0, compactor.DeletePackIfUnreferenced("t", pending["t/packs/".Length..^PackFiles.Suffix.Length]));
        Assert.Equal(1, compactor.DeletePackIfUnreferenced("t", name));
        Assert.Equal(2, Keys("t/packs/").Count);
    }

    [Fact]
    public async Task NoPackOfATenantIsCollectedWhileOneOfItsTablesIsDamaged()
    {
        using var writer = Open("ingester-0", null);
        writer.Write("t", [Chunk(Api, Lines(Base, Second, 3))]);
        writer.Write("t", [Chunk(Api, Lines(Base + (10 * Second), Second, 3))]);
        using var compactor = Open(null, Epoch);
        compactor.DeleteChunks("t", [compactor.ListChunks("t")[0].Chunk.Key]);
        var name = Assert.Single(compactor.UnreferencedPacks("t")).MarkName;

        using var objects = new FileSystemObjectStore(_bucketDir.Path);
        await objects.PutAsync(BucketKeys.Segment("t", "index_19723", "ingester-1", 5), new byte[] { 1, 2, 3 });
        await compactor.RefreshAsync();
        Assert.Single(_reports);
        Assert.Empty(compactor.UnreferencedPacks("t"));
        Assert.Equal(0, compactor.DeletePackIfUnreferenced("t", name));
        Assert.Equal(2, Keys("t/packs/").Count);
    }

    private List<string> Keys(string prefix)
    {
        using var objects = new FileSystemObjectStore(_bucketDir.Path);
        return objects.ListAsync(prefix).ToBlockingEnumerable().Select(i => i.Key).ToList();
    }

    private ChunkStore Open(string? writer, long? epoch) =>
        ChunkStore.OpenBucket(new StorageOptions { RootDirectory = Path.Combine(_local.Path, "chunks"), OnCorruption = _reports.Add },
            new FileSystemObjectStore(_bucketDir.Path),
            new BucketOptions
            {
                Writer = writer,
                CompactorEpoch = epoch,
                ChunkCacheDirectory = Path.Combine(_local.Path, "cache" + Interlocked.Increment(ref _caches)),
                MinBackoff = TimeSpan.FromMilliseconds(1),
                MaxBackoff = TimeSpan.FromMilliseconds(4),
            });
}
