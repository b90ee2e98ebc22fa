namespace LokiSharp.Ingester;

/// <summary>The ingester's settings, mapped by the host from Loki's <c>ingester:</c> section.</summary>
public sealed record IngesterOptions
{
    /// <summary>Directory of the write-ahead log.</summary>
    public required string WalDirectory { get; init; }

    /// <summary>When false nothing is logged and a crash loses the head (Loki's <c>wal.enabled: false</c>).</summary>
    public bool WalEnabled { get; init; } = true;

    /// <summary>WAL segment size before a new one is started.</summary>
    public long WalSegmentSize { get; init; } = 128L << 20;

    /// <summary>Target compressed chunk size (<c>chunk_target_size</c>).</summary>
    public long ChunkTargetSize { get; init; } = 1_572_864;

    /// <summary>
    /// Raw bytes per compressed byte assumed when deciding to cut a head block before it is compressed; log
    /// lines compress 3-6x with the default codecs, 4 is the middle.
    /// </summary>
    public double AssumedCompressionRatio { get; init; } = 4;

    /// <summary><c>max_chunk_age</c>; also sets the out-of-order window (half of it).</summary>
    public TimeSpan MaxChunkAge { get; init; } = TimeSpan.FromHours(2);

    /// <summary><c>chunk_idle_period</c>.</summary>
    public TimeSpan ChunkIdlePeriod { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Whether stopping stores the whole head. Loki skips it when the WAL is on (replay restores the head) unless
    /// <c>wal.flush_on_shutdown</c> is set; without a WAL it must flush.
    /// </summary>
    public bool FlushOnShutdown { get; init; } = true;

    /// <summary><c>flush_check_period</c>.</summary>
    public TimeSpan FlushCheckPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a stored block stays readable in the head (zero: it leaves at once). Scale-out roles keep it until
    /// every reader has refreshed its view of the bucket; its memory stays counted in <see cref="MaxHeadBytes"/>.
    /// </summary>
    public TimeSpan RetainFlushed { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Bound on unflushed head bytes across tenants; pushes beyond it get 429 instead of growing memory.
    /// </summary>
    public long MaxHeadBytes { get; init; } = 2L << 30;

    /// <summary>
    /// Whether compressed head parts are written to unlinked scratch files and read back on demand, so they sit in
    /// the kernel's page cache instead of the process's resident memory. The WAL, not these files, keeps the head
    /// crash-safe; when the disk refuses a part it stays in memory.
    /// </summary>
    public bool SpillHead { get; init; } = true;

    /// <summary>Directory of the head's spill files; null: <c>head-spill</c> under <see cref="WalDirectory"/>.</summary>
    public string? SpillDirectory { get; init; }

    /// <summary>How many per-entry errors an out-of-order or rate-limit answer lists (<c>max_returned_stream_errors</c>).</summary>
    public int MaxReturnedStreamErrors { get; init; } = 10;
}
