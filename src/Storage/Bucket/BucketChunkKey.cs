namespace LokiSharp.Storage.Bucket;

/// <summary>A chunk's identity in a bucket: the writer whose pack holds it, the pack id and the chunk's offset.</summary>
/// <param name="Writer">The writer name (the pack's key segment).</param>
/// <param name="PackId">The pack id within the writer.</param>
/// <param name="Offset">Byte offset of the chunk in the pack.</param>
internal readonly record struct BucketChunkKey(string Writer, long PackId, long Offset);
