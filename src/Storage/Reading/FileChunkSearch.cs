using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// One line-filtered search's view of a <see cref="FileChunkTails"/> sieve (<see cref="FileChunkTails.Search"/>): tells,
/// from a chunk's kept tail alone, that the search cannot match any of its lines, so a reader that finds every chunk of
/// a stream ruled out need not open any. Thread-safe.
/// </summary>
public sealed class FileChunkSearch
{
    private readonly SieveCandidates _candidates;

    internal FileChunkSearch(SieveCandidates candidates) => _candidates = candidates;

    /// <summary>
    /// Whether the one-block chunk whose tail holder is <paramref name="tail"/> is ruled out in <c>[from, through)</c> by
    /// its kept sieve entry; if so, the skip is added to <paramref name="skipped"/> as a <see cref="ChunkEntryReader"/>
    /// that reached the chunk would count it. False when the tail is not kept or the sieve cannot rule the chunk out.
    /// </summary>
    public bool TrySkip(FileChunkTail? tail, long from, long through, ReadStats skipped)
    {
        if (tail is null || !tail.TryGetKept(out var kept))
        {
            return false;
        }

        return ChunkSieve.CountSkip(ChunkSieve.Judge(kept.Entry, _candidates, from, through, out var skippedBytes), skippedBytes, skipped);
    }
}
