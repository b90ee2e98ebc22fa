using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Tests.ContentIndex;

/// <summary>A block's filters are as large as its budget (a share of its compressed size) allows, whatever its codec made of it.</summary>
public sealed class FilterBudgetTests
{
    [Theory]
    [InlineData(ChunkEncoding.Snappy)]
    [InlineData(ChunkEncoding.Zstd)]
    [InlineData(ChunkEncoding.Lz4_256K)]
    [InlineData(ChunkEncoding.None)]
    public void AFullBlockOfShortIncompressibleLinesGetsTheFiltersItsBudgetAllows(ChunkEncoding encoding)
    {
        // 8-byte lines of random printable ASCII hardly compress, and the block's timestamp and length columns take its raw
        // bytes well past the target it was cut at: its compressed size, and so its budget, is over what a block of the target
        // size that did not compress at all would get. Its filters must be those of a build at full width, at its budget (from
        // scratches sized for such a block, its text filter was over 80% full at 4 KB and not stored at all).
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~";
        var rng = new Random(3);
        var lines = new List<byte[]>();
        using var builder = new ChunkBuilder(encoding);
        long time = 0;
        for (var i = 0; i < 30_000; i++)
        {
            var line = new byte[8];
            for (var k = 0; k < line.Length; k++)
            {
                line[k] = (byte)alphabet[rng.Next(alphabet.Length)];
            }

            lines.Add(line);
            time += rng.Next(1, 1 << 16);
            builder.Append(time, line);
        }

        using var output = new PooledBufferWriter();
        builder.Finish(output);
        var chunk = output.WrittenSpan.ToArray();
        var block = ChunkLayout.Parse(chunk).Blocks[0];
        var (textBudget, idBudget) = ((int)(block.CompressedSize * 0.03), (int)(block.CompressedSize * 0.03 * 7 / 3));
        Assert.True(textBudget >= 8192, $"a text budget of {textBudget} bytes ({block.RawSize} raw bytes, {block.CompressedSize} compressed)");

        using var fullWidth = new NGramFilterBuilder();
        foreach (var line in lines.Take(block.EntryCount))
        {
            fullWidth.AddLine(line);
        }

        using var expected = new PooledBufferWriter();
        var text = fullWidth.WriteAndClear(expected, textBudget);
        fullWidth.WriteIdsAndClear(expected, idBudget);
        Assert.Equal(8192, text);
        Assert.Equal((text, expected.WrittenCount - text), (block.FilterSize, block.IdFilterSize));
        Assert.Equal(Convert.ToHexString(expected.WrittenSpan[..text]), Convert.ToHexString(ChunkLayout.FilterOf(chunk, block)));
        Assert.Equal(Convert.ToHexString(expected.WrittenSpan[text..]), Convert.ToHexString(ChunkLayout.IdFilterOf(chunk, block)));
    }
}
