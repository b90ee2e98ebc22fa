using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>A stored chunk and the labels of its stream.</summary>
/// <param name="Labels">The stream's labels.</param>
/// <param name="Chunk">Where the chunk lives and what it covers.</param>
public readonly record struct StoredChunk(LabelSet Labels, ChunkRef Chunk);
