using System.Collections.Concurrent;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>
/// Checked chunk tails (block tables and filters) of local packs, kept so that repeated line-filtered searches judge a
/// chunk without a disk read. Bounded in bytes: once full, further tails are read each time but not kept. Packs never
/// change and their ids are never reused, so an entry never goes stale; one of a deleted pack is simply never asked for.
/// </summary>
internal sealed class ChunkTailCache(long maxBytes)
{
    /// <summary>The bound the store uses: the tails of about 10,000 one-block chunks (some 2.5 GB of raw lines).</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    // Keyed by chunks directory first, so that a search resolves its tenant's directory once, not once per chunk.
    private readonly ConcurrentDictionary<string, ChunkTailTable> _directories = new();
    private readonly ChunkTailBudget _budget = new(maxBytes);

    /// <summary>The tails of the chunks in <paramref name="directory"/>, read with <paramref name="read"/> on a miss.</summary>
    public ChunkTailSource For(string directory, ChunkRangeReader read)
    {
        var tails = _directories.GetOrAdd(directory, static _ => new());
        return (in ChunkRef c, out int bytesRead) => Get(tails, c, read, out bytesRead);
    }

    /// <summary>The tails kept for <paramref name="directory"/>.</summary>
    public ChunkTailTable TableFor(string directory) => _directories.GetOrAdd(directory, static _ => new());

    /// <summary>The sieve over the tails kept for <paramref name="directory"/>.</summary>
    public ChunkSieveSource SieveFor(string directory)
    {
        var tails = _directories.GetOrAdd(directory, static _ => new());
        return filter => new TableChunkSieve(tails, tails.Candidates(filter));
    }

    // The chunk's tail, read (and kept while there is room) on a miss; null when it does not check out.
    private ChunkTail? Get(ChunkTailTable tails, in ChunkRef chunk, ChunkRangeReader read, out int bytesRead)
    {
        bytesRead = 0;
        if (tails.Find(chunk.PackId, chunk.Offset) is { } kept)
        {
            return kept;
        }

        // A sieve column costs its id filter's bits again, twice over while its rows have room to grow.
        var tail = ChunkTail.Read(read, chunk, out bytesRead);
        var cost = tail is null ? 0 : tail.Section.Length + (2L * ChunkTailTable.SieveFilter(tail, out _, out _, out _).Length);
        if (tail is not null && _budget.TryTake(cost) && !tails.TryAdd(chunk.PackId, chunk.Offset, tail, sieve: true))
        {
            _budget.Give(cost);
        }

        return tail;
    }
}
