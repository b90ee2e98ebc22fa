using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>The sieve over a chunks directory's cached tails (<see cref="ChunkTailTable"/>).</summary>
internal sealed class TableChunkSieve(ChunkTailTable table, SieveCandidates candidates) : ChunkSieve(candidates)
{
    /// <inheritdoc />
    public override long Touch(ReadOnlySpan<ChunkRef> chunks) => table.Touch(chunks);

    /// <inheritdoc />
    protected override ChunkTail? Find(in ChunkRef chunk, out SieveEntry entry) => table.Find(chunk.PackId, chunk.Offset, out entry);
}
