using System.Collections.Concurrent;
using LokiSharp.Storage.Index;

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

    private readonly ConcurrentDictionary<(string Directory, long PackId, long Offset), ChunkTail> _tails = new();
    private long _bytes;

    /// <summary>Bytes held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The chunk's tail, read (and kept while there is room) on a miss; null when it does not check out.</summary>
    public ChunkTail? Get(string directory, in ChunkRef chunk, ChunkRangeReader read, out int bytesRead)
    {
        bytesRead = 0;
        var key = (directory, chunk.PackId, chunk.Offset);
        if (_tails.TryGetValue(key, out var tail))
        {
            return tail;
        }

        tail = ChunkTail.Read(read, chunk, out bytesRead);
        if (tail is not null && Interlocked.Add(ref _bytes, tail.Section.Length) <= maxBytes)
        {
            if (!_tails.TryAdd(key, tail))
            {
                Interlocked.Add(ref _bytes, -tail.Section.Length);
            }
        }
        else if (tail is not null)
        {
            Interlocked.Add(ref _bytes, -tail.Section.Length);
        }

        return tail;
    }
}
