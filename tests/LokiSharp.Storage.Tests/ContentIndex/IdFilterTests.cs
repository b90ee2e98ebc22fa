using System.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Tests.Chunks;

namespace LokiSharp.Storage.Tests.ContentIndex;

public sealed class IdFilterTests
{
    [Fact]
    public void RequestIdsAreFoundInTheirBlockAndOtherBlocksAreSkipped()
    {
        var (chunk, ids) = JsonChunk(seed: 3, lines: 20_000);
        var layout = ChunkLayout.Parse(chunk);
        Assert.True(layout.Blocks.Count > 10);
        Assert.All(layout.Blocks, b => Assert.True(b.IdFilterSize > 0));
        var passed = 0;
        var tested = 0;
        var line = 0;
        foreach (var block in layout.Blocks)
        {
            var (text, id) = (ChunkLayout.FilterOf(chunk, block).ToArray(), ChunkLayout.IdFilterOf(chunk, block).ToArray());
            for (var i = 0; i < block.EntryCount; i += 97)
            {
                // Its own id (and any piece of 8 or more of its digits) may be there.
                var own = ids[line + i];
                Assert.True(new LiteralPrefilter(own).MayMatchBlock(text, id));
                Assert.True(NGramFilter.MayContainId(id, Encoding.ASCII.GetBytes(own[3..13])));
                Assert.True(NGramFilter.MayContainId(id, Encoding.ASCII.GetBytes("\"request_id\":\"" + own)));
            }

            // Ids from the same generator that no line holds.
            var absent = new Random(block.EntryCount + line);
            for (var k = 0; k < 2000; k++)
            {
                tested++;
                var other = absent.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
                passed += new LiteralPrefilter(other).MayMatchBlock(text, id) ? 1 : 0;
            }

            line += block.EntryCount;
        }

        // A 16-digit hex id tests 9 grams in a filter about 40% full (two bits per gram): under 0.1% pass where it is absent.
        Assert.True(passed * 1000 < tested, $"{passed} of {tested} absent ids passed");
        long idBytes = 0, payload = 0;
        foreach (var block in layout.Blocks)
        {
            idBytes += block.IdFilterSize;
            payload += block.CompressedSize;
        }

        Assert.True(idBytes <= payload * 0.07, $"{idBytes} id filter bytes for {payload} payload bytes");
    }

    [Fact]
    public void NoFalseNegativesForAnySubstringOfAnyLine()
    {
        var rng = new Random(9);
        var entries = ChunkRoundTripTests.RandomEntries(9, 600, adversarial: true);
        for (var i = 0; i < entries.Count; i += 3)
        {
            // Mix in long runs of letters and digits, cut anywhere by the substrings below.
            var id = Convert.ToHexString(BitConverter.GetBytes(rng.NextInt64())).ToLowerInvariant();
            entries[i] = entries[i] with { Line = [.. entries[i].Line, .. Encoding.ASCII.GetBytes(" id=" + id + "x9" + id[..rng.Next(1, 16)])] };
        }

        NGramFilterTests.ForRandomSubstrings(rng, entries, idFilters: true, 6, 60,
            (filter, part) => Assert.True(NGramFilter.MayContainId(filter, part)));
    }

    [Fact]
    public void BlocksWithoutIdsGetAnEmptyFilterThatRejectsEveryId()
    {
        using var builder = new ChunkBuilder(ChunkEncoding.None);
        for (var i = 0; i < 2000; i++)
        {
            builder.Append(i, $"level=info msg=\"served request\" status=204 duration={i % 100}ms");
        }

        using var output = new PooledBufferWriter();
        builder.Finish(output);
        var chunk = output.WrittenSpan.ToArray();
        var block = ChunkLayout.Parse(chunk).Blocks[0];
        Assert.Equal(64, block.IdFilterSize);
        var filter = ChunkLayout.IdFilterOf(chunk, block);
        Assert.False(NGramFilter.MayContainId(filter, "5106a8ab4a9a9328"u8));

        // Runs shorter than 8 or without a digit are not what the id filter answers for.
        Assert.True(NGramFilter.MayContainId(filter, "status=204"u8));
        Assert.True(NGramFilter.MayContainId(filter, "requestsserved"u8));
        Assert.True(NGramFilter.MayContainId([], "5106a8ab4a9a9328"u8));
    }

    [Fact]
    public void ChunksWithoutIdFiltersStillSkipByText()
    {
        // A block table row whose reserved field is 0 (chunks written before id filters) has no id filter.
        var (chunk, ids) = JsonChunk(seed: 4, lines: 3000);
        var layout = ChunkLayout.Parse(chunk);
        var block = layout.Blocks[0] with { IdFilterSize = 0 };
        Assert.True(ChunkLayout.IdFilterOf(chunk, block).IsEmpty);
        Assert.True(new LiteralPrefilter(ids[0]).MayMatchBlock(ChunkLayout.FilterOf(chunk, block), ChunkLayout.IdFilterOf(chunk, block)));
        Assert.True(block.FilterSize > 0);
        Assert.False(new LiteralPrefilter("no such words").MayMatchBlock(ChunkLayout.FilterOf(chunk, block), default));
    }

    private static (byte[] Chunk, List<string> Ids) JsonChunk(int seed, int lines)
    {
        var rng = new Random(seed);
        var ids = new List<string>(lines);
        using var builder = new ChunkBuilder(ChunkEncoding.Snappy);
        for (var i = 0; i < lines; i++)
        {
            var id = rng.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
            ids.Add(id);
            builder.Append(i, $"{{\"level\":\"info\",\"message\":\"order created\",\"status\":{200 + rng.Next(4)},\"duration_ms\":{rng.NextDouble() * 900:F2}," +
                $"\"user\":{{\"id\":{rng.Next(500)},\"plan\":\"free\"}},\"request_id\":\"{id}\"}}");
        }

        using var output = new PooledBufferWriter();
        builder.Finish(output);
        return (output.WrittenSpan.ToArray(), ids);
    }
}
