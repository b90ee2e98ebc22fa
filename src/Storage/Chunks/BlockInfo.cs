namespace LokiSharp.Storage.Chunks;

/// <summary>One block table row: where a block lies, what it covers and how to check it.</summary>
/// <param name="MinTime">Smallest entry timestamp, Unix ns.</param>
/// <param name="MaxTime">Largest entry timestamp, Unix ns.</param>
/// <param name="Offset">Byte offset of the compressed payload from the start of the chunk.</param>
/// <param name="CompressedSize">Compressed payload length.</param>
/// <param name="RawSize">Decompressed length.</param>
/// <param name="EntryCount">Number of entries.</param>
/// <param name="Crc">CRC-32C of the compressed payload.</param>
/// <param name="FilterOffset">Byte offset of the block's content filter from the start of the chunk.</param>
/// <param name="FilterSize">Content filter length in bytes; 0 when the block has none (it may contain anything).</param>
/// <param name="IdFilterSize">
/// Id filter length in bytes, 0 when none; it follows the content filter, at <c>FilterOffset + FilterSize</c>.
/// </param>
public readonly record struct BlockInfo(
    long MinTime,
    long MaxTime,
    int Offset,
    int CompressedSize,
    int RawSize,
    int EntryCount,
    uint Crc,
    int FilterOffset,
    int FilterSize,
    int IdFilterSize = 0)
{
    /// <summary>Whether the block may hold entries in <c>[from, through)</c> (ns), as <c>ChunkRef.Overlaps</c>.</summary>
    public bool Overlaps(long from, long through) => MinTime < through && MaxTime >= from;
}
