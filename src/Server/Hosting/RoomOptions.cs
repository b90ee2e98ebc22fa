using System.Globalization;
using LokiSharp.Ingester;
using LokiSharp.Ingester.Limits;
using LokiSharp.Server.Configuration;
using LokiSharp.Storage.Store;

namespace LokiSharp.Server.Hosting;

/// <summary>Maps the Loki configuration onto the options each room defines for itself.</summary>
public static class RoomOptions
{
    /// <summary>The chunk store's settings: <c>storage_config.filesystem</c>, <c>schema_config</c>, <c>ingester.chunk_*</c>.</summary>
    public static StorageOptions Storage(LokiConfig config, Action<StorageCorruption>? onCorruption) => new()
    {
        RootDirectory = config.StorageConfig.Filesystem.Directory.Length > 0
            ? config.StorageConfig.Filesystem.Directory
            : Path.Combine(config.Common.PathPrefix.Length > 0 ? config.Common.PathPrefix : "data", "chunks"),
        ChunkEncoding = config.Ingester.ChunkEncoding,
        TargetBlockSize = config.Ingester.ChunkBlockSize,
        SchemaPeriods = config.SchemaConfig.Configs.ConvertAll(static p => new SchemaPeriod
        {
            From = p.From,
            IndexPrefix = p.Index.Prefix,
            IndexPeriod = p.Index.Period,
        }),
        OnCorruption = onCorruption,
    };

    /// <summary>
    /// The push body limits from <c>distributor:</c>. As in Loki, 0 or less turns the wire limit off (up to what
    /// one array holds); a decompressed limit of 0 follows the wire limit.
    /// </summary>
    public static LokiSharp.Ingester.Push.PushSizeLimits PushLimits(LokiConfig config)
    {
        var body = config.Distributor.MaxRecvMsgSize > 0 ? config.Distributor.MaxRecvMsgSize : Array.MaxLength;
        var decompressed = config.Distributor.MaxDecompressedSize > 0 ? config.Distributor.MaxDecompressedSize : body;
        return new LokiSharp.Ingester.Push.PushSizeLimits(body, decompressed);
    }

    /// <summary>
    /// The ingester's settings from <c>ingester:</c>. In scale-out (<paramref name="targets"/> runs the ingester without
    /// the querier, or a period stores to S3) flushed blocks stay readable for at least 3 x
    /// <c>storage_config.tsdb_shipper.resync_interval</c>, Loki's index update delay for queriers, so no line is
    /// invisible while readers catch up; a single binary on the file system reads its stored chunks at once and keeps
    /// only <c>chunk_retain_period</c> (0 by default).
    /// </summary>
    public static IngesterOptions Ingester(LokiConfig config, ModuleTargets? targets = null) => new()
    {
        RetainFlushed = IsScaleOut(config, targets)
            ? TimeSpan.FromTicks(Math.Max(config.Ingester.ChunkRetainPeriod.Ticks, 3 * StoreLayout.ResyncInterval(config).Ticks))
            : config.Ingester.ChunkRetainPeriod,
        WalDirectory = config.Ingester.Wal.Dir,
        WalEnabled = config.Ingester.Wal.Enabled,
        FlushOnShutdown = !config.Ingester.Wal.Enabled || config.Ingester.Wal.FlushOnShutdown,
        ChunkTargetSize = config.Ingester.ChunkTargetSize,
        MaxChunkAge = config.Ingester.MaxChunkAge,
        ChunkIdlePeriod = config.Ingester.ChunkIdlePeriod,
        FlushCheckPeriod = config.Ingester.FlushCheckPeriod,
        MaxHeadBytes = config.Ingester.Wal.ReplayMemoryCeiling.Bytes,
    };

    /// <summary>Whether other processes read this ingester's stored data through a bucket they refresh on their own timer.</summary>
    public static bool IsScaleOut(LokiConfig config, ModuleTargets? targets) =>
        (targets is { RunsIngester: true, RunsQuerier: false })
        || Enumerable.Range(0, config.SchemaConfig.Configs.Count).Any(i => ObjectStoreSelection.ForPeriod(config, i).Kind == ObjectStoreKind.S3);

    /// <summary>
    /// The peer ingesters a querier reads: <c>memberlist.join_members</c> (the static list and DNS names),
    /// dialled on <c>server.grpc_listen_port</c> unless an entry names another port than <c>memberlist.bind_port</c>;
    /// this process is recognised by <c>ingester.lifecycler.address</c>, <c>common.ring.instance_addr</c>,
    /// <c>common.instance_addr</c> and its interfaces; calls wait <c>ingester_client.remote_timeout</c>.
    /// </summary>
    public static LokiSharp.Querier.Peers.PeerOptions Peers(LokiConfig config) => new()
    {
        Members = config.Memberlist.JoinMembers,
        GrpcPort = config.Server.GrpcListenPort,
        MemberlistPort = config.Memberlist.BindPort,
        SelfAddresses = [config.Ingester.Lifecycler.Address, config.Common.Ring.InstanceAddr, config.Common.InstanceAddr],
        Timeout = config.IngesterClient.RemoteTimeout,
        QueryIngestersWithin = config.Querier.QueryIngestersWithin,
    };

    /// <summary>The compactor's settings from <c>compactor:</c>; the working directory defaults under <c>common.path_prefix</c>.</summary>
    public static LokiSharp.Compactor.CompactorOptions Compactor(LokiConfig config) => new()
    {
        WorkingDirectory = config.Compactor.WorkingDirectory.Length > 0
            ? config.Compactor.WorkingDirectory
            : Path.Combine(config.Common.PathPrefix.Length > 0 ? config.Common.PathPrefix : "data", "compactor"),
        CompactionInterval = config.Compactor.CompactionInterval,
        ApplyRetentionInterval = config.Compactor.ApplyRetentionInterval,
        RetentionEnabled = config.Compactor.RetentionEnabled,
        RetentionDeleteDelay = config.Compactor.RetentionDeleteDelay,
        DeleteRequestCancelPeriod = config.Compactor.DeleteRequestCancelPeriod,
        DeleteMaxInterval = config.Compactor.DeleteMaxInterval,
        InstanceName = CompactorName(),
    };

    // The host name (the pod name) names this compactor's heartbeat in a bucket; only a log line of another compactor
    // shows it, so a name that cannot be a key segment falls back to a fixed one rather than stopping start-up.
    private static string CompactorName()
    {
        var host = System.Net.Dns.GetHostName().ToLowerInvariant();
        return LokiSharp.Storage.Bucket.WriterName.Problem(host) is null ? host : "backend";
    }

    /// <summary>A tenant's retention from <c>retention_period</c> and <c>retention_stream</c>.</summary>
    /// <exception cref="ConfigException">A rule's selector does not parse.</exception>
    public static LokiSharp.Compactor.Retention.RetentionPolicy Retention(LimitsConfig limits) => new(
        limits.RetentionPeriod,
        limits.RetentionStream.ConvertAll(static rule =>
        {
            try
            {
                var matchers = LokiSharp.LogQL.Syntax.LogQLParser.ParseMatchers(rule.Selector).Matchers;
                return new LokiSharp.Compactor.Retention.StreamRetentionRule(matchers, rule.Priority, rule.Period);
            }
            catch (LokiSharp.LogQL.Syntax.LogQLParseException e)
            {
                throw new ConfigException($"retention_stream selector \"{rule.Selector}\": {e.Message}");
            }
        }));

    /// <summary>
    /// The ruler's settings from <c>ruler:</c>. Rules are read from <c>storage.local.directory</c> (<c>type: local</c>) or,
    /// with no type, from <c>common.storage.filesystem.rules_directory</c> (default <c>&lt;path_prefix&gt;/rules</c>), as Loki's
    /// common config does; <c>rule_path</c> and <c>wal.dir</c> move under <c>common.path_prefix</c> as in Loki.
    /// </summary>
    /// <exception cref="ConfigException">A storage type or evaluation mode LokiSharp lacks, or an incomplete remote write.</exception>
    public static LokiSharp.Ruler.Configuration.RulerOptions Ruler(LokiConfig config)
    {
        var ruler = config.Ruler;
        var prefix = config.Common.PathPrefix.Length > 0 ? config.Common.PathPrefix : "data";
        var directory = ruler.Storage.Type switch
        {
            "local" => ruler.Storage.Local.Directory.Length > 0
                ? ruler.Storage.Local.Directory
                : throw new ConfigException("ruler.storage.local.directory: directory required for local rules config"),
            "" => config.Common.Storage.Filesystem?.RulesDirectory is { Length: > 0 } rules ? rules : Path.Combine(prefix, "rules"),
            var other => throw new ConfigException($"ruler.storage.type \"{other}\" is not supported by LokiSharp yet; " +
                "use type: local with ruler.storage.local.directory"),
        };
        if (ruler.Evaluation.Mode != "local")
        {
            throw new ConfigException($"ruler.evaluation.mode \"{ruler.Evaluation.Mode}\" is not supported by LokiSharp; " +
                "it evaluates rules locally (mode: local)");
        }

        if (ruler.EvaluationInterval <= TimeSpan.Zero || ruler.PollInterval <= TimeSpan.Zero)
        {
            throw new ConfigException("ruler.evaluation_interval and ruler.poll_interval must be positive");
        }

        var hasPrefix = config.Common.PathPrefix.Length > 0;
        var externalLabels = LokiSharp.LogQL.Labels.LabelSet.From(
            ruler.ExternalLabels.Select(static l => new LokiSharp.LogQL.Labels.LabelPair(l.Key, l.Value)));
        return new LokiSharp.Ruler.Configuration.RulerOptions
        {
            RuleDirectory = directory,
            RulePath = hasPrefix && ruler.RulePath == "/rules" ? config.Common.PathPrefix.TrimEnd('/') + "/rules-temp" : ruler.RulePath,
            EvaluationInterval = ruler.EvaluationInterval,
            PollInterval = ruler.PollInterval,
            ExternalUrl = ruler.ExternalUrl,
            DatasourceUid = ruler.DatasourceUid,
            ExternalLabels = externalLabels,
            ResendDelay = ruler.ResendDelay,
            ForOutageTolerance = ruler.ForOutageTolerance,
            ForGracePeriod = ruler.ForGracePeriod,
            StateDirectory = hasPrefix && ruler.Wal.Dir == "ruler-wal" ? Path.Combine(config.Common.PathPrefix, "ruler-wal") : ruler.Wal.Dir,
            Alertmanager = new LokiSharp.Ruler.Notifications.AlertmanagerNotifierOptions
            {
                AlertmanagerUrl = ruler.AlertmanagerUrl,
                EnableAlertmanagerDiscovery = ruler.EnableAlertmanagerDiscovery,
                AlertmanagerRefreshInterval = ruler.AlertmanagerRefreshInterval,
                NotificationQueueCapacity = ruler.NotificationQueueCapacity,
                NotificationTimeout = ruler.NotificationTimeout,
                ExternalLabels = externalLabels,
                AlertmanagerClient = new LokiSharp.Ruler.Notifications.AlertmanagerClientOptions
                {
                    BasicAuthUsername = ruler.AlertmanagerClient.BasicAuthUsername,
                    BasicAuthPassword = ruler.AlertmanagerClient.BasicAuthPassword,
                    Type = ruler.AlertmanagerClient.Type,
                    Credentials = ruler.AlertmanagerClient.Credentials,
                    CredentialsFile = ruler.AlertmanagerClient.CredentialsFile,
                    Tls = new LokiSharp.Ruler.Delivery.ClientTls(ruler.AlertmanagerClient.TlsInsecureSkipVerify,
                        NullIfEmpty(ruler.AlertmanagerClient.TlsCaPath), NullIfEmpty(ruler.AlertmanagerClient.TlsServerName)),
                },
            },
            RemoteWriteEnabled = ruler.RemoteWrite.Enabled,
            RemoteWriteClients = RulerRemoteWrite(ruler.RemoteWrite),
        };
    }

    // Loki's RemoteWriteConfig.Validate: when enabled, at least one client and every client with a URL. The deprecated
    // single `client` stands for a client named "default" when `clients` is empty. Prometheus' own checks (absolute
    // URL, reserved headers, one kind of authentication) come from the client's options.
    private static List<LokiSharp.Ruler.RemoteWrite.RemoteWriteOptions> RulerRemoteWrite(RulerRemoteWriteConfig remote)
    {
        var clients = new List<KeyValuePair<string, RemoteWriteClientConfig>>(remote.Clients);
        if (clients.Count == 0 && remote.Client is { } single)
        {
            clients.Add(new("default", single));
        }

        var options = new List<LokiSharp.Ruler.RemoteWrite.RemoteWriteOptions>();
        if (!remote.Enabled)
        {
            return options;
        }

        if (clients.Count == 0)
        {
            throw new ConfigException("invalid ruler remote-write config: remote-write enabled but no clients are configured");
        }

        foreach (var (id, client) in clients)
        {
            if (client.Url.Length == 0)
            {
                throw new ConfigException(
                    $"invalid ruler remote-write config: remote-write enabled but client '{client.Name}' URL for tenant {id} is not configured");
            }

            if (!Uri.TryCreate(client.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                throw new ConfigException(
                    $"invalid ruler remote-write config: client {id}: invalid remote_write url \"{client.Url}\": expected an absolute http or https URL");
            }

            var option = new LokiSharp.Ruler.RemoteWrite.RemoteWriteOptions
            {
                Url = url,
                Name = client.Name.Length > 0 ? client.Name : id,
                RemoteTimeout = client.RemoteTimeout,
                Headers = client.Headers.Where(static h => !h.Key.Equals("X-Scope-OrgID", StringComparison.OrdinalIgnoreCase))
                    .ToDictionary(static h => h.Key, static h => h.Value, StringComparer.Ordinal),
                BasicAuthUsername = client.BasicAuth?.Username ?? "",
                BasicAuthPassword = client.BasicAuth?.Password ?? "",
                AuthorizationCredentials = client.BearerToken,
                AddOrgIdHeader = remote.AddOrgIdHeader,
            };
            try
            {
                option.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ConfigException($"invalid ruler remote-write config: client {id}: {e.Message}");
            }

            options.Add(option);
        }

        return options;
    }

    private static string? NullIfEmpty(string value) => value.Length > 0 ? value : null;

    /// <summary>The write path's view of <c>limits_config</c>; the OTLP defaults come from <c>distributor.otlp_config</c>.</summary>
    public static IngestionLimits Ingestion(LimitsConfig limits, IReadOnlyList<string> defaultOtlpIndexLabels) => new()
    {
        IngestionRateBytes = limits.IngestionRateMb * (1 << 20),
        IngestionBurstBytes = limits.IngestionBurstSizeMb * (1 << 20),
        MaxLabelNameLength = limits.MaxLabelNameLength,
        MaxLabelValueLength = limits.MaxLabelValueLength,
        MaxLabelNamesPerSeries = limits.MaxLabelNamesPerSeries,
        RejectOldSamples = limits.RejectOldSamples,
        RejectOldSamplesMaxAge = limits.RejectOldSamplesMaxAge,
        CreationGracePeriod = limits.CreationGracePeriod,
        MaxLineSize = limits.MaxLineSize.Bytes,
        MaxLineSizeTruncate = limits.MaxLineSizeTruncate,
        MaxStreamsPerUser = limits.MaxStreamsPerUser,
        MaxGlobalStreamsPerUser = limits.MaxGlobalStreamsPerUser,
        PerStreamRateLimit = limits.PerStreamRateLimit.Bytes,
        PerStreamRateLimitBurst = limits.PerStreamRateLimitBurst.Bytes,
        AllowStructuredMetadata = limits.AllowStructuredMetadata,
        MaxStructuredMetadataSize = limits.MaxStructuredMetadataSize.Bytes,
        MaxStructuredMetadataEntriesCount = limits.MaxStructuredMetadataEntriesCount,
        DiscoverServiceName = limits.DiscoverServiceName,
        DiscoverLogLevels = limits.DiscoverLogLevels,
        IncrementDuplicateTimestamp = limits.IncrementDuplicateTimestamp,
        RetentionHours = ((long)limits.RetentionPeriod.TotalHours).ToString(CultureInfo.InvariantCulture),
        Otlp = limits.OtlpConfig?.ToMapping(defaultOtlpIndexLabels, "limits_config", "otlp_config")
            ?? OtlpConfigSection.DefaultMapping(defaultOtlpIndexLabels),
    };
}

/// <summary>Per-tenant ingestion limits from <c>limits_config</c> and the runtime overrides, converted once per version.</summary>
internal sealed class TenantIngestionLimits : ITenantLimits
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<LimitsConfig, IngestionLimits> _converted = new();
    private readonly TenantLimitsSource _source;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<LimitsConfig, IngestionLimits>.CreateValueCallback _convert;

    public TenantIngestionLimits(TenantLimitsSource source)
    {
        _source = source;
        _convert = limits => RoomOptions.Ingestion(limits, _source.DefaultOtlpIndexLabels);
    }

    public IngestionLimits For(string tenant)
    {
        var limits = _source.LimitsFor(tenant);
        return _converted.GetValue(limits, _convert);
    }
}
