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
    // Kept at most once in its life (none, then kept, then released for good), so what is kept is written once, before
    // the state says so, and read in place: a search ruling out thousands of parts reads no further object per part.
    private const int None = 0;
    private const int KeptState = 1;
    private const int Released = 2;

    private readonly Lock _sync = new();
    private int _state;
    private KeptTail _kept;

    /// <summary>The bound and sieve the tail is kept in.</summary>
    internal FileChunkTails Owner => owner;

    /// <summary>Whether a tail is kept now; <paramref name="kept"/> is it, with its sieve entry.</summary>
    internal bool TryGetKept(out KeptTail kept)
    {
        if (Volatile.Read(ref _state) == KeptState)
        {
            kept = _kept;
            return true;
        }

        kept = default;
        return false;
    }

    /// <summary>The chunk left its owner: the tail is dropped and its bytes and sieve column given back. Idempotent.</summary>
    public void Release()
    {
        lock (_sync)
        {
            var was = _state;

            // Released before its column is cleared: a search that still finds it kept made its candidates before the clear.
            Volatile.Write(ref _state, Released);
            if (was == KeptState)
            {
                owner.Drop(_kept);
            }
        }
    }

    /// <summary>The tail, kept or read now (and kept while the bound has room); null when it does not check out.</summary>
    internal ChunkTail? Get(ChunkRangeReader read, in ChunkRef chunk, out int bytesRead)
    {
        bytesRead = 0;
        if (TryGetKept(out var kept))
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
            if (_state == None && owner.TryKeep(tail) is { } taken)
            {
                _kept = taken;
                Volatile.Write(ref _state, KeptState);
            }
        }

        return tail;
    }
}
