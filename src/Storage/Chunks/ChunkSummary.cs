namespace LokiSharp.Storage.Chunks;

/// <summary>What a finished chunk covers, as the index records it.</summary>
/// <param name="MinTime">First entry timestamp, Unix ns.</param>
/// <param name="MaxTime">Last entry timestamp, Unix ns.</param>
/// <param name="Entries">Entry count.</param>
/// <param name="UncompressedBytes">Line plus structured metadata bytes, what Loki's stats call bytes.</param>
/// <param name="StoredBytes">Encoded chunk length.</param>
/// <param name="Blocks">Block count.</param>
public readonly record struct ChunkSummary(
    long MinTime,
    long MaxTime,
    int Entries,
    long UncompressedBytes,
    int StoredBytes,
    int Blocks);
