using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Tests.Store;

public sealed class ChunkTailTableTests
{
    [Fact]
    public void Finds_every_tail_kept_across_growth_and_nothing_else()
    {
        var table = new ChunkTailTable();
        var tails = new Dictionary<(long, long), ChunkTail>();
        for (var pack = 0L; pack < 40; pack++)
        {
            for (var offset = 8L; offset < 8 + (150 * 1000); offset += 1000)
            {
                var tail = new ChunkTail([(byte)pack], (int)offset, 1);
                tails[(pack + 638_000_000_000_000_000L, offset)] = tail;
                Assert.True(table.TryAdd(pack + 638_000_000_000_000_000L, offset, tail, sieve: true));
            }
        }

        foreach (var ((pack, offset), tail) in tails)
        {
            Assert.Same(tail, table.Find(pack, offset));
            Assert.False(table.TryAdd(pack, offset, new ChunkTail([], 0, 0), sieve: true));
            Assert.Null(table.Find(pack, offset + 1));
        }

        Assert.Null(table.Find(1, 8));
    }

    [Fact]
    public async Task Readers_during_inserts_see_a_kept_tail_or_none_never_another_chunks()
    {
        var table = new ChunkTailTable();
        using var stop = new CancellationTokenSource();
        var wrong = 0;
        var reader = Task.Run(() =>
        {
            var random = new Random(5);
            while (!stop.IsCancellationRequested)
            {
                var offset = random.Next(0, 20_000);
                if (table.Find(7, offset) is { } found && found.TableOffset != offset)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });
        for (var offset = 0; offset < 20_000; offset++)
        {
            table.TryAdd(7, offset, new ChunkTail([], offset, 0), sieve: true);
        }

        await stop.CancelAsync();
        await reader;
        Assert.Equal(0, wrong);
        for (var offset = 0; offset < 20_000; offset++)
        {
            Assert.Equal(offset, table.Find(7, offset)!.TableOffset);
        }
    }
}
