using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Storage.Store;

/// <summary>A finished chunk handed to the store by the flush path.</summary>
/// <param name="Labels">The stream's labels.</param>
/// <param name="Chunk">The encoded chunk (from <see cref="ChunkBuilder.Finish"/>).</param>
/// <param name="Summary">Its summary (from the same call).</param>
public readonly record struct ChunkWrite(LabelSet Labels, ReadOnlyMemory<byte> Chunk, ChunkSummary Summary);
