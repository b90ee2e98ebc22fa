using Prometheus;

namespace LokiSharp.Compactor;

/// <summary>
/// The compactor's metrics under Loki's names (<c>pkg/compactor</c>, <c>retention</c> and <c>deletion</c>),
/// plus totals Loki lacks that make retention verifiable: chunks and bytes deleted and the configured periods.
/// </summary>
public sealed class CompactorMetrics
{
    public CompactorMetrics(IMetricFactory factory)
    {
        CompactOperations = factory.CreateCounter("loki_boltdb_shipper_compact_tables_operation_total",
            "Total number of tables compaction done by status", ["status"]);
        CompactDuration = factory.CreateGauge("loki_boltdb_shipper_compact_tables_operation_duration_seconds",
            "Time (in seconds) spent in compacting all the tables");
        CompactLastSuccess = factory.CreateGauge("loki_boltdb_shipper_compact_tables_operation_last_successful_run_timestamp_seconds",
            "Unix timestamp of the last successful compaction run");
        Running = factory.CreateGauge("loki_boltdb_shipper_compactor_running",
            "Value will be 1 if compactor is currently running on this instance");
        RetentionOperations = factory.CreateCounter("loki_compactor_apply_retention_operation_total",
            "Total number of attempts done to apply retention with status", ["status"]);
        RetentionDuration = factory.CreateGauge("loki_compactor_apply_retention_operation_duration_seconds",
            "Time (in seconds) spent in applying retention");
        RetentionLastSuccess = factory.CreateGauge("loki_compactor_apply_retention_last_successful_run_timestamp_seconds",
            "Unix timestamp of the last successful retention run");
        MarkersCreated = factory.CreateCounter("loki_boltdb_shipper_retention_marker_count_total",
            "Total count of markers created per table.", ["table"]);
        MarkerFilesCurrent = factory.CreateGauge("loki_boltdb_shipper_retention_sweeper_marker_files_current",
            "The current total of marker files valid for deletion.");
        ChunkDeleteDuration = factory.CreateHistogram("loki_boltdb_shipper_retention_sweeper_chunk_deleted_duration_seconds",
            "Time (in seconds) spent in deleting chunk", new HistogramConfiguration
            {
                LabelNames = ["status"],
                Buckets = Histogram.ExponentialBuckets(0.1, 2, 8),
            });
        ChunksDeleted = factory.CreateCounter("loki_compactor_chunks_deleted_total",
            "Chunks removed from the index by retention or delete requests.", ["reason"]);
        BytesFreed = factory.CreateCounter("loki_compactor_deleted_bytes_total",
            "Bytes of chunk files deleted from disk after the retention delete delay.");
        DeleteRequestsReceived = factory.CreateCounter("loki_compactor_delete_requests_received_total",
            "Number of delete requests received per user", ["user"]);
        DeleteRequestsProcessed = factory.CreateCounter("loki_compactor_delete_requests_processed_total",
            "Number of delete requests processed per user", ["user"]);
        DeletedLines = factory.CreateCounter("loki_compactor_deleted_lines",
            "Number of deleted lines per user", ["user"]);
        DeleteProcessingFails = factory.CreateCounter("loki_compactor_delete_processing_fails_total",
            "Number of times the delete phase of compaction has failed");
        PendingDeleteRequests = factory.CreateGauge("loki_compactor_pending_delete_requests_count",
            "Count of delete requests which are over their cancellation period and have not finished processing yet");
        OldestPendingDeleteAge = factory.CreateGauge("loki_compactor_oldest_pending_delete_request_age_seconds",
            "Age of oldest pending delete request in seconds since they are over their cancellation period");
        RetentionPeriod = factory.CreateGauge("loki_compactor_retention_period_seconds",
            "Configured global retention period (limits_config.retention_period); 0 keeps data forever.");
        CompactionInterval = factory.CreateGauge("loki_compactor_compaction_interval_seconds",
            "Configured time between compactor runs (compactor.compaction_interval).");
    }

    public Counter CompactOperations { get; }

    public Gauge CompactDuration { get; }

    public Gauge CompactLastSuccess { get; }

    public Gauge Running { get; }

    public Counter RetentionOperations { get; }

    public Gauge RetentionDuration { get; }

    public Gauge RetentionLastSuccess { get; }

    public Counter MarkersCreated { get; }

    public Gauge MarkerFilesCurrent { get; }

    public Histogram ChunkDeleteDuration { get; }

    public Counter ChunksDeleted { get; }

    public Counter BytesFreed { get; }

    public Counter DeleteRequestsReceived { get; }

    public Counter DeleteRequestsProcessed { get; }

    public Counter DeletedLines { get; }

    public Counter DeleteProcessingFails { get; }

    public Gauge PendingDeleteRequests { get; }

    public Gauge OldestPendingDeleteAge { get; }

    public Gauge RetentionPeriod { get; }

    public Gauge CompactionInterval { get; }
}
