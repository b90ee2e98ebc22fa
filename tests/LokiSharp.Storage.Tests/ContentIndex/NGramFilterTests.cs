using System.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Tests.Chunks;

namespace LokiSharp.Storage.Tests.ContentIndex;

public sealed class NGramFilterTests
{
    [Fact]
    public void NoFalseNegativesForAnySubstringOfAnyLine() =>
        ForRandomSubstrings(21, (filter, part) => Assert.True(NGramFilter.MayContain(filter, part)));

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
    public void EveryWindowOfEveryLineLengthIsIndexed()
    {
        // Lines of every length up to a few 32-byte chunks, with digits placed around chunk ends, checked window by
        // window: a gram lost at a chunk boundary would be a false negative here.
        var rng = new Random(11);
        var filtered = 0;
        using var builder = new NGramFilterBuilder();
        for (var length = 1; length <= 100; length++)
        {
            var line = new byte[length];
            for (var i = 0; i < length; i++)
            {
                line[i] = (byte)(i % 32 is 30 or 1 && rng.Next(2) == 0 ? '0' + rng.Next(10) : 'a' + rng.Next(26));
            }

            builder.AddLine(line);
            using var output = new PooledBufferWriter();
            filtered += builder.WriteAndClear(output, 1 << 20) > 0 ? 1 : 0;
            var filter = output.WrittenSpan.ToArray();
            for (var start = 0; start < length; start++)
            {
                for (var end = start + 1; end <= length; end++)
                {
                    Assert.True(NGramFilter.MayContain(filter, line.AsSpan(start, end - start)), $"line {length}: [{start}, {end})");
                }
            }
        }

        Assert.True(filtered > 90, $"{filtered} of 100 lines got a filter");
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

    [Fact]
    public void IgnoringCaseHasNoFalseNegativesForAnyAsciiSubstring() =>
        ForRandomSubstrings(5, (filter, part) =>
        {
            if (System.Text.Ascii.IsValid(part))
            {
                var lower = new byte[part.Length];
                System.Text.Ascii.ToLower(part, lower, out _);
                Assert.True(NGramFilter.MayContainIgnoreCase(filter, lower));
            }
        });

    [Fact]
    public void LinesStartingLikeTheLineBeforeThemHaveEveryGramIndexed()
    {
        // The chunk builder hashes only the grams of a line that reach past the bytes it shares with the block's previous
        // line: lines here share first parts of any length (into ids and digits too), across block cuts.
        var rng = new Random(17);
        var entries = ChunkRoundTripTests.RandomEntries(17, 3000, adversarial: true);
        for (var i = 1; i < entries.Count; i++)
        {
            var previous = entries[i - 1].Line;
            var shared = Math.Min(previous.Length, rng.Next(3) == 0 ? previous.Length : rng.Next(80));
            var id = Convert.ToHexString(BitConverter.GetBytes(rng.NextInt64())).ToLowerInvariant();
            entries[i] = entries[i] with { Line = [.. previous.AsSpan(0, shared), .. Encoding.ASCII.GetBytes(id[..rng.Next(16)]), .. entries[i].Line] };
        }

        ForRandomSubstrings(rng, entries, idFilters: false, 4, 40, (filter, part) => Assert.True(NGramFilter.MayContain(filter, part)));
        ForRandomSubstrings(rng, entries, idFilters: true, 4, 40, (filter, part) => Assert.True(NGramFilter.MayContainId(filter, part)));
    }

    internal delegate void SubstringCheck(ReadOnlySpan<byte> filter, ReadOnlySpan<byte> part);

    // Builds a zstd chunk of adversarial random lines and hands three random substrings of every line, with the
    // filter of the block holding it, to the check.
    private static void ForRandomSubstrings(int seed, SubstringCheck check) =>
        ForRandomSubstrings(new Random(seed), ChunkRoundTripTests.RandomEntries(seed, 600, adversarial: true), idFilters: false, 3, 40, check);

    /// <summary>
    /// Builds a zstd chunk of <paramref name="entries"/> and hands <paramref name="perLine"/> random substrings (up to
    /// <paramref name="maxLength"/> bytes) of every line, with the text or id filter of the block holding it, to the check.
    /// </summary>
    internal static void ForRandomSubstrings(Random rng, List<ChunkRoundTripTests.Entry> entries, bool idFilters, int perLine, int maxLength,
        SubstringCheck check)
    {
        var chunk = ChunkRoundTripTests.Build(entries, ChunkEncoding.Zstd, 64 * 1024, 0.5);
        var layout = ChunkLayout.Parse(chunk);
        Assert.Contains(layout.Blocks, b => (idFilters ? b.IdFilterSize : b.FilterSize) > 0);
        var index = 0;
        foreach (var block in layout.Blocks)
        {
            var filter = idFilters ? ChunkLayout.IdFilterOf(chunk, block) : ChunkLayout.FilterOf(chunk, block);
            for (var i = 0; i < block.EntryCount; i++, index++)
            {
                var line = entries[index].Line;
                for (var k = 0; k < perLine && line.Length > 0; k++)
                {
                    var start = rng.Next(line.Length);
                    var length = rng.Next(1, Math.Min(maxLength, line.Length - start) + 1);
                    check(filter, line.AsSpan(start, length));
                }
            }
        }
    }

    [Fact]
    public void IgnoringCaseSkipsBlocksWithoutAnyCaseVariant()
    {
        byte[] filter = new byte[64];
        Assert.False(NGramFilter.MayContainIgnoreCase(filter, "timeout"u8));
        Assert.True(NGramFilter.MayContainIgnoreCase([], "timeout"u8));

        // Grams covering k or s are not tested: RE2 also folds them to U+212A and U+017F.
        Assert.True(NGramFilter.MayContainIgnoreCase(filter, "desk"u8));
        Assert.True(NGramFilter.MayContainIgnoreCase(filter, "k1234s"u8));
        Assert.False(NGramFilter.MayContainIgnoreCase(filter, "kelvin"u8));
    }

    [Fact]
    public void LineFilterAppliesPipelineRequirements()
    {
        var pipeline = LokiSharp.LogQL.Pipeline.LogPipeline.Compile(
            LokiSharp.LogQL.Syntax.LogQLParser.ParseLogSelector("{app=\"web\"} |~ \"(?i)timeout|refused\" |= \"db\""));
        var filter = new LiteralPrefilter(pipeline.LiteralRequirements);
        Assert.True(filter.Matches("db: Request TIMEOUT"u8));
        Assert.True(filter.Matches("db: conn ReFused"u8));
        Assert.False(filter.Matches("DB: Request TIMEOUT"u8));
        Assert.False(filter.Matches("db: time out"u8));

        var folding = new LiteralPrefilter(LokiSharp.LogQL.Pipeline.LogPipeline.Compile(
            LokiSharp.LogQL.Syntax.LogQLParser.ParseLogSelector("{app=\"web\"} |~ \"(?i)kelvin\"")).LiteralRequirements);
        Assert.True(folding.Matches("300 KELVIN"u8));
        Assert.True(folding.Matches("300 \u212Aelvin"u8));
        Assert.False(folding.Matches("300 celsius"u8));
    }
}
