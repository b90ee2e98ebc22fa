namespace LokiSharp.Compactor;

/// <summary>
/// Settings of the compactor, mapped by the host from Loki's <c>compactor:</c> block. Durations follow Loki's
/// defaults.
/// </summary>
public sealed class CompactorOptions
{
    /// <summary>Directory for retention marks and delete requests (<c>compactor.working_directory</c>).</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>
    /// This compactor's name in its heartbeat key on a bucket (the host name), so another compactor that steps down can
    /// name it; <see cref="Storage.Bucket.WriterName"/> rules.
    /// </summary>
    public string InstanceName { get; init; } = "compactor";

    /// <summary>Time between runs (<c>compaction_interval</c>, 10m).</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Minimum time between retention passes (<c>apply_retention_interval</c>); zero applies retention on
    /// every run, as Loki does.
    /// </summary>
    public TimeSpan ApplyRetentionInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Whether retention and deletes run at all (<c>retention_enabled</c>).</summary>
    public bool RetentionEnabled { get; init; }

    /// <summary>Time between removing a chunk from the index and deleting its file (<c>retention_delete_delay</c>).</summary>
    public TimeSpan RetentionDeleteDelay { get; init; } = TimeSpan.FromHours(2);

    /// <summary>How long a delete request may be cancelled; it is processed only after that (<c>delete_request_cancel_period</c>).</summary>
    public TimeSpan DeleteRequestCancelPeriod { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Default and upper bound of a line-filtered request's <c>max_interval</c> (<c>delete_max_interval</c>); zero means none.</summary>
    public TimeSpan DeleteMaxInterval { get; init; } = TimeSpan.FromHours(24);
}
