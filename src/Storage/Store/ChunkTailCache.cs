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
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<(long PackId, long Offset), ChunkTail>> _directories = new();
    private readonly ChunkTailBudget _budget = new(maxBytes);

    /// <summary>Bytes held.</summary>
    public long Bytes => _budget.Bytes;

    /// <summary>The tails of the chunks in <paramref name="directory"/>, read with <paramref name="read"/> on a miss.</summary>
    public ChunkTailSource For(string directory, ChunkRangeReader read)
    {
        var tails = _directories.GetOrAdd(directory, static _ => new());
        return (in ChunkRef c, out int bytesRead) => Get(tails, c, read, out bytesRead);
    }

    // The chunk's tail, read (and kept while there is room) on a miss; null when it does not check out.
    private ChunkTail? Get(ConcurrentDictionary<(long, long), ChunkTail> tails, in ChunkRef chunk, ChunkRangeReader read, out int bytesRead)
    {
        bytesRead = 0;
        var key = (chunk.PackId, chunk.Offset);
        if (tails.TryGetValue(key, out var tail))
        {
            return tail;
        }

        tail = ChunkTail.Read(read, chunk, out bytesRead);
        if (tail is not null && _budget.TryTake(tail.Section.Length) && !tails.TryAdd(key, tail))
        {
            _budget.Give(tail.Section.Length);
        }

        return tail;
    }
}
