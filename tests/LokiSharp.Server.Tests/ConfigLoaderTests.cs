using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Tests;

public sealed class ConfigLoaderTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    [Fact]
    public void Embedded_default_is_a_single_binary_under_data()
    {
        var config = ConfigLoader.LoadEmbeddedDefault().Config;

        Assert.False(config.AuthEnabled);
        Assert.Equal(3100, config.Server.HttpListenPort);
        Assert.Equal(9096, config.Server.GrpcListenPort);
        Assert.Equal("./data", config.Common.PathPrefix);
        Assert.Equal("./data/chunks", config.StorageConfig.Filesystem.Directory);
        Assert.Equal("./data/wal", config.Ingester.Wal.Dir);
        var period = Assert.Single(config.SchemaConfig.Configs);
        Assert.Equal(new DateOnly(2024, 1, 1), period.From);
        Assert.Equal("tsdb", period.Store);
        Assert.Equal("v13", period.Schema);
        Assert.Equal(TimeSpan.FromHours(24), period.Index.Period);
        Assert.Equal(TimeSpan.FromHours(744), config.LimitsConfig.RetentionPeriod);
        Assert.Equal(TimeSpan.FromMinutes(10), config.Compactor.CompactionInterval);
        Assert.True(config.Compactor.RetentionEnabled);
        Assert.Equal("snappy", config.Ingester.ChunkEncoding);
    }

    [Fact]
    public void Unset_keys_keep_Loki_3_defaults()
    {
        var config = Load("schema_config:\n  configs:\n    - {from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}\n");

        Assert.True(config.AuthEnabled);
        Assert.Equal(9095, config.Server.GrpcListenPort);
        Assert.Equal(4, config.LimitsConfig.IngestionRateMb);
        Assert.Equal(6, config.LimitsConfig.IngestionBurstSizeMb);
        Assert.Equal(256 * 1024, config.LimitsConfig.MaxLineSize.Bytes);
        Assert.Equal(15, config.LimitsConfig.MaxLabelNamesPerSeries);
        Assert.Equal(5000, config.LimitsConfig.MaxEntriesLimitPerQuery);
        Assert.Equal(TimeSpan.FromHours(721), config.LimitsConfig.MaxQueryLength);
        Assert.Equal(TimeSpan.FromHours(2), config.Compactor.RetentionDeleteDelay);
        Assert.Equal("gzip", config.Ingester.ChunkEncoding);
        Assert.Equal(TimeSpan.Zero, config.LimitsConfig.RetentionPeriod);
    }

    [Fact]
    public void Full_Loki_3_single_binary_config_loads_with_every_section()
    {
        var loaded = ConfigLoader.LoadText(Fixture("loki-3x-single-binary.yaml"), "loki.yaml", expandEnv: false);
        var config = loaded.Config;

        Assert.Equal("warn", config.Server.LogLevel);
        Assert.Equal(8388608, config.Server.GrpcServerMaxRecvMsgSize);
        Assert.Equal(TimeSpan.FromSeconds(90), config.Server.HttpServerWriteTimeout);
        Assert.Equal(2, config.SchemaConfig.Configs.Count);
        Assert.Equal("boltdb-shipper", config.SchemaConfig.Configs[0].Store);
        Assert.Equal(1L << 30, config.Ingester.Wal.ReplayMemoryCeiling.Bytes);
        Assert.Equal(512 * 1024, config.LimitsConfig.MaxLineSize.Bytes);
        Assert.Equal(5 << 20, config.LimitsConfig.PerStreamRateLimit.Bytes);
        Assert.Equal(10, config.LimitsConfig.IngestionRateMb);
        Assert.Equal(2, config.LimitsConfig.RetentionStream.Count);
        Assert.Equal("{container=\"postgres\"}", config.LimitsConfig.RetentionStream[1].Selector);
        Assert.Equal(2, config.LimitsConfig.RetentionStream[1].Priority);
        Assert.Equal(TimeSpan.FromDays(14), config.LimitsConfig.RetentionStream[1].Period);
        Assert.Equal(TimeSpan.FromSeconds(30), config.RuntimeConfig.Period);
        Assert.True(config.QueryRange.ResultsCache.Cache.EmbeddedCache.Enabled);
        Assert.Equal(500, config.QueryRange.ResultsCache.Cache.EmbeddedCache.MaxSizeMb);
        Assert.Equal(8, config.Querier.MaxConcurrent);
        Assert.Equal(4096, config.Frontend.MaxOutstandingPerTenant);
        Assert.Equal(32768, config.QueryScheduler.MaxOutstandingRequestsPerTenant);
        Assert.Equal("http://alertmanager:9093", config.Ruler.AlertmanagerUrl);
        Assert.Equal("/loki/rules", config.Ruler.Storage.Local.Directory);
        Assert.False(config.Analytics.ReportingEnabled);
        Assert.Empty(config.Memberlist.JoinMembers);

        var noticed = loaded.Notices.Select(n => (n.Key, n.Kind)).ToList();
        Assert.Contains(("server.log_request_headers", ConfigNoticeKind.Ignored), noticed);
        Assert.Contains(("ingester.lifecycler.final_sleep", ConfigNoticeKind.Ignored), noticed);
        Assert.Contains(("storage_config.boltdb_shipper.shared_store", ConfigNoticeKind.Deprecated), noticed);
        Assert.Contains(("limits_config.enforce_metric_name", ConfigNoticeKind.Deprecated), noticed);
        Assert.Contains(("table_manager", ConfigNoticeKind.Deprecated), noticed);
    }

    [Fact]
    public void Notices_carry_the_line_of_the_key()
    {
        var loaded = ConfigLoader.LoadText(MinimalSchema + "server:\n  http_listen_port: 3100\n  log_request_headers: true\n", "x.yaml", false);

        var notice = Assert.Single(loaded.Notices);
        Assert.Equal("server.log_request_headers", notice.Key);
        Assert.Equal(9, notice.Line);
    }

    [Fact]
    public void Modelled_keys_no_room_acts_on_are_reported_once_at_their_topmost_key()
    {
        var loaded = ConfigLoader.LoadText(MinimalSchema + "querier:\n  max_concurrent: 8\n  tail_max_duration: 2h\n" +
            "query_range:\n  align_queries_with_step: true\n  cache_results: true\n  results_cache:\n    cache:\n      embedded_cache: {enabled: true, max_size_mb: 10}\n",
            "x.yaml", false);

        Assert.Equal([("querier.max_concurrent", 8L)], loaded.Notices.Select(n => (n.Key, n.Line)));
        Assert.True(loaded.Config.QueryRange.AlignQueriesWithStep);
        Assert.Equal(10, loaded.Config.QueryRange.ResultsCache.Cache.EmbeddedCache.MaxSizeMb);
        Assert.Equal(TimeSpan.FromHours(2), loaded.Config.Querier.TailMaxDuration);
        Assert.True(loaded.Config.QueryRange.CacheResults);
    }

    [Fact]
    public void Unused_shipper_keys_are_reported_one_by_one_and_deprecated_ones_as_deprecated()
    {
        var loaded = ConfigLoader.LoadText(MinimalSchema + "storage_config:\n  boltdb_shipper:\n    active_index_directory: /x\n    shared_store: s3\n", "x.yaml", false);

        Assert.Equal(
            [("storage_config.boltdb_shipper.active_index_directory", 9L, ConfigNoticeKind.Ignored),
                ("storage_config.boltdb_shipper.shared_store", 10L, ConfigNoticeKind.Deprecated)],
            loaded.Notices.Select(n => (n.Key, n.Line, n.Kind)));
    }

    [Fact]
    public void An_inert_key_inside_a_list_item_is_reported_with_the_list_path()
    {
        var loaded = ConfigLoader.LoadText("schema_config:\n  configs:\n    - from: 2024-01-01\n      store: tsdb\n      object_store: filesystem\n" +
            "      schema: v13\n      row_shards: 8\n      index: {prefix: index_, period: 24h}\n", "x.yaml", false);

        Assert.Equal([("schema_config.configs[].row_shards", 7L)], loaded.Notices.Select(n => (n.Key, n.Line)));
    }

    [Fact]
    public void Environment_placeholders_expand_with_defaults()
    {
        var name = "LOKISHARP_TEST_PORT_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "3333");
        try
        {
            var text = MinimalSchema + $"server:\n  http_listen_port: ${{{name}}}\n  grpc_listen_port: ${{{name}_UNSET:-9444}}\n  log_level: ${{{name}_UNSET}}\n";

            var config = ConfigLoader.LoadText(text.Replace("log_level: ${" + name + "_UNSET}", "log_level: ${" + name + "_UNSET:-debug}", StringComparison.Ordinal),
                "env.yaml", expandEnv: true).Config;

            Assert.Equal(3333, config.Server.HttpListenPort);
            Assert.Equal(9444, config.Server.GrpcListenPort);
            Assert.Equal("debug", config.Server.LogLevel);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Placeholders_stay_literal_without_expand_env()
    {
        var error = Assert.Throws<ConfigException>(() => Load("server:\n  http_listen_port: ${PORT:-3100}\n"));

        Assert.Contains("key server.http_listen_port", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server:\n  http_listen_port: [3100\n", "line 3")]
    [InlineData("server: {\n", "malformed YAML")]
    [InlineData("- just\n- a list\n", "must be a mapping")]
    public void Malformed_yaml_is_rejected_with_its_line(string text, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(text));

        Assert.StartsWith("bad.yaml: line ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_top_level_section_names_key_and_line()
    {
        var error = Assert.Throws<ConfigException>(() => Load(MinimalSchema + "\nlimit_config:\n  max_query_series: 10\n"));

        Assert.Equal("bad.yaml: line 8, column 1: key limit_config: unknown configuration key (no Loki version accepts it; check its spelling and indentation)", error.Message);
    }

    [Fact]
    public void Misspelt_nested_key_is_rejected()
    {
        var error = Assert.Throws<ConfigException>(() => Load(MinimalSchema + "server:\n  http_listen_prot: 3100\n"));

        Assert.Contains("line 8, column 3: key server.http_listen_prot: unknown configuration key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Misspelt_key_inside_an_ignored_section_is_rejected()
    {
        var error = Assert.Throws<ConfigException>(() => Load(MinimalSchema + "storage_config:\n  aws:\n    bucketnamez: logs\n"));

        Assert.Contains("key storage_config.aws.bucketnamez: unknown configuration key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server:\n  http_listen_port: abc\n", "line 8, column 21: key server.http_listen_port: cannot parse \"abc\" as int")]
    [InlineData("auth_enabled: maybe\n", "key auth_enabled: cannot parse \"maybe\" as bool")]
    [InlineData("compactor:\n  compaction_interval: ten minutes\n", "key compactor.compaction_interval: cannot parse \"ten minutes\" as duration")]
    [InlineData("limits_config:\n  max_line_size: lots\n", "key limits_config.max_line_size: cannot parse \"lots\" as byte size")]
    [InlineData("server: 3100\n", "key server: expected a mapping of keys, found \"3100\"")]
    [InlineData("limits_config:\n  retention_stream: {selector: x}\n", "key limits_config.retention_stream: expected a list")]
    [InlineData("storage_config:\n  aws:\n    s3forcepathstyle: sometimes\n", "key storage_config.aws.s3forcepathstyle: cannot parse \"sometimes\" as bool")]
    public void Wrong_value_types_are_rejected_naming_the_key(string section, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(MinimalSchema + section));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("target: index-gateway\n", "key target: target \"index-gateway\" is not supported")]
    [InlineData("ingester:\n  chunk_encoding: brotli\n", "key ingester.chunk_encoding: unknown chunk encoding \"brotli\"")]
    [InlineData("server:\n  log_level: verbose\n", "key server.log_level: unrecognized log level \"verbose\"")]
    public void Invalid_values_are_rejected(string section, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(MinimalSchema + section));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("schema_config:\n  configs: []\n", "must specify at least one schema configuration")]
    [InlineData("schema_config:\n  configs:\n    - {from: 2024-01-01, store: tsdb, schema: v13, index: {period: 168h}}\n", "tsdb must always have periodic config for index set to 24h")]
    [InlineData("schema_config:\n  configs:\n    - {from: 2024-01-01, store: tsdb, schema: v14}\n", "invalid schema version \"v14\"")]
    [InlineData("schema_config:\n  configs:\n    - {from: 2024-02-01, store: tsdb, schema: v13}\n    - {from: 2024-01-01, store: tsdb, schema: v13}\n",
        "from time in schemas must be distinct and in increasing order")]
    [InlineData("schema_config:\n  configs:\n    - {from: 1st of May, store: tsdb, schema: v13}\n", "cannot parse \"1st of May\" as date")]
    public void Schema_periods_are_validated(string text, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Load(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_still_needs_a_schema()
    {
        var error = Assert.Throws<ConfigException>(() => Load(""));

        Assert.Contains("must specify at least one schema configuration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Path_prefix_derives_the_directories_not_set_explicitly()
    {
        var config = Load(MinimalSchema + "common:\n  path_prefix: /var/loki\ncompactor:\n  working_directory: /tmp/compact\n");

        Assert.Equal("/var/loki/chunks", config.StorageConfig.Filesystem.Directory);
        Assert.Equal("/var/loki/wal", config.Ingester.Wal.Dir);
        Assert.Equal("/tmp/compact", config.Compactor.WorkingDirectory);
    }

    [Theory]
    [InlineData("", 100L << 20, 100L << 20)]
    [InlineData("distributor: {max_recv_msg_size: 1048576}\n", 1L << 20, 1L << 20)]
    [InlineData("distributor: {max_recv_msg_size: 1048576, max_decompressed_size: 8388608}\n", 1L << 20, 8L << 20)]
    [InlineData("distributor: {max_recv_msg_size: 0}\n", 0x7FFFFFC7L, 0x7FFFFFC7L)]
    public void Push_size_limits_come_from_the_distributor_section(string yaml, long body, long decompressed)
    {
        var loaded = ConfigLoader.LoadText(MinimalSchema + yaml, "x.yaml", false);

        Assert.Equal(new LokiSharp.Ingester.Push.PushSizeLimits(body, decompressed), Hosting.RoomOptions.PushLimits(loaded.Config));
        Assert.DoesNotContain(loaded.Notices, n => n.Key.StartsWith("distributor.", StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_knows_the_keys_users_carry()
    {
        var catalog = ConfigKeyCatalog.Embedded;

        Assert.True(catalog.Count > 1000);
        Assert.NotNull(catalog.Find("query_range.results_cache.cache.embedded_cache.max_size_mb"));
        Assert.NotNull(catalog.Find("common.ring.kvstore.store"));
        Assert.True(catalog.Find("compactor.shared_store")!.Deprecated);
        Assert.Null(catalog.Find("server.http_listen_prot"));
    }

    [Fact]
    public void The_ruler_block_has_Lokis_defaults_and_maps_onto_the_rulers_options()
    {
        var defaults = Hosting.RoomOptions.Ruler(Load(MinimalSchema));
        Assert.Equal(Path.Combine("data", "rules"), defaults.RuleDirectory);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.EvaluationInterval);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.PollInterval);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.ResendDelay);
        Assert.Equal(TimeSpan.FromHours(1), defaults.ForOutageTolerance);
        Assert.Equal(TimeSpan.FromMinutes(10), defaults.ForGracePeriod);
        Assert.Equal("ruler-wal", defaults.StateDirectory);
        Assert.False(defaults.NotifiesAlertmanager);
        Assert.Equal(10000, defaults.Alertmanager.NotificationQueueCapacity);
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.Alertmanager.NotificationTimeout);
        Assert.False(defaults.RemoteWriteEnabled);
        Assert.True(Load(MinimalSchema).Ruler.EnableApi);

        var loaded = ConfigLoader.LoadText(MinimalSchema + """
            common:
              path_prefix: /var/loki
              storage:
                filesystem:
                  rules_directory: /var/loki/rules-common
            ruler:
              storage:
                type: local
                local:
                  directory: /etc/loki/rules
              evaluation_interval: 15s
              poll_interval: 30s
              external_url: https://grafana.example
              external_labels: {cluster: eu-1}
              alertmanager_url: http://am-1:9093, http://am-2:9093
              enable_alertmanager_v2: true
              notification_queue_capacity: 50
              notification_timeout: 3s
              alertmanager_client: {basic_auth_username: u, basic_auth_password: p, tls_insecure_skip_verify: true, tls_ca_path: /ca.pem}
              for_outage_tolerance: 30m
              for_grace_period: 1m
              resend_delay: 2m
              enable_api: false
              enable_sharding: true
              wal: {dir: /var/loki/wal-r, truncate_frequency: 1h}
              remote_write:
                enabled: true
                clients:
                  prom:
                    url: http://prometheus:9090/api/v1/write
                    remote_timeout: 5s
                    headers: {X-Scope-OrgID: dropped, X-Env: prod}
                    basic_auth: {username: w, password: s}
              evaluation: {mode: local}
            """, "r.yaml", false);
        var options = Hosting.RoomOptions.Ruler(loaded.Config);

        Assert.Equal("/etc/loki/rules", options.RuleDirectory);
        Assert.Equal("/var/loki/rules-temp", options.RulePath);
        Assert.Equal(TimeSpan.FromSeconds(15), options.EvaluationInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), options.PollInterval);
        Assert.Equal("https://grafana.example", options.ExternalUrl);
        Assert.Equal("eu-1", options.ExternalLabels.Get("cluster"));
        Assert.True(options.NotifiesAlertmanager);
        Assert.Equal("http://am-1:9093, http://am-2:9093", options.Alertmanager.AlertmanagerUrl);
        Assert.Equal(50, options.Alertmanager.NotificationQueueCapacity);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Alertmanager.NotificationTimeout);
        Assert.Equal("eu-1", options.Alertmanager.ExternalLabels.Get("cluster"));
        var amClient = options.Alertmanager.AlertmanagerClient;
        Assert.Equal(("u", "p", new LokiSharp.Ruler.Delivery.ClientTls(true, "/ca.pem", null)), (amClient.BasicAuthUsername, amClient.BasicAuthPassword, amClient.Tls));
        Assert.Equal((TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2)),
            (options.ForOutageTolerance, options.ForGracePeriod, options.ResendDelay));
        Assert.Equal("/var/loki/wal-r", options.StateDirectory);
        Assert.False(loaded.Config.Ruler.EnableApi);
        Assert.True(options.RemoteWriteEnabled);
        var client = Assert.Single(options.RemoteWriteClients);
        Assert.Equal(("prom", "http://prometheus:9090/api/v1/write", TimeSpan.FromSeconds(5), "w", "s"),
            (client.Name, client.Url.ToString(), client.RemoteTimeout, client.BasicAuthUsername, client.BasicAuthPassword));
        Assert.Equal(["X-Env"], client.Headers.Keys);
        Assert.Contains(loaded.Notices, n => n.Key == "ruler.wal.truncate_frequency" && n.Kind == ConfigNoticeKind.Ignored);
        Assert.Contains(loaded.Notices, n => n.Key == "ruler.enable_alertmanager_v2" && n.Kind == ConfigNoticeKind.Ignored);
    }

    [Fact]
    public void The_ruler_reads_the_common_rules_directory_without_a_storage_type()
    {
        var config = Load(MinimalSchema + "common:\n  storage:\n    filesystem:\n      rules_directory: /loki/rules\n");

        Assert.Equal("/loki/rules", Hosting.RoomOptions.Ruler(config).RuleDirectory);
    }

    [Theory]
    [InlineData("ruler:\n  storage:\n    type: s3\n", "ruler.storage.type \"s3\" is not supported by LokiSharp yet; use type: local with ruler.storage.local.directory")]
    [InlineData("ruler:\n  storage:\n    type: local\n", "ruler.storage.local.directory: directory required for local rules config")]
    [InlineData("ruler:\n  evaluation:\n    mode: remote\n", "ruler.evaluation.mode \"remote\" is not supported by LokiSharp; it evaluates rules locally (mode: local)")]
    [InlineData("ruler:\n  remote_write:\n    enabled: true\n", "invalid ruler remote-write config: remote-write enabled but no clients are configured")]
    [InlineData("ruler:\n  remote_write:\n    enabled: true\n    clients:\n      a: {name: n}\n",
        "invalid ruler remote-write config: remote-write enabled but client 'n' URL for tenant a is not configured")]
    [InlineData("ruler:\n  remote_write:\n    enabled: true\n    clients:\n      a: {url: /api/v1/write}\n",
        "invalid ruler remote-write config: client a: invalid remote_write url \"/api/v1/write\": expected an absolute http or https URL")]
    [InlineData("ruler:\n  remote_write:\n    enabled: true\n    clients:\n      a: {url: 'http://p/w', headers: {Authorization: x}}\n",
        "invalid ruler remote-write config: client a: authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter")]
    public void Ruler_settings_LokiSharp_cannot_run_are_refused_with_the_key(string yaml, string expected)
    {
        var config = Load(MinimalSchema + yaml);

        Assert.Equal(expected, Assert.Throws<ConfigException>(() => Hosting.RoomOptions.Ruler(config)).Message);
    }

    [Fact]
    public void The_deprecated_single_remote_write_client_is_the_default_client()
    {
        var config = Load(MinimalSchema + "ruler:\n  remote_write:\n    enabled: true\n    client:\n      url: http://p:9090/api/v1/write\n");

        var client = Assert.Single(Hosting.RoomOptions.Ruler(config).RemoteWriteClients);
        Assert.Equal(("default", "http://p:9090/api/v1/write"), (client.Name, client.Url.ToString()));
    }

    internal const string MinimalSchema =
        "schema_config:\n  configs:\n    - from: 2024-01-01\n      store: tsdb\n      schema: v13\n\n";

    private const string PeriodYaml = "schema_config:\n  configs:\n    - {from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}\n";

    [Fact]
    public void Peer_keys_are_read_and_the_rest_of_their_sections_stay_ignored()
    {
        var loaded = ConfigLoader.LoadText(PeriodYaml + """
            server: {grpc_listen_port: 9096}
            memberlist:
              join_members: ['dns+loki-memberlist.ns.svc.cluster.local:7946', '10.0.0.9:9300']
              bind_port: 7947
              abort_if_cluster_join_fails: true
            common: {instance_addr: 10.0.0.1, ring: {instance_addr: 10.0.0.2, kvstore: {store: memberlist}}}
            ingester: {lifecycler: {address: 10.0.0.3}, chunk_retain_period: 1m}
            ingester_client: {remote_timeout: 2s}
            querier: {query_ingesters_within: 2h}
            storage_config: {tsdb_shipper: {resync_interval: 1m, active_index_directory: /x}}
            """, "loki.yaml", expandEnv: false);
        var peers = Hosting.RoomOptions.Peers(loaded.Config);

        Assert.Equal(["dns+loki-memberlist.ns.svc.cluster.local:7946", "10.0.0.9:9300"], peers.Members);
        Assert.Equal((9096, 7947), (peers.GrpcPort, peers.MemberlistPort));
        Assert.Equal(["10.0.0.3", "10.0.0.2", "10.0.0.1"], peers.SelfAddresses);
        Assert.Equal(TimeSpan.FromSeconds(2), peers.Timeout);
        Assert.Equal(TimeSpan.FromHours(2), peers.QueryIngestersWithin);
        Assert.Equal(TimeSpan.FromMinutes(1), loaded.Config.StorageConfig.TsdbShipper.ResyncInterval);
        var noticed = loaded.Notices.Select(n => n.Key).ToList();
        Assert.Equal(["memberlist.abort_if_cluster_join_fails", "common.ring.kvstore", "storage_config.tsdb_shipper.active_index_directory"], noticed);
    }

    [Fact]
    public void Peer_keys_default_to_Lokis()
    {
        var config = Load(PeriodYaml);
        var peers = Hosting.RoomOptions.Peers(config);

        Assert.Empty(peers.Members);
        Assert.Equal(TimeSpan.FromSeconds(5), peers.Timeout);
        Assert.Equal(TimeSpan.FromHours(3), peers.QueryIngestersWithin);
        Assert.Equal(TimeSpan.FromMinutes(5), config.StorageConfig.TsdbShipper.ResyncInterval);
        Assert.Equal(TimeSpan.Zero, config.Ingester.ChunkRetainPeriod);
    }

    [Theory]
    [InlineData("all", "filesystem", "0s", 0)]
    [InlineData("all", "filesystem", "2m", 2)]
    [InlineData("write", "filesystem", "0s", 15)]
    [InlineData("ingester", "filesystem", "20m", 20)]
    [InlineData("all", "s3", "0s", 15)]
    [InlineData("read", "filesystem", "0s", 0)]
    public void Scale_out_ingesters_keep_flushed_entries_three_resync_intervals(string target, string store, string retain, int minutes)
    {
        var config = Load($"schema_config:\n  configs:\n    - {{from: 2024-01-01, store: tsdb, object_store: {store}, schema: v13, index: {{prefix: index_, period: 24h}}}}\n" +
            $"ingester: {{chunk_retain_period: {retain}}}\nstorage_config: {{aws: {{bucketnames: logs, region: us-east-1}}}}\n");

        Assert.Equal(TimeSpan.FromMinutes(minutes), Hosting.RoomOptions.Ingester(config, Hosting.ModuleTargets.Parse(target)).RetainFlushed);
    }

    private static LokiConfig Load(string text) => ConfigLoader.LoadText(text, "bad.yaml", expandEnv: false).Config;
}
