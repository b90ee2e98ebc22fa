using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>A search's sieve over a directory's cached tails (<see cref="ChunkTailTable"/>), made once per filter.</summary>
internal delegate ChunkSieve ChunkSieveSource(LiteralPrefilter filter);

/// <summary>What the sieve says of a chunk.</summary>
internal enum SieveOutcome
{
    /// <summary>Not judged: the chunk's tail (if kept) must be checked in full.</summary>
    Unknown,

    /// <summary>Its one block lies outside the search's time range.</summary>
    SkippedByTime,

    /// <summary>Its one block's id filter rules the search out.</summary>
    SkippedByContent,
}

/// <summary>
/// Judges chunks from their table slots and the sieve's candidate columns for one filter, so that a chunk the filter
/// rules out costs a slot read and a bit, not its tail's block table and filter.
/// </summary>
internal sealed class ChunkSieve(ChunkTailTable table, SieveCandidates candidates)
{
    /// <summary>Starts the slot reads of <paramref name="chunks"/>, about to be judged, together.</summary>
    public long Touch(ReadOnlySpan<ChunkRef> chunks) => table.Touch(chunks);

    /// <summary>
    /// The outcome for <paramref name="chunk"/> in <c>[from, through)</c>; on <see cref="SieveOutcome.Unknown"/>,
    /// <paramref name="tail"/> is its kept tail or null, on a content skip <paramref name="skippedBytes"/> its block's size.
    /// </summary>
    public SieveOutcome Judge(in ChunkRef chunk, long from, long through, out ChunkTail? tail, out int skippedBytes)
    {
        skippedBytes = 0;
        tail = table.Find(chunk.PackId, chunk.Offset, out var entry);
        if (tail is null || entry.Group < 0)
        {
            return SieveOutcome.Unknown;
        }

        if (!(entry.MinTime < through && entry.MaxTime >= from))
        {
            return SieveOutcome.SkippedByTime;
        }

        if (candidates.MayMatch(entry.Group, entry.Column))
        {
            return SieveOutcome.Unknown;
        }

        skippedBytes = entry.CompressedSize;
        return SieveOutcome.SkippedByContent;
    }
}
