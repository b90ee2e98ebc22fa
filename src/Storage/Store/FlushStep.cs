namespace LokiSharp.Storage.Store;

/// <summary>Steps of <see cref="ChunkStore.Write"/>, in order.</summary>
internal enum FlushStep
{
    PackWritten,
    PackSynced,
    PackRenamed,
    IndexWritten,
    IndexSynced,
}
