using LokiSharp.Ingester.Otlp;

namespace LokiSharp.Server.Configuration;

// The typed configuration. Property names map to Loki's YAML keys by snake_case (HttpListenPort ->
// http_listen_port) unless a YamlMember alias says otherwise. Defaults are Loki 3.x's documented defaults;
// keys Loki knows that are not modelled here are accepted through ConfigKeyCatalog and logged as ignored.

/// <summary>The root of a Loki configuration file.</summary>
public sealed class LokiConfig
{
    /// <summary>Module to run; only <c>all</c> is supported.</summary>
    public string Target { get; set; } = "all";

    /// <summary>When false every request runs as tenant <c>fake</c>.</summary>
    public bool AuthEnabled { get; set; } = true;

    /// <summary>Time between SIGTERM and shutdown, during which <c>/ready</c> answers 503 but requests are served.</summary>
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.Zero;

    public ServerConfig Server { get; set; } = new();

    public CommonConfig Common { get; set; } = new();

    public SchemaConfig SchemaConfig { get; set; } = new();

    public StorageConfig StorageConfig { get; set; } = new();

    public IngesterConfig Ingester { get; set; } = new();

    public LimitsConfig LimitsConfig { get; set; } = new();

    public DistributorConfig Distributor { get; set; } = new();

    public RuntimeConfigSection RuntimeConfig { get; set; } = new();

    public CompactorConfig Compactor { get; set; } = new();

    public ChunkStoreConfig ChunkStoreConfig { get; set; } = new();

    public QueryRangeConfig QueryRange { get; set; } = new();

    public QuerierConfig Querier { get; set; } = new();

    /// <summary><c>ingester_client:</c> how a querier calls other processes' ingesters.</summary>
    public IngesterClientConfig IngesterClient { get; set; } = new();

    [InertKey]
    public FrontendConfig Frontend { get; set; } = new();

    [InertKey]
    public QuerySchedulerConfig QueryScheduler { get; set; } = new();

    public RulerConfig Ruler { get; set; } = new();

    [InertKey]
    public AnalyticsConfig Analytics { get; set; } = new();

    /// <summary><c>memberlist:</c> no gossip; <c>join_members</c> lists the peer ingesters a querier reads.</summary>
    public MemberlistConfig Memberlist { get; set; } = new();

    public PatternIngesterConfig PatternIngester { get; set; } = new();
}

/// <summary><c>pattern_ingester:</c> whether <c>/loki/api/v1/patterns</c> answers (Loki's default: off).</summary>
public sealed class PatternIngesterConfig
{
    /// <summary>When false the patterns endpoint answers 404, as Loki does, and Logs Drilldown hides patterns.</summary>
    public bool Enabled { get; set; }
}

/// <summary><c>server:</c> listeners, timeouts and logging.</summary>
public sealed class ServerConfig
{
    public string HttpListenAddress { get; set; } = "";

    public int HttpListenPort { get; set; } = 3100;

    public string GrpcListenAddress { get; set; } = "";

    public int GrpcListenPort { get; set; } = 9095;

    public TimeSpan GracefulShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [InertKey]
    public TimeSpan HttpServerReadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [InertKey]
    public TimeSpan HttpServerWriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan HttpServerIdleTimeout { get; set; } = TimeSpan.FromSeconds(120);

    public int GrpcServerMaxRecvMsgSize { get; set; } = 4 * 1024 * 1024;

    public int GrpcServerMaxSendMsgSize { get; set; } = 4 * 1024 * 1024;

    public int GrpcServerMaxConcurrentStreams { get; set; } = 100;

    public string HttpPathPrefix { get; set; } = "";

    [InertKey]
    public bool RegisterInstrumentation { get; set; } = true;

    public string LogLevel { get; set; } = "info";

    public string LogFormat { get; set; } = "logfmt";
}

/// <summary><c>common:</c> settings shared by several modules.</summary>
public sealed class CommonConfig
{
    public string PathPrefix { get; set; } = "";

    public CommonStorageConfig Storage { get; set; } = new();

    [InertKey]
    public int ReplicationFactor { get; set; } = 3;

    /// <summary>Only <c>instance_addr</c> is used: this process's address, so it never reads its own head as a peer.</summary>
    public RingConfig Ring { get; set; } = new();

    public string InstanceAddr { get; set; } = "";

    [InertKey]
    public string CompactorAddress { get; set; } = "";
}

/// <summary><c>common.storage:</c> the object store shared by chunks and rules.</summary>
public sealed class CommonStorageConfig
{
    public FilesystemStorageConfig? Filesystem { get; set; }

    /// <summary>
    /// <c>common.storage.s3</c>, null when absent. As in Loki it is copied into <c>storage_config.aws</c>, whose own
    /// keys then win one by one.
    /// </summary>
    public AwsStorageConfig? S3 { get; set; }
}

/// <summary><c>common.storage.filesystem:</c> local directories for chunks and rules.</summary>
public sealed class FilesystemStorageConfig
{
    public string ChunksDirectory { get; set; } = "";

    public string RulesDirectory { get; set; } = "";
}

/// <summary>A hash ring; a single binary only needs its key-value store kind.</summary>
public sealed class RingConfig
{
    [InertKey]
    public KvStoreConfig Kvstore { get; set; } = new();

    public string InstanceAddr { get; set; } = "";

    [InertKey]
    public int ReplicationFactor { get; set; } = 3;
}

/// <summary>The ring's key-value store.</summary>
public sealed class KvStoreConfig
{
    public string Store { get; set; } = "consul";

    public string Prefix { get; set; } = "collectors/";
}

/// <summary><c>schema_config:</c> the schema periods.</summary>
public sealed class SchemaConfig
{
    public List<PeriodConfig> Configs { get; set; } = [];
}

/// <summary>One schema period, in force from its <c>from</c> day.</summary>
public sealed class PeriodConfig
{
    public DateOnly From { get; set; }

    public string Store { get; set; } = "";

    /// <summary>
    /// Where the period's chunks go: <c>filesystem</c>, <c>s3</c>/<c>aws</c> or a named store; empty means
    /// filesystem here (Loki requires a value). See <see cref="ObjectStoreSelection"/>.
    /// </summary>
    public string ObjectStore { get; set; } = "";

    public string Schema { get; set; } = "";

    public PeriodIndexConfig Index { get; set; } = new();

    [InertKey]
    public int RowShards { get; set; } = 16;
}

/// <summary>The index table naming of a schema period.</summary>
public sealed class PeriodIndexConfig
{
    public string Prefix { get; set; } = "index_";

    public TimeSpan Period { get; set; } = TimeSpan.FromHours(24);
}

/// <summary><c>storage_config:</c> where chunks and index files live.</summary>
public sealed class StorageConfig
{
    public FilesystemDirectoryConfig Filesystem { get; set; } = new();

    /// <summary>
    /// <c>storage_config.aws</c>: the S3 store of periods whose <c>object_store</c> is <c>s3</c> or <c>aws</c>
    /// (see <see cref="ObjectStoreSelection"/>); the chunk store keeps its bucket layout there.
    /// </summary>
    public AwsStorageConfig Aws { get; set; } = new();

    /// <summary><c>storage_config.named_stores</c>: stores a period's <c>object_store</c> can name.</summary>
    public NamedStoresConfig NamedStores { get; set; } = new();

    /// <summary>
    /// <c>storage_config.tsdb_shipper</c>: only <c>resync_interval</c> applies (how often a bucket's index is refreshed,
    /// and so how long scale-out ingesters keep flushed entries readable).
    /// </summary>
    public ShipperConfig TsdbShipper { get; set; } = new();

    /// <summary><c>storage_config.boltdb_shipper</c>: Loki 2.x's; its <c>resync_interval</c> is read when tsdb_shipper's is not set.</summary>
    public ShipperConfig BoltdbShipper { get; set; } = new();
}

/// <summary><c>chunk_store_config:</c> the chunk cache of a store in object storage.</summary>
public sealed class ChunkStoreConfig
{
    /// <summary>
    /// <c>chunk_cache_config</c>: LokiSharp's chunk cache of a bucket is on local disk, bounded by
    /// <c>embedded_cache.max_size_mb</c>; the other cache settings do not apply.
    /// </summary>
    public ChunkCacheConfig ChunkCacheConfig { get; set; } = new();
}

/// <summary><c>chunk_store_config.chunk_cache_config:</c>.</summary>
public sealed class ChunkCacheConfig
{
    public ChunkEmbeddedCacheConfig EmbeddedCache { get; set; } = new();

    [InertKey]
    public TimeSpan DefaultValidity { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The chunk cache's size: LokiSharp's disk cache of a bucket's chunks uses <c>max_size_mb</c>, whatever <c>enabled</c> says.</summary>
public sealed class ChunkEmbeddedCacheConfig
{
    [InertKey]
    public bool Enabled { get; set; }

    public int MaxSizeMb { get; set; } = 100;

    [InertKey]
    public int MaxSizeItems { get; set; }

    [InertKey]
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);
}

/// <summary><c>storage_config.filesystem:</c> the chunk directory.</summary>
public sealed class FilesystemDirectoryConfig
{
    public string Directory { get; set; } = "";
}

/// <summary>An index shipper: how often the index is resynced from the store (its local directories do not apply).</summary>
public sealed class ShipperConfig
{
    [InertKey]
    public string ActiveIndexDirectory { get; set; } = "";

    [InertKey]
    public string CacheLocation { get; set; } = "";

    [InertKey]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often readers of a bucket list and load new index objects (Loki's default 5m); scale-out ingesters keep
    /// flushed entries 3 times this long.
    /// </summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary><c>ingester:</c> chunk building and the write-ahead log.</summary>
public sealed class IngesterConfig
{
    public string ChunkEncoding { get; set; } = "gzip";

    public TimeSpan ChunkIdlePeriod { get; set; } = TimeSpan.FromMinutes(30);

    public int ChunkBlockSize { get; set; } = 262144;

    public int ChunkTargetSize { get; set; } = 1572864;

    /// <summary>How long flushed chunks stay readable in the head (scale-out roles keep at least 3 x <c>resync_interval</c>).</summary>
    public TimeSpan ChunkRetainPeriod { get; set; } = TimeSpan.Zero;

    public TimeSpan MaxChunkAge { get; set; } = TimeSpan.FromHours(2);

    public TimeSpan FlushCheckPeriod { get; set; } = TimeSpan.FromSeconds(30);

    [InertKey]
    public TimeSpan FlushOpTimeout { get; set; } = TimeSpan.FromMinutes(10);

    [InertKey]
    public int ConcurrentFlushes { get; set; } = 32;

    public WalConfig Wal { get; set; } = new();

    public LifecyclerConfig Lifecycler { get; set; } = new();
}

/// <summary>
/// <c>ingester.lifecycler:</c> only <c>id</c> (the writer name in a bucket's keys) and <c>address</c> (to recognise this
/// process among peers) apply.
/// </summary>
public sealed class LifecyclerConfig
{
    /// <summary>The ingester's stable name; empty means the host name, as in Loki.</summary>
    public string Id { get; set; } = "";

    /// <summary>The address this ingester advertises, to recognise this process among the peer ingesters.</summary>
    public string Address { get; set; } = "";
}

/// <summary><c>ingester.wal:</c> the write-ahead log.</summary>
public sealed class WalConfig
{
    public bool Enabled { get; set; } = true;

    public string Dir { get; set; } = "wal";

    [InertKey]
    public TimeSpan CheckpointDuration { get; set; } = TimeSpan.FromMinutes(5);

    public bool FlushOnShutdown { get; set; }

    public ByteSize ReplayMemoryCeiling { get; set; } = new(4L << 30);
}

/// <summary><c>limits_config:</c> per-tenant limits, overridable per tenant in the runtime config.</summary>
public sealed class LimitsConfig
{
    [InertKey]
    public string IngestionRateStrategy { get; set; } = "global";

    public double IngestionRateMb { get; set; } = 4;

    public double IngestionBurstSizeMb { get; set; } = 6;

    public int MaxLabelNameLength { get; set; } = 1024;

    public int MaxLabelValueLength { get; set; } = 2048;

    public int MaxLabelNamesPerSeries { get; set; } = 15;

    public bool RejectOldSamples { get; set; } = true;

    public TimeSpan RejectOldSamplesMaxAge { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan CreationGracePeriod { get; set; } = TimeSpan.FromMinutes(10);

    public ByteSize MaxLineSize { get; set; } = new(256 * 1024);

    public bool MaxLineSizeTruncate { get; set; }

    public int MaxStreamsPerUser { get; set; }

    public int MaxGlobalStreamsPerUser { get; set; } = 5000;

    [InertKey]
    public bool UnorderedWrites { get; set; } = true;

    public ByteSize PerStreamRateLimit { get; set; } = new(3 << 20);

    public ByteSize PerStreamRateLimitBurst { get; set; } = new(15 << 20);

    public int MaxEntriesLimitPerQuery { get; set; } = 5000;

    public int MaxQuerySeries { get; set; } = 500;

    public TimeSpan MaxQueryLength { get; set; } = TimeSpan.FromHours(721);

    public TimeSpan MaxQueryLookback { get; set; } = TimeSpan.Zero;

    [InertKey]
    public int MaxQueryParallelism { get; set; } = 32;

    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan SplitQueriesByInterval { get; set; } = TimeSpan.FromHours(1);

    public int MaxConcurrentTailRequests { get; set; } = 10;

    [InertKey]
    public int MaxStreamsMatchersPerQuery { get; set; } = 1000;

    public TimeSpan MaxCacheFreshnessPerQuery { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.Zero;

    public List<RetentionStreamConfig> RetentionStream { get; set; } = [];

    public bool AllowStructuredMetadata { get; set; } = true;

    public ByteSize MaxStructuredMetadataSize { get; set; } = new(64 * 1024);

    public int MaxStructuredMetadataEntriesCount { get; set; } = 128;

    public List<string> DiscoverServiceName { get; set; } =
    [
        "service", "app", "application", "app_name", "name", "app_kubernetes_io_name", "container",
        "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name",
    ];

    public bool DiscoverLogLevels { get; set; } = true;

    public bool VolumeEnabled { get; set; } = true;

    public string DeletionMode { get; set; } = "filter-and-delete";

    public bool IncrementDuplicateTimestamp { get; set; }

    /// <summary>LokiSharp extension: accept <c>{}</c> and selectors whose matchers all match empty.</summary>
    public bool AllowEmptyMatchers { get; set; }

    /// <summary>
    /// LokiSharp extension: the most memory one query may hold (matrix points and samples of metric queries, lines
    /// of log queries, label sets of metadata queries) before it fails with 400; 0 means no limit.
    /// </summary>
    public ByteSize MaxQueryMemoryBytes { get; set; } = new(1L << 30);

    /// <summary>How OTLP attributes are stored; null when not set (the default index-label list applies).</summary>
    public OtlpConfigSection? OtlpConfig { get; set; }

    /// <summary>A deep copy, the base that a tenant's overrides are applied onto.</summary>
    public LimitsConfig Clone()
    {
        var copy = (LimitsConfig)MemberwiseClone();
        copy.RetentionStream = RetentionStream.ConvertAll(static r => new RetentionStreamConfig
        {
            Selector = r.Selector,
            Priority = r.Priority,
            Period = r.Period,
        });
        copy.DiscoverServiceName = [.. DiscoverServiceName];
        copy.OtlpConfig = OtlpConfig?.Clone();
        return copy;
    }
}

/// <summary><c>distributor:</c> push size limits and the OTLP defaults.</summary>
public sealed class DistributorConfig
{
    /// <summary>Largest HTTP push body accepted on the wire (Loki's default 100 MiB); larger ones get Loki's 413.</summary>
    public int MaxRecvMsgSize { get; set; } = (int)LokiSharp.Ingester.Push.PushBodyDecoder.DefaultMaxCompressedSize;

    /// <summary>
    /// Largest HTTP push body once decompressed. 0, the default here, means <see cref="MaxRecvMsgSize"/>: Loki's
    /// default of 5000 MiB would let a small gzip bomb take gigabytes of memory before it is refused.
    /// </summary>
    public long MaxDecompressedSize { get; set; }

    public DistributorOtlpConfig OtlpConfig { get; set; } = new();
}

/// <summary><c>distributor.otlp_config:</c> the resource attributes every tenant indexes unless it ignores defaults.</summary>
public sealed class DistributorOtlpConfig
{
    public List<string> DefaultResourceAttributesAsIndexLabels { get; set; } = [.. OtlpMapping.DefaultIndexLabelAttributes];
}

/// <summary><c>limits_config.otlp_config:</c> per-tenant rules for OTLP resource, scope and log attributes.</summary>
public sealed class OtlpConfigSection
{
    public OtlpResourceAttributesConfig ResourceAttributes { get; set; } = new();

    public List<OtlpAttributesConfig> ScopeAttributes { get; set; } = [];

    public List<OtlpAttributesConfig> LogAttributes { get; set; } = [];

    public bool SeverityTextAsLabel { get; set; }

    /// <summary>
    /// The mapping the write path applies: the default index-label list goes first unless <c>ignore_defaults</c>,
    /// then the configured rules in order. <paramref name="source"/> and <paramref name="key"/> name the place
    /// in error messages.
    /// </summary>
    /// <exception cref="ConfigException">A rule Loki rejects when loading its configuration.</exception>
    public OtlpMapping ToMapping(IReadOnlyList<string> defaultIndexLabels, string source, string key) => new()
    {
        ResourceAttributes = OtlpMapping.ResourceRules(ResourceAttributes.IgnoreDefaults, defaultIndexLabels,
            Rules(ResourceAttributes.AttributesConfig, OtlpAttributeKind.Resource, source, key + ".resource_attributes.attributes_config")),
        ScopeAttributes = Rules(ScopeAttributes, OtlpAttributeKind.Scope, source, key + ".scope_attributes"),
        LogAttributes = Rules(LogAttributes, OtlpAttributeKind.Log, source, key + ".log_attributes"),
        SeverityTextAsLabel = SeverityTextAsLabel,
    };

    /// <summary>The mapping when a tenant has no <c>otlp_config</c>: the default list as index labels.</summary>
    public static OtlpMapping DefaultMapping(IReadOnlyList<string> defaultIndexLabels) => new()
    {
        ResourceAttributes = OtlpMapping.ResourceRules(ignoreDefaults: false, defaultIndexLabels, []),
    };

    /// <summary>A deep copy.</summary>
    public OtlpConfigSection Clone() => new()
    {
        ResourceAttributes = new OtlpResourceAttributesConfig
        {
            IgnoreDefaults = ResourceAttributes.IgnoreDefaults,
            AttributesConfig = ResourceAttributes.AttributesConfig.ConvertAll(static r => r.Clone()),
        },
        ScopeAttributes = ScopeAttributes.ConvertAll(static r => r.Clone()),
        LogAttributes = LogAttributes.ConvertAll(static r => r.Clone()),
        SeverityTextAsLabel = SeverityTextAsLabel,
    };

    private static List<OtlpAttributeRule> Rules(List<OtlpAttributesConfig> configs, OtlpAttributeKind kind, string source, string key)
    {
        var rules = new List<OtlpAttributeRule>(configs.Count);
        for (var i = 0; i < configs.Count; i++)
        {
            var config = configs[i];
            try
            {
                rules.Add(OtlpAttributeRule.Parse(kind, config.Action, config.Attributes, config.Regex));
            }
            catch (FormatException e)
            {
                throw new ConfigException($"{source}: key {key}[{i}]: {e.Message}", e);
            }
        }

        return rules;
    }
}

/// <summary><c>otlp_config.resource_attributes:</c> whether the default list applies, and the rules.</summary>
public sealed class OtlpResourceAttributesConfig
{
    public bool IgnoreDefaults { get; set; }

    public List<OtlpAttributesConfig> AttributesConfig { get; set; } = [];
}

/// <summary>One <c>otlp_config</c> rule as written: an action for a list of attribute names or a regex.</summary>
public sealed class OtlpAttributesConfig
{
    /// <summary><c>index_label</c>, <c>structured_metadata</c> (the default when empty) or <c>drop</c>.</summary>
    public string Action { get; set; } = "";

    public List<string> Attributes { get; set; } = [];

    public string Regex { get; set; } = "";

    /// <summary>A deep copy.</summary>
    public OtlpAttributesConfig Clone() => new() { Action = Action, Attributes = [.. Attributes], Regex = Regex };
}

/// <summary>A <c>retention_stream</c> rule: streams matching the selector keep data for the period.</summary>
public sealed class RetentionStreamConfig
{
    public string Selector { get; set; } = "";

    public int Priority { get; set; }

    public TimeSpan Period { get; set; }
}

/// <summary><c>runtime_config:</c> the reloadable per-tenant overrides file.</summary>
public sealed class RuntimeConfigSection
{
    public string File { get; set; } = "";

    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary><c>compactor:</c> index compaction, retention and deletes.</summary>
public sealed class CompactorConfig
{
    public string WorkingDirectory { get; set; } = "";

    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan ApplyRetentionInterval { get; set; } = TimeSpan.Zero;

    public bool RetentionEnabled { get; set; }

    public TimeSpan RetentionDeleteDelay { get; set; } = TimeSpan.FromHours(2);

    [InertKey]
    public int RetentionDeleteWorkerCount { get; set; } = 150;

    [InertKey]
    public TimeSpan RetentionTableTimeout { get; set; } = TimeSpan.Zero;

    [InertKey]
    public string DeleteRequestStore { get; set; } = "";

    public TimeSpan DeleteRequestCancelPeriod { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan DeleteMaxInterval { get; set; } = TimeSpan.FromHours(24);

    [InertKey]
    public int MaxCompactionParallelism { get; set; } = 1;
}

/// <summary><c>query_range:</c> query splitting and the results cache.</summary>
public sealed class QueryRangeConfig
{
    public bool AlignQueriesWithStep { get; set; }

    public bool CacheResults { get; set; }

    [InertKey]
    public int MaxRetries { get; set; } = 5;

    [InertKey]
    public bool ParalleliseShardableQueries { get; set; } = true;

    public ResultsCacheConfig ResultsCache { get; set; } = new();
}

/// <summary><c>query_range.results_cache:</c>.</summary>
public sealed class ResultsCacheConfig
{
    public CacheConfig Cache { get; set; } = new();

    [InertKey]
    public string Compression { get; set; } = "";
}

/// <summary>A cache block; only the embedded cache applies to a single binary.</summary>
public sealed class CacheConfig
{
    public EmbeddedCacheConfig EmbeddedCache { get; set; } = new();

    [InertKey]
    public TimeSpan DefaultValidity { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The in-process cache.</summary>
public sealed class EmbeddedCacheConfig
{
    public bool Enabled { get; set; }

    public int MaxSizeMb { get; set; } = 100;

    public int MaxSizeItems { get; set; }

    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);
}

/// <summary><c>querier:</c>.</summary>
public sealed class QuerierConfig
{
    [InertKey]
    public int MaxConcurrent { get; set; } = 4;

    public TimeSpan QueryIngestersWithin { get; set; } = TimeSpan.FromHours(3);

    public TimeSpan TailMaxDuration { get; set; } = TimeSpan.FromHours(1);

    [InertKey]
    public TimeSpan ExtraQueryDelay { get; set; } = TimeSpan.Zero;

    [InertKey]
    public bool QueryIngesterOnly { get; set; }

    [InertKey]
    public bool QueryStoreOnly { get; set; }

    public bool MultiTenantQueriesEnabled { get; set; }

    [InertKey]
    public bool PerRequestLimitsEnabled { get; set; }
}

/// <summary><c>frontend:</c>.</summary>
public sealed class FrontendConfig
{
    public int MaxOutstandingPerTenant { get; set; } = 2048;

    public bool CompressResponses { get; set; } = true;

    public TimeSpan LogQueriesLongerThan { get; set; } = TimeSpan.Zero;

    public string Encoding { get; set; } = "json";
}

/// <summary><c>query_scheduler:</c>.</summary>
public sealed class QuerySchedulerConfig
{
    public int MaxOutstandingRequestsPerTenant { get; set; } = 32000;

    public bool UseSchedulerRing { get; set; }
}

/// <summary>
/// <c>ruler:</c> Loki's ruler (<c>pkg/ruler/base/ruler.go</c>, <c>pkg/ruler/config.go</c>) with Loki 3.x's defaults. The
/// ring, sharding, remote evaluation and alert relabelling keys are accepted and logged as ignored.
/// </summary>
public sealed class RulerConfig
{
    public string ExternalUrl { get; set; } = "";

    public string DatasourceUid { get; set; } = "";

    public Dictionary<string, string> ExternalLabels { get; set; } = [];

    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    public RulerStorageConfig Storage { get; set; } = new();

    public string RulePath { get; set; } = "/rules";

    public string AlertmanagerUrl { get; set; } = "";

    public bool EnableAlertmanagerDiscovery { get; set; }

    public TimeSpan AlertmanagerRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Only Alertmanager's v2 API exists in current Alertmanagers (v1 went in 0.27); the notifier always uses it.</summary>
    [InertKey]
    public bool EnableAlertmanagerV2 { get; set; } = true;

    public int NotificationQueueCapacity { get; set; } = 10000;

    public TimeSpan NotificationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public AlertmanagerClientConfig AlertmanagerClient { get; set; } = new();

    public TimeSpan ForOutageTolerance { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan ForGracePeriod { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan ResendDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Accepted; a single ruler evaluates every group, so sharding has nothing to split (logged when set).</summary>
    public bool EnableSharding { get; set; }

    public bool EnableApi { get; set; } = true;

    public RulerWalConfig Wal { get; set; } = new();

    public RulerRemoteWriteConfig RemoteWrite { get; set; } = new();

    public RulerEvaluationConfig Evaluation { get; set; } = new();
}

/// <summary><c>ruler.storage:</c> where rule files live; LokiSharp reads the <c>local</c> kind.</summary>
public sealed class RulerStorageConfig
{
    public string Type { get; set; } = "";

    public RulerLocalStorageConfig Local { get; set; } = new();
}

/// <summary><c>ruler.storage.local:</c>.</summary>
public sealed class RulerLocalStorageConfig
{
    public string Directory { get; set; } = "";
}

/// <summary><c>ruler.alertmanager_client:</c> how the ruler authenticates to Alertmanager.</summary>
public sealed class AlertmanagerClientConfig
{
    public string BasicAuthUsername { get; set; } = "";

    [Secret]
    public string BasicAuthPassword { get; set; } = "";

    public string Type { get; set; } = "Bearer";

    [Secret]
    public string Credentials { get; set; } = "";

    public string CredentialsFile { get; set; } = "";

    public bool TlsInsecureSkipVerify { get; set; }

    public string TlsCaPath { get; set; } = "";

    /// <summary>Client certificates are not sent yet.</summary>
    [InertKey]
    public string TlsCertPath { get; set; } = "";

    /// <inheritdoc cref="TlsCertPath"/>
    [InertKey]
    public string TlsKeyPath { get; set; } = "";

    public string TlsServerName { get; set; } = "";
}

/// <summary>
/// <c>ruler.wal:</c> Loki's recording-rule WAL. LokiSharp keeps only the alert state for restarts under <c>dir</c>;
/// samples go straight to the remote-write queue, so the truncation settings have nothing to act on.
/// </summary>
public sealed class RulerWalConfig
{
    public string Dir { get; set; } = "ruler-wal";

    [InertKey]
    public TimeSpan TruncateFrequency { get; set; } = TimeSpan.FromMinutes(60);

    [InertKey]
    public TimeSpan MinAge { get; set; } = TimeSpan.FromMinutes(5);

    [InertKey]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(4);
}

/// <summary><c>ruler.remote_write:</c> where recording rules' samples are sent.</summary>
public sealed class RulerRemoteWriteConfig
{
    public bool Enabled { get; set; }

    /// <summary>Deprecated single client (Loki 2.x); used as the client <c>default</c> when <c>clients</c> is empty.</summary>
    public RemoteWriteClientConfig? Client { get; set; }

    public Dictionary<string, RemoteWriteClientConfig> Clients { get; set; } = [];

    public bool AddOrgIdHeader { get; set; } = true;

    /// <summary>Loki re-reads per-tenant remote-write overrides this often; LokiSharp has no such overrides.</summary>
    [InertKey]
    public TimeSpan ConfigRefreshPeriod { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>One Prometheus <c>remote_write</c> client of the ruler.</summary>
public sealed class RemoteWriteClientConfig
{
    public string Url { get; set; } = "";

    public string Name { get; set; } = "";

    public TimeSpan RemoteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public Dictionary<string, string> Headers { get; set; } = [];

    public RemoteWriteBasicAuthConfig? BasicAuth { get; set; }

    [Secret]
    public string BearerToken { get; set; } = "";
}

/// <summary><c>basic_auth:</c> of a remote-write client.</summary>
public sealed class RemoteWriteBasicAuthConfig
{
    public string Username { get; set; } = "";

    [Secret]
    public string Password { get; set; } = "";
}

/// <summary><c>ruler.evaluation:</c>; only the <c>local</c> mode exists in LokiSharp.</summary>
public sealed class RulerEvaluationConfig
{
    public string Mode { get; set; } = "local";

    [InertKey]
    public TimeSpan MaxJitter { get; set; }
}

/// <summary><c>analytics:</c> usage reporting, which LokiSharp never sends anywhere.</summary>
public sealed class AnalyticsConfig
{
    public bool ReportingEnabled { get; set; } = true;

    public string UsageStatsUrl { get; set; } = "https://stats.grafana.org/loki-usage-report";
}

/// <summary><c>memberlist:</c> gossip membership; a single binary has no peers.</summary>
public sealed class MemberlistConfig
{
    public List<string> JoinMembers { get; set; } = [];

    public int BindPort { get; set; } = 7946;

    [InertKey]
    public bool AbortIfClusterJoinFails { get; set; }
}

/// <summary><c>ingester_client:</c>.</summary>
public sealed class IngesterClientConfig
{
    /// <summary>How long a peer ingester may take to answer a call or send the next batch of a read.</summary>
    public TimeSpan RemoteTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
