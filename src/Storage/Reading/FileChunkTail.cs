using LokiSharp.Storage.Index;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// The checked tail (block table and filters) of one <see cref="FileChunk"/>, read by the first line-filtered search
/// that reaches the chunk and kept, within a budget shared with other chunks, until <see cref="Release"/>: a needle
/// search over an ingester's spilled parts then reads no file per part, as stored chunks have their tail cache.
/// Thread-safe.
/// </summary>
/// <param name="budget">The bound its tail is kept within; past it the tail is read each time.</param>
public sealed class FileChunkTail(ChunkTailBudget budget)
{
    private readonly Lock _sync = new();
    private ChunkTail? _tail;
    private bool _released;

    /// <summary>The chunk left its owner: the tail is dropped and its bytes given back to the budget. Idempotent.</summary>
    public void Release()
    {
        lock (_sync)
        {
            _released = true;
            if (_tail is { } tail)
            {
                budget.Give(tail.Section.Length);
                _tail = null;
            }
        }
    }

    /// <summary>The tail, kept or read now (and kept while the budget has room); null when it does not check out.</summary>
    internal ChunkTail? Get(ChunkRangeReader read, in ChunkRef chunk, out int bytesRead)
    {
        bytesRead = 0;
        if (Volatile.Read(ref _tail) is { } kept)
        {
            return kept;
        }

        var tail = ChunkTail.Read(read, chunk, out bytesRead);
        if (tail is null)
        {
            return null;
        }

        lock (_sync)
        {
            if (_tail is null && !_released && budget.TryTake(tail.Section.Length))
            {
                Volatile.Write(ref _tail, tail);
            }
        }

        return tail;
    }
}
