using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Index;
using static LokiSharp.Storage.Tests.Bucket.BucketFixture;

namespace LokiSharp.Storage.Tests.Bucket;

public sealed class BucketIndexReaderTests : IDisposable
{
    private readonly BucketFixture _bucket = new();

    public void Dispose() => _bucket.Dispose();

    [Fact]
    public async Task TwoWritersSegmentsAreMergedAndTheirEqualPackIdsStayApart()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        var w1 = new SegmentWriter(_bucket.Store, "write-1");

        // Both writers happen to use pack id 7: a chunk's identity in the bucket includes its writer.
        await _bucket.WriteAsync(w0, (App("shop"), Chunk(7)), (App("cart"), Chunk(7, offset: 108)));
        await _bucket.WriteAsync(w1, (App("shop"), Chunk(7)));

        using var reader = _bucket.Reader();
        var refresh = await reader.RefreshAsync();

        Assert.Equal(2, refresh.SegmentsLoaded);
        Assert.Equal(2, reader.Index.SeriesCount);
        Assert.Equal(3, reader.Index.ChunkCount);
        Assert.Equal(
            [("write-0", 7L, 8L), ("write-0", 7L, 108L), ("write-1", 7L, 8L)],
            _bucket.ChunksOf(reader).Order());
        Assert.Equal((PeriodStart, TestData.Day), reader.Period);
        Assert.Empty(_bucket.Damage);
    }

    [Fact]
    public async Task CoveredSegmentsAreIgnoredAndTheGenerationIsLoaded()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        var w1 = new SegmentWriter(_bucket.Store, "write-1");
        await _bucket.WriteAsync(w0, (App("a"), Chunk(1)));
        var second = await _bucket.WriteAsync(w0, (App("b"), Chunk(2)));
        var uncovered = await _bucket.WriteAsync(w1, (App("c"), Chunk(3)));
        BucketKeys.TryParseSegment(second, BucketKeys.SegmentsPrefix(Tenant, Table), out _, out var secondSeq);

        // The generation covers write-0's two segments; it lists chunk 1 only (chunk 2 was deleted), so loading
        // the covered segment again would bring chunk 2 back.
        await _bucket.PutGenerationAsync(1, 42, new() { ["write-0"] = secondSeq }, (App("a"), "write-0", Chunk(1)));

        using var reader = _bucket.Reader();
        await reader.RefreshAsync();

        Assert.Equal(BucketKeys.Generation(Tenant, Table, 1, 42), reader.GenerationKey);
        Assert.Equal([uncovered], reader.LoadedSegments);
        Assert.Equal([("write-0", 1L, 8L), ("write-1", 3L, 8L)], _bucket.ChunksOf(reader).Order());
    }

    [Fact]
    public async Task TheNewestGenerationWinsAndANewOneRebuildsTheTable()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        var s1 = await _bucket.WriteAsync(w0, (App("a"), Chunk(1)));
        var s2 = await _bucket.WriteAsync(w0, (App("b"), Chunk(2)));
        using var reader = _bucket.Reader();
        await reader.RefreshAsync();
        Assert.Equal(2, reader.Index.ChunkCount);

        // Generation 1 (an older compactor epoch) and generation 2 both appear; 2 covers both segments and
        // dropped chunk 1.
        var prefix = BucketKeys.SegmentsPrefix(Tenant, Table);
        BucketKeys.TryParseSegment(s1, prefix, out _, out var seq1);
        BucketKeys.TryParseSegment(s2, prefix, out _, out var seq2);
        await _bucket.PutGenerationAsync(1, 99, new() { ["write-0"] = seq1 }, (App("a"), "write-0", Chunk(1)));
        await _bucket.PutGenerationAsync(2, 50, new() { ["write-0"] = seq2 }, (App("b"), "write-0", Chunk(2)));
        var before = reader.Index;

        var refresh = await reader.RefreshAsync();

        Assert.True(refresh.Rebuilt);
        Assert.NotSame(before, reader.Index);
        Assert.Equal(BucketKeys.Generation(Tenant, Table, 2, 50), reader.GenerationKey);
        Assert.Empty(reader.LoadedSegments);
        Assert.Equal([("write-0", 2L, 8L)], _bucket.ChunksOf(reader));
        Assert.Equal(2, before.ChunkCount); // left intact for queries still reading it
    }

    [Fact]
    public async Task IncrementalRefreshLoadsOnlyNewSegments()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        await _bucket.WriteAsync(w0, (App("a"), Chunk(1)));
        await _bucket.WriteAsync(w0, (App("a"), Chunk(2)));
        using var reader = _bucket.Reader();
        Assert.Equal(2, (await reader.RefreshAsync()).SegmentsLoaded);
        var gets = _bucket.Store.Gets;
        var index = reader.Index;

        Assert.Equal(new BucketRefresh(0, false), await reader.RefreshAsync());
        Assert.Equal(gets, _bucket.Store.Gets);

        await _bucket.WriteAsync(new SegmentWriter(_bucket.Store, "write-1"), (App("b"), Chunk(1)));
        var refresh = await reader.RefreshAsync();

        Assert.Equal(new BucketRefresh(1, false), refresh);
        Assert.Equal(gets + 1, _bucket.Store.Gets);
        Assert.Same(index, reader.Index);
        Assert.Equal(3, reader.Index.ChunkCount);
    }

    [Fact]
    public async Task DamagedSegmentsAreReportedOnceAndSkipped()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        await _bucket.WriteAsync(w0, (App("good"), Chunk(1)));
        var encoded = w0.Encode(w0.NextSequence(), PeriodStart, TestData.Day, [(App("x"), Chunk(2))], [], []);
        var prefix = BucketKeys.SegmentsPrefix(Tenant, Table);

        // A flipped byte (record CRC), a cut inside a record, a cut between records (end record missing), a foreign
        // object, and a valid segment under another writer's key.
        var flipped = (byte[])encoded.Clone();
        flipped[^20] ^= 0x40;
        // The end record: record header, type, varint of the length before it (one byte below 128).
        var endRecordLength = encoded.Length - 10 < 128 ? 10 : 11;
        var damaged = new Dictionary<string, byte[]>
        {
            [BucketKeys.Segment(Tenant, Table, "write-0", 0x100)] = flipped,
            [BucketKeys.Segment(Tenant, Table, "write-0", 0x101)] = encoded[..^5],
            [BucketKeys.Segment(Tenant, Table, "write-0", 0x102)] = encoded[..^endRecordLength],
            [BucketKeys.Segment(Tenant, Table, "write-0", 0x103)] = "not an index"u8.ToArray(),
            [BucketKeys.Segment(Tenant, Table, "write-9", 0x104)] = encoded,
        };
        foreach (var (key, bytes) in damaged)
        {
            await _bucket.Store.PutAsync(key, bytes);
        }

        using var reader = _bucket.Reader();
        var refresh = await reader.RefreshAsync();

        Assert.Equal(1, refresh.SegmentsLoaded);
        Assert.Equal(5, refresh.Damaged);
        Assert.Equal([("write-0", 1L, 8L)], _bucket.ChunksOf(reader));
        Assert.Equal(damaged.Keys.Order(), _bucket.Damage.Select(d => d.Key).Order());
        Assert.Contains("end record missing", reader.Damaged[BucketKeys.Segment(Tenant, Table, "write-0", 0x102)]);
        Assert.Contains("does not match its key", reader.Damaged[BucketKeys.Segment(Tenant, Table, "write-9", 0x104)]);
        Assert.All(damaged.Keys, k => Assert.True(BucketKeys.TryParseSegment(k, prefix, out _, out _)));

        var gets = _bucket.Store.Gets;
        Assert.Equal(new BucketRefresh(0, false), await reader.RefreshAsync());
        Assert.Equal(5, _bucket.Damage.Count);
        Assert.Equal(gets, _bucket.Store.Gets);
    }

    [Fact]
    public async Task ADamagedGenerationFallsBackToTheOlderOne()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        var s1 = await _bucket.WriteAsync(w0, (App("a"), Chunk(1)));
        BucketKeys.TryParseSegment(s1, BucketKeys.SegmentsPrefix(Tenant, Table), out _, out var seq1);
        await _bucket.PutGenerationAsync(1, 5, new() { ["write-0"] = seq1 }, (App("a"), "write-0", Chunk(1)));
        var broken = GenerationFile.Encode(PeriodStart, TestData.Day, 2, 5, new Dictionary<string, long>(), []);
        await _bucket.Store.PutAsync(BucketKeys.Generation(Tenant, Table, 2, 5), broken[..^3]);

        using var reader = _bucket.Reader();
        await reader.RefreshAsync();

        Assert.Equal(BucketKeys.Generation(Tenant, Table, 1, 5), reader.GenerationKey);
        Assert.Single(_bucket.Damage);
        Assert.Equal([("write-0", 1L, 8L)], _bucket.ChunksOf(reader));
    }

    [Fact]
    public async Task CompactorTombstonesAndReplacementsApplyAcrossWriters()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        await _bucket.WriteAsync(w0, (App("a"), Chunk(1)), (App("a"), Chunk(1, offset: 108)), (App("b"), Chunk(2)));
        using var reader = _bucket.Reader();
        await reader.RefreshAsync();
        var compactor = new SegmentWriter(_bucket.Store, WriterName.Compactor, epoch: 77);

        // A rewrite: the replacement alone does not commit (no tombstone of the replaced chunk yet) ...
        await compactor.WriteAsync(Tenant, Table, PeriodStart, TestData.Day, [],
            [(App("a"), Chunk(500), new BucketChunkKey("write-0", 1, 8))], []);
        await reader.RefreshAsync();
        Assert.Equal(3, reader.Index.ChunkCount);

        // ... its tombstone does; a plain delete removes write-0's chunk 2.
        await compactor.WriteAsync(Tenant, Table, PeriodStart, TestData.Day, [], [],
            [new BucketChunkKey("write-0", 1, 8), new BucketChunkKey("write-0", 2, 8)]);
        await reader.RefreshAsync();

        Assert.Equal([("compactor", 500L, 8L), ("write-0", 1L, 108L)], _bucket.ChunksOf(reader).Order());

        // A fresh reader loading everything in one go (the compactor's segments sort before write-0's) agrees.
        using var fresh = new BucketIndexReader(_bucket.Store, Tenant, Table, _bucket.Packs, null);
        await fresh.RefreshAsync();
        Assert.Equal(_bucket.ChunksOf(reader).Order(), _bucket.ChunksOf(fresh).Order());
        Assert.Empty(_bucket.Damage);
    }

    [Fact]
    public async Task LocalIndexReadersRefuseBucketObjects()
    {
        var w0 = new SegmentWriter(_bucket.Store, "write-0");
        var bytes = w0.Encode(1, PeriodStart, TestData.Day, [(App("a"), Chunk(1))], [], []);

        var e = Assert.Throws<LokiSharp.Storage.Chunks.ChunkCorruptException>(() =>
            IndexFile.Read(bytes, out _, out _, null, (_, _) => { }, out _));
        Assert.Contains("bucket object", e.Message);
    }
}
