using LokiSharp.Ingester.Otlp;

namespace LokiSharp.Ingester.Limits;

/// <summary>
/// The per-tenant limits the write path enforces, with Loki 3.x's defaults. The host maps
/// <c>limits_config</c> and the runtime overrides onto it.
/// </summary>
public sealed record IngestionLimits
{
    /// <summary>Tenant ingestion rate in bytes per second (<c>ingestion_rate_mb</c>).</summary>
    public double IngestionRateBytes { get; init; } = 4 << 20;

    /// <summary>Tenant burst in bytes (<c>ingestion_burst_size_mb</c>).</summary>
    public double IngestionBurstBytes { get; init; } = 6 << 20;

    public int MaxLabelNameLength { get; init; } = 1024;

    public int MaxLabelValueLength { get; init; } = 2048;

    public int MaxLabelNamesPerSeries { get; init; } = 15;

    public bool RejectOldSamples { get; init; } = true;

    public TimeSpan RejectOldSamplesMaxAge { get; init; } = TimeSpan.FromDays(7);

    public TimeSpan CreationGracePeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Maximum line length in bytes; 0 disables the check.</summary>
    public long MaxLineSize { get; init; } = 256 * 1024;

    public bool MaxLineSizeTruncate { get; init; }

    /// <summary>Active streams per tenant in this process (<c>max_streams_per_user</c>); 0 means no local limit.</summary>
    public int MaxStreamsPerUser { get; init; }

    /// <summary>Active streams per tenant (<c>max_global_streams_per_user</c>); a single binary is the whole cluster.</summary>
    public int MaxGlobalStreamsPerUser { get; init; } = 5000;

    /// <summary>Per-stream rate in bytes per second.</summary>
    public long PerStreamRateLimit { get; init; } = 3 << 20;

    public long PerStreamRateLimitBurst { get; init; } = 15 << 20;

    public bool AllowStructuredMetadata { get; init; } = true;

    public long MaxStructuredMetadataSize { get; init; } = 64 * 1024;

    public int MaxStructuredMetadataEntriesCount { get; init; } = 128;

    /// <summary>Labels that give <c>service_name</c> its value when a stream lacks it; empty disables it.</summary>
    public IReadOnlyList<string> DiscoverServiceName { get; init; } =
    [
        "service", "app", "application", "app_name", "name", "app_kubernetes_io_name", "container",
        "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name",
    ];

    public bool DiscoverLogLevels { get; init; } = true;

    public bool IncrementDuplicateTimestamp { get; init; }

    /// <summary>
    /// The tenant's <c>otlp_config</c> rules for <c>/otlp/v1/logs</c>; its service-name list is
    /// <see cref="DiscoverServiceName"/>, applied per request.
    /// </summary>
    public OtlpMapping Otlp { get; init; } = new();

    /// <summary>Retention in hours, reported on <c>loki_distributor_bytes_received_total</c>.</summary>
    public string RetentionHours { get; init; } = "0";

    /// <summary>The effective stream limit: the smaller non-zero of the local and global limits.</summary>
    public int StreamLimit => (MaxStreamsPerUser, MaxGlobalStreamsPerUser) switch
    {
        (0, 0) => 0,
        (0, var global) => global,
        (var local, 0) => local,
        (var local, var global) => Math.Min(local, global),
    };
}

/// <summary>Where the write path finds the limits in force for a tenant; may change at run time.</summary>
public interface ITenantLimits
{
    /// <summary>The limits for <paramref name="tenant"/> now.</summary>
    IngestionLimits For(string tenant);
}
