namespace LokiSharp.Querier.Cache;

/// <summary>One cache's part of a response's <c>stats.cache</c> object, with Loki's meanings.</summary>
public sealed class CacheStatistics
{
    /// <summary>Keys found.</summary>
    public long EntriesFound { get; set; }

    /// <summary>Keys looked up.</summary>
    public long EntriesRequested { get; set; }

    /// <summary>Keys written.</summary>
    public long EntriesStored { get; set; }

    /// <summary>Bytes read from the cache (estimated sizes of the entries found).</summary>
    public long BytesReceived { get; set; }

    /// <summary>Bytes written to the cache (estimated sizes of the extents stored).</summary>
    public long BytesSent { get; set; }

    /// <summary>Lookups and writes made.</summary>
    public long Requests { get; set; }

    /// <summary>Nanoseconds of the query's range answered from the cache.</summary>
    public long QueryLengthServed { get; set; }
}
