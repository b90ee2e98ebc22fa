using LokiSharp.Storage.Index;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Reading;

/// <summary>The sieve over the kept tails of one read's file chunks (a <see cref="ChunkRef"/>'s pack id is its chunk's index).</summary>
internal sealed class FileChunkSieve(IReadOnlyList<FileChunk> files, SieveCandidates candidates) : ChunkSieve(candidates)
{
    /// <inheritdoc />
    public override long Touch(ReadOnlySpan<ChunkRef> chunks)
    {
        long sum = 0;
        foreach (ref readonly var c in chunks)
        {
            sum += files[(int)c.PackId].Tail?.TryGetKept(out _) == true ? 1 : 0;
        }

        return sum;
    }

    /// <inheritdoc />
    protected override ChunkTail? Find(in ChunkRef chunk, out SieveEntry entry)
    {
        if (files[(int)chunk.PackId].Tail is { } holder && holder.TryGetKept(out var kept))
        {
            entry = kept.Entry;
            return kept.Tail;
        }

        entry = SieveEntry.None;
        return null;
    }
}
