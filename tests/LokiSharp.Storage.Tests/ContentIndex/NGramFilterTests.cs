using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Tests.Chunks;

namespace LokiSharp.Storage.Tests.ContentIndex;

public sealed class NGramFilterTests
{
    [Fact]
    public void NoFalseNegativesForAnySubstringOfAnyLine()
    {
        var rng = new Random(21);
        var entries = ChunkRoundTripTests.RandomEntries(21, 600, adversarial: true);
        var chunk = ChunkRoundTripTests.Build(entries, ChunkEncoding.Zstd, 64 * 1024, 0.5);
        var layout = ChunkLayout.Parse(chunk);
        Assert.Contains(layout.Blocks, b => b.FilterSize > 0);
        var index = 0;
        foreach (var block in layout.Blocks)
        {
            var filter = ChunkLayout.FilterOf(chunk, block);
            for (var i = 0; i < block.EntryCount; i++, index++)
            {
                var line = entries[index].Line;
                for (var k = 0; k < 3 && line.Length > 0; k++)
                {
                    var start = rng.Next(line.Length);
                    var length = rng.Next(1, Math.Min(40, line.Length - start) + 1);
                    Assert.True(NGramFilter.MayContain(filter, line.AsSpan(start, length)));
                }
            }
        }
    }

    [Fact]
    public void AbsentWordsAreUsuallyRejectedAndFiltersStayWithinBudget()
    {
        using var builder = new ChunkBuilder(ChunkEncoding.Snappy);
        var rng = new Random(5);
        for (var i = 0; i < 20_000; i++)
        {
            builder.Append(i, $"ts={i} level=info caller=server.go:{rng.Next(900)} msg=\"served request\" path=/api/v1/push status=204 duration={rng.Next(100)}ms");
        }

        using var output = new PooledBufferWriter();
        builder.Finish(output);
        var chunk = output.WrittenSpan.ToArray();
        var layout = ChunkLayout.Parse(chunk);
        long filterBytes = 0, payload = 0;
        var rejected = 0;
        foreach (var block in layout.Blocks)
        {
            filterBytes += block.FilterSize;
            payload += block.CompressedSize;
            var filter = ChunkLayout.FilterOf(chunk, block);
            Assert.True(NGramFilter.MayContain(filter, "served request"u8));
            Assert.True(NGramFilter.MayContain(filter, "ver.go:1"u8));
            if (!NGramFilter.MayContain(filter, "declined"u8))
            {
                rejected++;
            }
        }

        Assert.True(filterBytes <= payload * 0.03, $"{filterBytes} filter bytes for {payload} payload bytes");
        Assert.Equal(layout.Blocks.Count, rejected);
    }

    [Fact]
    public void ShortAndDigitOnlyLiteralsNeverSkip()
    {
        byte[] filter = new byte[64];
        Assert.True(NGramFilter.MayContain(filter, "abc"u8));
        Assert.True(NGramFilter.MayContain(filter, "12345678"u8));
        Assert.False(NGramFilter.MayContain(filter, "abcd"u8));
        Assert.True(NGramFilter.MayContain([], "abcd"u8));
    }
}
