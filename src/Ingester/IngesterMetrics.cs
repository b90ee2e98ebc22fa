using Prometheus;

namespace LokiSharp.Ingester;

/// <summary>The write path's metrics, with Loki's names and labels (spec §14).</summary>
public sealed class IngesterMetrics
{
    private static readonly double[] ChunkSizeBuckets = Histogram.ExponentialBuckets(20_000, 2, 10);

    public IngesterMetrics(IMetricFactory factory)
    {
        BytesReceived = factory.CreateCounter("loki_distributor_bytes_received_total", "The total number of uncompressed bytes received per tenant.",
            ["tenant", "retention_hours", "is_internal_stream", "policy", "format"]);
        LinesReceived = factory.CreateCounter("loki_distributor_lines_received_total", "The total number of lines received per tenant.",
            ["tenant", "is_internal_stream", "policy", "format"]);
        DiscardedSamples = factory.CreateCounter("loki_discarded_samples_total", "The total number of samples that were discarded.",
            ["reason", "tenant", "retention_hours", "policy", "format"]);
        DiscardedBytes = factory.CreateCounter("loki_discarded_bytes_total", "The total number of bytes that were discarded.",
            ["reason", "tenant", "retention_hours", "policy", "format"]);
        MemoryStreams = factory.CreateGauge("loki_ingester_memory_streams", "The total number of streams in memory per tenant.", ["tenant"]);
        StreamsCreated = factory.CreateCounter("loki_ingester_streams_created_total", "The total number of streams created per tenant.", ["tenant"]);
        StreamsRemoved = factory.CreateCounter("loki_ingester_streams_removed_total", "The total number of streams removed per tenant.", ["tenant"]);
        MemoryChunks = factory.CreateGauge("loki_ingester_memory_chunks", "The total number of chunks in memory.");
        ChunksCreated = factory.CreateCounter("loki_ingester_chunks_created_total", "The total number of chunks created in the ingester.");
        ChunksFlushed = factory.CreateCounter("loki_ingester_chunks_flushed_total", "Total flushed chunks per reason.", ["reason"]);
        ChunkEntries = factory.CreateHistogram("loki_ingester_chunk_entries", "Distribution of stored lines per chunk (when stored).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(200, 2, 9) });
        ChunkSize = factory.CreateHistogram("loki_ingester_chunk_size_bytes", "Distribution of stored chunk sizes (when stored).",
            new HistogramConfiguration { Buckets = ChunkSizeBuckets });
        ChunkAge = factory.CreateHistogram("loki_ingester_chunk_age_seconds", "Distribution of chunk ages (when stored).",
            new HistogramConfiguration { Buckets = [60, 300, 600, 1800, 3600, 7200, 14400, 28800] });
        ChunkUtilization = factory.CreateHistogram("loki_ingester_chunk_utilization", "Distribution of stored chunk utilization (when stored).",
            new HistogramConfiguration { Buckets = Histogram.LinearBuckets(0, 0.2, 6) });
        WalLoggedBytes = factory.CreateCounter("loki_ingester_wal_logged_bytes_total", "Total bytes written to the WAL.");
        WalRecords = factory.CreateCounter("loki_ingester_wal_records_logged_total", "Total records written to the WAL.");
        WalReplayDuration = factory.CreateGauge("loki_ingester_wal_replay_duration_seconds", "Time taken to replay the checkpoint and the WAL.");
        WalCorruptions = factory.CreateCounter("loki_ingester_wal_corruptions_total", "Total number of WAL corruptions encountered.", ["type"]);

        // Loki's name; it counts every failed commit (disk full or another I/O error), each answered 500.
        WalFailedCommits = factory.CreateCounter("loki_ingester_wal_disk_full_failures_total",
            "Total number of WAL write failures (disk full or I/O error); their pushes were refused.");
        FlushFailures = factory.CreateCounter("loki_ingester_chunks_flush_failures_total",
            "Total number of failed flush attempts; the chunks stay in memory and the WAL and are retried.");
    }

    public Counter BytesReceived { get; }

    public Counter LinesReceived { get; }

    public Counter DiscardedSamples { get; }

    public Counter DiscardedBytes { get; }

    public Gauge MemoryStreams { get; }

    public Counter StreamsCreated { get; }

    public Counter StreamsRemoved { get; }

    public Gauge MemoryChunks { get; }

    public Counter ChunksCreated { get; }

    public Counter ChunksFlushed { get; }

    public Histogram ChunkEntries { get; }

    public Histogram ChunkSize { get; }

    public Histogram ChunkAge { get; }

    public Histogram ChunkUtilization { get; }

    public Counter WalLoggedBytes { get; }

    public Counter WalRecords { get; }

    public Gauge WalReplayDuration { get; }

    public Counter WalCorruptions { get; }

    public Counter WalFailedCommits { get; }

    public Counter FlushFailures { get; }

    /// <summary>Records discarded entries under one of Loki's <c>reason</c> values.</summary>
    public void Discard(string reason, string tenant, string retentionHours, string format, long entries, long bytes)
    {
        DiscardedSamples.WithLabels(reason, tenant, retentionHours, "", format).Inc(entries);
        DiscardedBytes.WithLabels(reason, tenant, retentionHours, "", format).Inc(bytes);
    }
}
