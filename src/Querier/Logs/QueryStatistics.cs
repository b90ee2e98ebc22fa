namespace LokiSharp.Querier.Logs;

/// <summary>What a log query read and returned, for the response's <c>stats</c>.</summary>
public sealed class QueryStatistics
{
    public long TotalBytesProcessed { get; set; }

    public long TotalLinesProcessed { get; set; }

    public long TotalStructuredMetadataBytesProcessed { get; set; }

    public long PostFilterLines { get; set; }

    public long EntriesReturned { get; set; }

    public long HeadChunkBytes { get; set; }

    public long HeadChunkLines { get; set; }

    public long DecompressedBytes { get; set; }

    public long DecompressedLines { get; set; }

    public long ChunksReferenced { get; set; }

    public long Duplicates { get; set; }

    public double ExecTimeSeconds { get; set; }

    /// <summary>What the metric results cache did for this query.</summary>
    public Cache.CacheStatistics ResultCache { get; } = new();
}
