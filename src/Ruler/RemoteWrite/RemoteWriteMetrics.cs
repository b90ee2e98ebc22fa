using Prometheus;

namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// Prometheus' remote-storage queue metrics as Loki's ruler exposes them: prefixed <c>loki_ruler_wal_</c>
/// (Loki's <c>MetricsPrefix</c>), with the tenant as <c>tenant</c>, and <c>remote_name</c> and <c>url</c>.
/// </summary>
public sealed class RemoteWriteMetrics
{
    private const string Prefix = "loki_ruler_wal_prometheus_remote_storage_";

    public RemoteWriteMetrics(IMetricFactory factory)
    {
        string[] labels = ["tenant", "remote_name", "url"];
        Samples = factory.CreateCounter(Prefix + "samples_total", "Total number of samples sent to remote storage.", labels);
        SamplesFailed = factory.CreateCounter(Prefix + "samples_failed_total",
            "Total number of samples which failed on send to remote storage, non-recoverable errors.", labels);
        SamplesRetried = factory.CreateCounter(Prefix + "samples_retried_total",
            "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.", labels);
        SamplesDropped = factory.CreateCounter(Prefix + "samples_dropped_total",
            "Total number of samples which were dropped before being sent: the tenant's queue was full, or the ruler stopped.", labels);
        SamplesPending = factory.CreateGauge(Prefix + "samples_pending",
            "The number of samples pending in the queues shards to be sent to the remote storage.", labels);
        Bytes = factory.CreateCounter(Prefix + "bytes_total",
            "The total number of bytes of data (not metadata) sent by the queue after compression.", labels);
        SentBatchDuration = factory.CreateHistogram(Prefix + "sent_batch_duration_seconds", "Duration of send calls to the remote storage.",
            new HistogramConfiguration { LabelNames = labels, Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300] });
        HighestSentTimestamp = factory.CreateGauge(Prefix + "queue_highest_sent_timestamp_seconds",
            "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.", labels);
        HighestTimestamp = factory.CreateGauge(Prefix + "highest_timestamp_in_seconds",
            "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.", ["tenant"]);
    }

    public Counter Samples { get; }

    public Counter SamplesFailed { get; }

    public Counter SamplesRetried { get; }

    public Counter SamplesDropped { get; }

    public Gauge SamplesPending { get; }

    public Counter Bytes { get; }

    public Histogram SentBatchDuration { get; }

    public Gauge HighestSentTimestamp { get; }

    public Gauge HighestTimestamp { get; }
}
