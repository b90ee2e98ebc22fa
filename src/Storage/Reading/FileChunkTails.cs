using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// The tails kept for one owner's file chunks (an ingester's spilled head parts, see <see cref="FileChunkTail"/>): the
/// byte bound they are kept within, and an <see cref="IdFilterSieve"/> over the id filters of the kept one-block tails,
/// so that a needle search rules out a part with one bit instead of reading its block table and filters. Columns of
/// released tails are cleared and reused, so the sieve stays within the bound too. Thread-safe.
/// </summary>
/// <param name="maxBytes">The most the kept tails (and their sieve columns) may hold together.</param>
public sealed class FileChunkTails(long maxBytes)
{
    private readonly Lock _sync = new();
    private readonly IdFilterSieve _sieve = new();
    private readonly ChunkTailBudget _budget = new(maxBytes);

    /// <summary>Keeps <paramref name="tail"/> if the bound has room, with a sieve column when it has one block; null otherwise.</summary>
    internal KeptTail? TryKeep(ChunkTail tail)
    {
        // A sieve column costs its id filter's bits again, twice over while its rows have room to grow.
        var cost = tail.Section.Length + (2L * ChunkTailTable.SieveFilter(tail, out _, out _, out _).Length);
        if (!_budget.TryTake(cost))
        {
            return null;
        }

        SieveEntry entry;
        lock (_sync)
        {
            entry = _sieve.Add(tail);
        }

        return new KeptTail(tail, entry, cost);
    }

    /// <summary>Gives back what <see cref="TryKeep"/> took; the tail's holder no longer hands it out.</summary>
    internal void Drop(KeptTail kept)
    {
        if (kept.Entry.Group >= 0)
        {
            var ids = ChunkTailTable.SieveFilter(kept.Tail, out _, out _, out _);
            lock (_sync)
            {
                _sieve.Remove(kept.Entry.Group, kept.Entry.Column, ids);
            }
        }

        _budget.Give(kept.Cost);
    }

    /// <summary>A search for <paramref name="filter"/> over the tails kept now: rules out chunks from their sieve entries alone.</summary>
    public FileChunkSearch Search(LiteralPrefilter filter) => new(Candidates(filter));

    /// <summary>The sieve columns <paramref name="filter"/> may match, as of now.</summary>
    internal SieveCandidates Candidates(LiteralPrefilter filter)
    {
        lock (_sync)
        {
            return _sieve.Candidates(filter);
        }
    }
}

/// <summary>A tail kept by <see cref="FileChunkTails"/>: the tail, its sieve entry (group -1: none) and the bytes it counts.</summary>
internal readonly record struct KeptTail(ChunkTail Tail, SieveEntry Entry, long Cost);
