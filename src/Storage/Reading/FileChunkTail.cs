using LokiSharp.Storage.Index;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// The checked tail (block table and filters) of one <see cref="FileChunk"/>, read by the first line-filtered search
/// that reaches the chunk and kept, within its owner's bound shared with other chunks, until <see cref="Release"/>: a
/// needle search over an ingester's spilled parts then reads no file per part, and rules most out through the owner's
/// sieve, as stored chunks have their tail cache. Thread-safe.
/// </summary>
/// <param name="owner">The bound and sieve its tail is kept in; past the bound the tail is read each time.</param>
public sealed class FileChunkTail(FileChunkTails owner)
{
    private readonly Lock _sync = new();
    private KeptTail? _kept;
    private bool _released;

    /// <summary>The bound and sieve the tail is kept in.</summary>
    internal FileChunkTails Owner => owner;

    /// <summary>The tail kept now, with its sieve entry, or null.</summary>
    internal KeptTail? Kept => Volatile.Read(ref _kept);

    /// <summary>The chunk left its owner: the tail is dropped and its bytes and sieve column given back. Idempotent.</summary>
    public void Release()
    {
        lock (_sync)
        {
            _released = true;
            if (_kept is { } kept)
            {
                // Unpublished before its column is cleared: a search that still finds it made its candidates before the clear.
                Volatile.Write(ref _kept, null);
                owner.Drop(kept);
            }
        }
    }

    /// <summary>The tail, kept or read now (and kept while the bound has room); null when it does not check out.</summary>
    internal ChunkTail? Get(ChunkRangeReader read, in ChunkRef chunk, out int bytesRead)
    {
        bytesRead = 0;
        if (Volatile.Read(ref _kept) is { } kept)
        {
            return kept.Tail;
        }

        var tail = ChunkTail.Read(read, chunk, out bytesRead);
        if (tail is null)
        {
            return null;
        }

        lock (_sync)
        {
            if (_kept is null && !_released && owner.TryKeep(tail) is { } taken)
            {
                Volatile.Write(ref _kept, taken);
            }
        }

        return tail;
    }
}
