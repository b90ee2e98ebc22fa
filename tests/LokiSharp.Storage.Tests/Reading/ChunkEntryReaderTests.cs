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

    [Theory]
    [InlineData(long.MaxValue, null)]
    [InlineData(long.MaxValue, "odd")]
    [InlineData(Base + (700 * Second), null)]
    public void RunsHandOutWhatMoveNextWouldInTheSameOrder(long before, string? filter)
    {
        // Three chunks of one stream: two overlapping in time with shared timestamps, a third starting inside the first.
        var s = Labels(("app", "a"));
        var a = Chunk(s, Lines(Base, 2 * Second, 600, "even")).Chunk;
        var b = Chunk(s, Lines(Base, 3 * Second, 100, "odd")).Chunk;
        var c = Chunk(s, Lines(Base + (1000 * Second), Second, 300, "late odd")).Chunk;
        var query = new EntryQuery(Base + (5 * Second), Base + (1250 * Second), Filter: filter is null ? null : new LiteralPrefilter(filter));
        using var oneByOne = ChunkEntryReader.Open([a, b, c], query);
        var expected = Read(oneByOne);

        using var inRuns = ChunkEntryReader.Open([a, b, c], query);
        Assert.True(inRuns.HandsOutRuns);
        var read = new List<(long, string)>();
        var longest = 0;
        while (inRuns.MoveNext())
        {
            if (!inRuns.TryTakeRun(before, out var run))
            {
                Assert.True(inRuns.Current.Timestamp >= before || expected[read.Count].Item1 == expected[read.Count + 1].Item1);
                read.Add((inRuns.Current.Timestamp, System.Text.Encoding.UTF8.GetString(inRuns.Current.Line)));
                continue;
            }

            longest = Math.Max(longest, run.End - run.Start);
            for (var i = run.Start; i < run.End; i++)
            {
                var entry = run.Block[i];
                Assert.True(entry.Timestamp < before);
                if (run.Filter is null || run.Filter.Matches(entry.Line))
                {
                    read.Add((entry.Timestamp, System.Text.Encoding.UTF8.GetString(entry.Line)));
                }
            }
        }

        Assert.Equal(expected, read);
        Assert.True(longest > 1);
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
