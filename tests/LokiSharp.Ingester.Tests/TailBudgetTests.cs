using System.Text;
using LokiSharp.Ingester.Head;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Ingester.Tests;

/// <summary>The head's tail budget: past it, tails are compressed early; entries and their bytes are unchanged.</summary>
public sealed class TailBudgetTests
{
    private const int PartSize = 64 * 1024;

    [Fact]
    public void Over_budget_a_quarter_part_tail_is_compressed_early_and_segments_are_given_back()
    {
        var budget = new TailBudget(0);
        var (early, entries) = Fill(new HeadBlock(PartSize, null, budget), PartSize / 2);
        var (unbounded, _) = Fill(new HeadBlock(PartSize, null), PartSize / 2);

        Assert.NotEmpty(early.Parts);
        Assert.Empty(unbounded.Parts);
        Assert.Equal(entries, early.EntryCount);
        Assert.Equal(unbounded.RawBytes, early.RawBytes);
        Assert.True(budget.Bytes > 0);

        using var builders = new ChunkBuilderPool(() => new ChunkBuilder(ChunkEncoding.Snappy));
        early.Seal(builders);
        Assert.Equal(0, budget.Bytes);
    }

    [Fact]
    public void Under_budget_tails_grow_to_the_part_size()
    {
        var budget = new TailBudget(1L << 30);
        var (block, _) = Fill(new HeadBlock(PartSize, null, budget), PartSize / 2);

        Assert.Empty(block.Parts);
    }

    private static (HeadBlock Block, int Entries) Fill(HeadBlock block, int bytes)
    {
        using var builders = new ChunkBuilderPool(() => new ChunkBuilder(ChunkEncoding.Snappy));
        var line = Encoding.UTF8.GetBytes(new string('x', 100));
        var count = 0;
        for (var written = 0; written < bytes; written += line.Length, count++)
        {
            block.Append(1_000 + count, line, [], 1, 0, 0, builders);
        }

        return (block, count);
    }
}
