namespace LokiSharp.Storage.Bucket;

/// <summary>
/// Settings of a chunk store over a bucket (<see cref="Store.ChunkStore.OpenBucket"/>). The host maps Loki's keys:
/// <c>ingester.lifecycler.id</c> to <see cref="Writer"/>, <c>storage_config.tsdb_shipper.resync_interval</c> to
/// <see cref="ResyncInterval"/>, <c>chunk_store_config.chunk_cache_config.embedded_cache.max_size_mb</c> to
/// <see cref="ChunkCacheBytes"/>.
/// </summary>
public sealed class BucketOptions
{
    /// <summary>This process's writer name (<see cref="WriterName"/> rules), or null for a reader that never writes.</summary>
    public string? Writer { get; init; }

    /// <summary>
    /// The compactor's epoch (its start time in ticks) when this process runs the compactor: its tombstones, rewrites
    /// and deletes are written as writer <c>compactor</c> with this epoch (docs/formats/bucket.md). Null otherwise.
    /// </summary>
    public long? CompactorEpoch { get; init; }

    /// <summary>How often the index is refreshed from the bucket (Loki's <c>resync_interval</c>, 5m).</summary>
    public TimeSpan ResyncInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How old the last complete refresh may get before every query warns that recent flushes of other processes may
    /// be missing: by default two resync intervals, and never less than 30 s, so a short interval (tests, small set-ups)
    /// does not turn one slow refresh on a busy machine into a warning.
    /// </summary>
    public TimeSpan? StaleViewAfter { get; init; }

    /// <summary>The effective <see cref="StaleViewAfter"/>.</summary>
    internal TimeSpan StaleViewLimit => StaleViewAfter ?? TimeSpan.FromTicks(Math.Max(2 * ResyncInterval.Ticks, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>Where chunk bytes read from the bucket are cached.</summary>
    public required string ChunkCacheDirectory { get; init; }

    /// <summary>The most bytes the chunk cache keeps on disk.</summary>
    public long ChunkCacheBytes { get; init; } = 100L << 20;

    /// <summary>Attempts of one object write of a flush while the bucket fails transiently (first one included).</summary>
    public int WriteAttempts { get; init; } = 5;

    /// <summary>The wait before the second attempt; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);
}
