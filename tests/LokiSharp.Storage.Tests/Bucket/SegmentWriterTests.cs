using LokiSharp.Storage.Bucket;
using static LokiSharp.Storage.Tests.Bucket.BucketFixture;

namespace LokiSharp.Storage.Tests.Bucket;

public sealed class SegmentWriterTests : IDisposable
{
    private readonly BucketFixture _bucket = new();

    public void Dispose() => _bucket.Dispose();

    [Fact]
    public async Task ARestartedWriterNeverReusesAKey()
    {
        var first = new SegmentWriter(_bucket.Store, "write-0");
        var keys = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            keys.Add(await _bucket.WriteAsync(first, (App("a"), Chunk(i + 1))));
        }

        // The restart, same name: its sequences start above the clock, so above everything before.
        var restarted = new SegmentWriter(_bucket.Store, "write-0");
        keys.Add(await _bucket.WriteAsync(restarted, (App("a"), Chunk(10))));

        Assert.Equal(4, keys.Distinct().Count());
        Assert.Equal(keys, keys.Order(StringComparer.Ordinal));
        using var reader = _bucket.Reader();
        await reader.RefreshAsync();
        Assert.Equal(4, reader.Index.ChunkCount);
    }

    [Fact]
    public async Task WithCreateOnlyAClockGoneBackSkipsTakenKeys()
    {
        var before = new SegmentWriter(_bucket.Store, "write-0", clock: () => 1000);
        var k1 = await _bucket.WriteAsync(before, (App("a"), Chunk(1)));
        var k2 = await _bucket.WriteAsync(before, (App("a"), Chunk(2)));

        // Restarted with the clock set back: the keys it computes first are taken, and are not overwritten.
        var after = new SegmentWriter(_bucket.Store, "write-0", clock: () => 1000);
        var k3 = await _bucket.WriteAsync(after, (App("a"), Chunk(3)));

        Assert.Equal(BucketKeys.Segment(Tenant, Table, "write-0", 1000), k1);
        Assert.Equal(BucketKeys.Segment(Tenant, Table, "write-0", 1001), k2);
        Assert.Equal(BucketKeys.Segment(Tenant, Table, "write-0", 1002), k3);
        using var reader = _bucket.Reader();
        await reader.RefreshAsync();
        Assert.Equal([("write-0", 1L, 8L), ("write-0", 2L, 8L), ("write-0", 3L, 8L)], _bucket.ChunksOf(reader).Order());
    }

    [Fact]
    public async Task WithoutCreateOnlySegmentsArePlainPuts()
    {
        _bucket.Store.CreateOnlyDisabled = true;
        var writer = new SegmentWriter(_bucket.Store, "write-0", clock: () => 5);
        var key = await _bucket.WriteAsync(writer, (App("a"), Chunk(1)));

        Assert.Equal(BucketKeys.Segment(Tenant, Table, "write-0", 5), key);
        Assert.Equal(6, writer.NextSequence());
    }

    [Fact]
    public void SequencesIncreaseEvenWhenTheClockStands()
    {
        var now = 100L;
        var writer = new SegmentWriter(_bucket.Store, "write-0", clock: () => now);
        Assert.Equal(100, writer.NextSequence());
        Assert.Equal(101, writer.NextSequence());
        now = 500;
        Assert.Equal(500, writer.NextSequence());
        now = 50;
        Assert.Equal(501, writer.NextSequence());
    }

    [Theory]
    [InlineData("loki-write-0", null)]
    [InlineData("ingester.zone-a_1", null)]
    [InlineData("", "empty")]
    [InlineData("Loki-Write-0", "lower-case")]
    [InlineData("-write", "start and end")]
    [InlineData("write.", "start and end")]
    [InlineData("a/b", "lower-case")]
    [InlineData("compactor", "reserved")]
    public void WriterNamesAreOneSafeKeySegment(string name, string? problem)
    {
        var found = WriterName.Problem(name);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found);
        }

        Assert.Null(WriterName.Problem(WriterName.Compactor, allowReserved: true));
        Assert.NotNull(WriterName.Problem(new string('a', WriterName.MaxLength + 1)));
    }

    [Fact]
    public void TheCompactorsSegmentsCarryItsEpoch()
    {
        Assert.Throws<ArgumentException>(() => new SegmentWriter(_bucket.Store, WriterName.Compactor));
        Assert.Throws<ArgumentException>(() => new SegmentWriter(_bucket.Store, "Bad Name"));
    }
}
