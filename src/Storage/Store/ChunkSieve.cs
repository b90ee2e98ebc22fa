using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

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
/// Judges chunks from their kept sieve entries and the sieve's candidate columns for one filter, so that a chunk the
/// filter rules out costs an entry read and a bit, not its tail's block table and filter.
/// </summary>
internal abstract class ChunkSieve(SieveCandidates candidates)
{
    /// <summary>Starts the entry reads of <paramref name="chunks"/>, about to be judged, together; the value only keeps the reads.</summary>
    public abstract long Touch(ReadOnlySpan<ChunkRef> chunks);

    /// <summary>
    /// The outcome for <paramref name="chunk"/> in <c>[from, through)</c>; on <see cref="SieveOutcome.Unknown"/>,
    /// <paramref name="tail"/> is its kept tail or null, on a content skip <paramref name="skippedBytes"/> its block's size.
    /// </summary>
    public SieveOutcome Judge(in ChunkRef chunk, long from, long through, out ChunkTail? tail, out int skippedBytes)
    {
        tail = Find(chunk, out var entry);
        return tail is null ? Unknown(out skippedBytes) : Judge(entry, candidates, from, through, out skippedBytes);
    }

    /// <summary>
    /// The outcome for a chunk with sieve entry <paramref name="entry"/> (group -1: none), as
    /// <see cref="Judge(in ChunkRef, long, long, out ChunkTail?, out int)"/>.
    /// </summary>
    public static SieveOutcome Judge(in SieveEntry entry, SieveCandidates candidates, long from, long through, out int skippedBytes)
    {
        skippedBytes = 0;
        if (entry.Group < 0)
        {
            return SieveOutcome.Unknown;
        }

        if (!(entry.MinTime < through && entry.MaxTime >= from))
        {
            return SieveOutcome.SkippedByTime;
        }

        if (candidates.MayMatch(entry))
        {
            return SieveOutcome.Unknown;
        }

        skippedBytes = entry.CompressedSize;
        return SieveOutcome.SkippedByContent;
    }

    /// <summary>
    /// Counts a sieved skip into <paramref name="stats"/> as the full check of the chunk's one block would have; false
    /// (nothing counted) for <see cref="SieveOutcome.Unknown"/>.
    /// </summary>
    public static bool CountSkip(SieveOutcome outcome, int skippedBytes, ReadStats stats)
    {
        switch (outcome)
        {
            case SieveOutcome.SkippedByTime:
                stats.Chunks++;
                stats.BlocksSkippedByTime++;
                return true;
            case SieveOutcome.SkippedByContent:
                stats.Chunks++;
                stats.BlocksSkippedByContent++;
                stats.SkippedByContentBytes += skippedBytes;
                return true;
            default:
                return false;
        }
    }

    private static SieveOutcome Unknown(out int skippedBytes)
    {
        skippedBytes = 0;
        return SieveOutcome.Unknown;
    }

    /// <summary>The chunk's kept tail and sieve entry (<see cref="SieveEntry.Group"/> -1: none), or null.</summary>
    protected abstract ChunkTail? Find(in ChunkRef chunk, out SieveEntry entry);
}
