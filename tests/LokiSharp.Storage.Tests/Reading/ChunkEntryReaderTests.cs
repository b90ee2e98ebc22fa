using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Reading;
using static LokiSharp.Storage.Tests.TestData;

namespace LokiSharp.Storage.Tests.Reading;

public sealed class ChunkEntryReaderTests
{
    private static List<(long, string)> Read(IEntryIterator it)
    {
        var result = new List<(long, string)>();
        while (it.MoveNext())
        {
            result.Add((it.Current.Timestamp, System.Text.Encoding.UTF8.GetString(it.Current.Line)));
        }

        return result;
    }

    [Fact]
    public void InMemoryChunksMergeInBothDirections()
    {
        var s = Labels(("app", "a"));
        var a = Chunk(s, Lines(Base, 2 * Second, 1000, "even")).Chunk;
        var b = Chunk(s, Lines(Base + Second, 2 * Second, 1000, "odd")).Chunk;
        using var forward = ChunkEntryReader.Open([a, b], new EntryQuery(Base, Base + Day));
        var f = Read(forward);
        Assert.Equal(2000, f.Count);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => Base + (i * Second)), f.Select(e => e.Item1));

        using var backward = ChunkEntryReader.Open([a, b], new EntryQuery(Base + (10 * Second), Base + (20 * Second),
            Direction.Backward, new LiteralPrefilter("odd")));
        var r = Read(backward);
        Assert.Equal([19, 17, 15, 13, 11], r.Select(e => (int)((e.Item1 - Base) / Second)));
    }

    [Fact]
    public void CorruptInMemoryChunkIsAWarning()
    {
        var s = Labels(("app", "a"));
        var good = Chunk(s, Lines(Base, Second, 10)).Chunk;
        var bad = Chunk(s, Lines(Base, Second, 10)).Chunk.ToArray();
        bad[^1] ^= 0xFF;
        using var it = ChunkEntryReader.Open([good, bad], new EntryQuery(Base, Base + Day));
        Assert.Equal(10, Read(it).Count);
        Assert.Single(it.Warnings);
        Assert.Equal(1, it.Stats.Corrupt);
    }
}
