using System.Globalization;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Tests.ContentIndex;

/// <summary>
/// Filters get budgets that keep needles away from the blocks without them: under codecs picked for size, which compress a
/// block to about half what snappy does, and for small blocks under every codec.
/// </summary>
public sealed class SizePickedFilterBudgetTests
{
    [Fact]
    public void AbsentRequestIdsPassFewZstdBlocksOfJsonLines()
    {
        // The reference logs' id-heavy streams: every line a JSON object with a 16-hex-digit request id. zstd compresses such
        // a block to about a tenth of its raw size, so a budget of 7% of that folded its ids to one bit per gram (over 80%
        // full: no id filter at all), and 84% of absent ids read each block.
        var chunk = JsonChunk(ChunkEncoding.Zstd, seed: 5, lines: 12_000);
        var blocks = ChunkLayout.Parse(chunk).Blocks;
        Assert.True(blocks.Count >= 6, $"{blocks.Count} blocks");
        var absent = new Random(11);
        int passed = 0, tested = 0;
        foreach (var block in blocks)
        {
            var (text, ids) = (ChunkLayout.FilterOf(chunk, block).ToArray(), ChunkLayout.IdFilterOf(chunk, block).ToArray());
            for (var k = 0; k < 2000; k++)
            {
                tested++;
                var id = absent.NextInt64().ToString("x16", CultureInfo.InvariantCulture);
                passed += new LiteralPrefilter(id).MayMatchBlock(text, ids) ? 1 : 0;
            }
        }

        // A budget of 7% of 18% of the raw block: filters about 55% full, through which about 0.6% pass.
        Assert.True(passed * 50 < tested, $"{passed} of {tested} absent ids passed");
    }

    [Theory]
    [InlineData(ChunkEncoding.Zstd)]
    [InlineData(ChunkEncoding.Snappy)]
    [InlineData(ChunkEncoding.Lz4_64K)]
    public void SmallBlocksGetATextFilter(ChunkEncoding encoding)
    {
        // A flushed tail of 60 templated lines compresses to 1-2 KB, under the 64 bytes (the smallest filter) that 3% of it
        // makes; it had no text filter, so every needle decoded it.
        using var builder = new ChunkBuilder(encoding);
        var rng = new Random(2);
        for (var i = 0; i < 60; i++)
        {
            builder.Append(i, $"level=info msg=\"served request\" path=/api/orders status={200 + rng.Next(4)} duration={rng.Next(900)}ms");
        }

        using var output = new PooledBufferWriter();
        builder.Finish(output);
        var chunk = output.WrittenSpan.ToArray();
        var block = ChunkLayout.Parse(chunk).Blocks[0];
        Assert.True(block.CompressedSize * 0.03 < 64, $"{block.CompressedSize} compressed bytes");
        Assert.Equal(64, block.FilterSize);
        Assert.True(NGramFilter.MayContain(ChunkLayout.FilterOf(chunk, block), "served request"u8));
        Assert.False(NGramFilter.MayContain(ChunkLayout.FilterOf(chunk, block), "payment declined"u8));
    }

    private static byte[] JsonChunk(ChunkEncoding encoding, int seed, int lines)
    {
        var rng = new Random(seed);
        using var builder = new ChunkBuilder(encoding);
        string[] messages = ["request finished", "inventory updated", "user logged in", "payment declined", "template rendered"];
        for (var i = 0; i < lines; i++)
        {
            var id = rng.NextInt64().ToString("x16", CultureInfo.InvariantCulture);
            builder.Append(i, $"{{\"level\":\"debug\",\"message\":\"{messages[rng.Next(messages.Length)]}\",\"logger\":\"shop.views\"," +
                $"\"status\":{200 + rng.Next(4)},\"duration_ms\":{rng.NextDouble() * 900:F2},\"user\":{{\"id\":{rng.Next(500)}," +
                $"\"plan\":\"{(rng.Next(2) == 0 ? "free" : "gold")}\"}},\"request_id\":\"{id}\"}}");
        }

        using var output = new PooledBufferWriter();
        builder.Finish(output);
        return output.WrittenSpan.ToArray();
    }
}
