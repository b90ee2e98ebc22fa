using LokiSharp.Server.Configuration;
using LokiSharp.Server.Hosting;

namespace LokiSharp.Server.Tests;

/// <summary>How the host picks the chunk store's layout and the bucket's settings from Loki's keys.</summary>
public sealed class StoreLayoutTests
{
    private const string S3 = "schema_config:\n  configs:\n" +
        "    - {from: 2024-01-01, store: tsdb, object_store: s3, schema: v13, index: {prefix: index_, period: 24h}}\n" +
        "storage_config:\n  aws: {endpoint: 'http://127.0.0.1:1', bucketnames: logs, access_key_id: a, secret_access_key: b}\n";

    private static LokiConfig Load(string text) => ConfigLoader.LoadText(text, "x.yaml", false).Config;

    private static ModuleTargets All => ModuleTargets.Parse("all");

    [Fact]
    public void Filesystem_periods_keep_the_local_layout()
    {
        Assert.Null(StoreLayout.BucketOf(Load(ConfigLoaderTests.MinimalSchema), All));
        Assert.Equal("logs", StoreLayout.BucketOf(Load(S3), All)!.S3!.BucketName);
    }

    [Fact]
    public void Periods_naming_different_stores_are_refused_naming_the_key()
    {
        var text = S3.Replace("  configs:\n", "  configs:\n" +
            "    - {from: 2023-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}\n", StringComparison.Ordinal);
        var error = Assert.Throws<ConfigException>(() => StoreLayout.BucketOf(Load(text), All));
        Assert.StartsWith("key schema_config.configs[1].object_store: \"s3\" differs from the first period's \"filesystem\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sse: {type: SSE-S3}", "key storage_config.aws.sse.type: server-side encryption (\"SSE-S3\") is not supported")]
    [InlineData("storage_class: STANDARD_IA", "key storage_config.aws.storage_class: \"STANDARD_IA\" is not supported")]
    public void Encryption_and_storage_classes_are_refused_rather_than_dropped(string setting, string expected)
    {
        var text = S3.Replace("secret_access_key: b}", "secret_access_key: b, " + setting + "}", StringComparison.Ordinal);
        var error = Assert.Throws<ConfigException>(() => StoreLayout.BucketOf(Load(text), All));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retention_on_a_bucket_is_accepted_and_the_compactor_gets_an_epoch_where_it_runs()
    {
        var config = Load(S3 + "compactor:\n  retention_enabled: true\n  delete_request_store: s3\n");
        var selection = StoreLayout.BucketOf(config, All)!;
        var before = DateTime.UtcNow.Ticks;
        Assert.InRange(StoreLayout.Bucket(config, selection, All).CompactorEpoch!.Value, before, DateTime.UtcNow.Ticks);
        Assert.NotNull(StoreLayout.Bucket(config, selection, ModuleTargets.Parse("backend")).CompactorEpoch);
        Assert.Null(StoreLayout.Bucket(config, selection, ModuleTargets.Parse("write")).CompactorEpoch);
        Assert.Null(StoreLayout.Bucket(config, selection, ModuleTargets.Parse("read")).CompactorEpoch);
    }

    [Fact]
    public void Bucket_settings_come_from_Loki_keys()
    {
        var config = Load(S3.Replace("storage_config:\n", "storage_config:\n  tsdb_shipper:\n    resync_interval: 30s\n", StringComparison.Ordinal) +
            "common:\n  path_prefix: /var/loki\ningester:\n  lifecycler:\n    id: loki-write-0\n" +
            "chunk_store_config:\n  chunk_cache_config:\n    embedded_cache:\n      max_size_mb: 7\n");
        var selection = StoreLayout.BucketOf(config, All)!;
        var options = StoreLayout.Bucket(config, selection, All);
        Assert.Equal(("loki-write-0", TimeSpan.FromSeconds(30), 7L << 20), (options.Writer, options.ResyncInterval, options.ChunkCacheBytes));
        Assert.Equal(Path.Combine("/var/loki", "chunk-cache"), options.ChunkCacheDirectory);
        Assert.Equal((TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3)), (options.MinBackoff, options.MaxBackoff));
        Assert.Null(StoreLayout.Bucket(config, selection, ModuleTargets.Parse("read")).Writer);
    }

    [Fact]
    public void Defaults_are_Loki_s_and_boltdb_shipper_s_resync_interval_is_read_when_tsdb_shipper_s_is_not_set()
    {
        var config = Load(S3);
        var options = StoreLayout.Bucket(config, StoreLayout.BucketOf(config, All)!, ModuleTargets.Parse("read"));
        Assert.Equal((TimeSpan.FromMinutes(5), 100L << 20), (options.ResyncInterval, options.ChunkCacheBytes));

        var legacy = ConfigLoader.LoadText(S3.Replace("storage_config:\n", "storage_config:\n  boltdb_shipper: {resync_interval: 1m}\n", StringComparison.Ordinal),
            "x.yaml", false);
        Assert.Equal(TimeSpan.FromMinutes(1), StoreLayout.Bucket(legacy.Config, StoreLayout.BucketOf(legacy.Config, All)!, All).ResyncInterval);
    }

    [Fact]
    public void An_invalid_writer_name_names_the_key()
    {
        var config = Load(S3 + "ingester:\n  lifecycler:\n    id: Loki_Write_0\n");
        var error = Assert.Throws<ConfigException>(() => StoreLayout.Bucket(config, StoreLayout.BucketOf(config, All)!, All));
        Assert.StartsWith("key ingester.lifecycler.id: \"Loki_Write_0\" cannot name this ingester in the bucket: only lower-case letters",
            error.Message, StringComparison.Ordinal);
    }
}
