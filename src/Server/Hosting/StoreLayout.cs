using LokiSharp.Server.Configuration;
using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Objects;
using LokiSharp.Storage.Store;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Chooses the chunk store's layout from <c>schema_config.configs[].object_store</c>: the local layout for
/// <c>filesystem</c> (the default), the bucket layout (docs/formats/bucket.md) for <c>s3</c>/<c>aws</c> or a named aws
/// store. What the bucket layout cannot do yet stops start-up with the key to change, never silently.
/// </summary>
internal static class StoreLayout
{
    /// <summary>
    /// The S3 store every schema period names, or null when they all keep chunks on the local filesystem.
    /// </summary>
    /// <exception cref="ConfigException">Periods name different stores, or the bucket would need what is not built yet.</exception>
    public static ObjectStoreSelection? BucketOf(LokiConfig config, ModuleTargets targets)
    {
        var selections = new List<ObjectStoreSelection>();
        for (var i = 0; i < config.SchemaConfig.Configs.Count; i++)
        {
            selections.Add(ObjectStoreSelection.ForPeriod(config, i));
        }

        // Filesystem-only schemas keep the local layout exactly as before, named directories included.
        if (!selections.Exists(static s => s.Kind == ObjectStoreKind.S3))
        {
            return null;
        }

        var first = selections[0];
        for (var i = 1; i < selections.Count; i++)
        {
            var selection = selections[i];
            if (selection.Kind != first.Kind || selection.S3 != first.S3)
            {
                throw new ConfigException($"key schema_config.configs[{i}].object_store: \"{selection.Name}\" differs from the " +
                    $"first period's \"{first.Name}\"; LokiSharp keeps every period in one store, so all periods must name the same one");
            }
        }

        var block = first.Name is "s3" or "aws" ? "storage_config.aws" : "storage_config.named_stores.aws." + first.Name;
        var aws = AwsBlock(config, first);
        if (aws.Sse.Type.Length > 0)
        {
            throw new ConfigException($"key {block}.sse.type: server-side encryption (\"{aws.Sse.Type}\") is not supported by LokiSharp " +
                "yet; configure default encryption on the bucket itself and remove this key, so that encryption is never silently dropped");
        }

        if (aws.StorageClass != "STANDARD")
        {
            throw new ConfigException($"key {block}.storage_class: \"{aws.StorageClass}\" is not supported by LokiSharp yet; " +
                "only STANDARD (the default) is");
        }

        return first;
    }

    /// <summary>
    /// Opens the chunk store over the bucket and loads its index: this checks the bucket and the credentials, so a
    /// missing bucket, bad keys or an unreachable endpoint stop start-up with the key to fix.
    /// </summary>
    /// <exception cref="ConfigException">The writer name is invalid.</exception>
    /// <exception cref="IOException">The bucket cannot be listed.</exception>
    public static ChunkStore OpenBucket(LokiConfig config, ObjectStoreSelection selection, ModuleTargets targets, StorageOptions storage)
    {
        var bucket = Bucket(config, selection, targets);
        IObjectStore? objects = null;
        try
        {
            var s3 = new S3ObjectStore(selection.S3!);
            objects = s3;
            if (bucket.Writer is not null || bucket.CompactorEpoch is not null)
            {
                // Writers create every key with If-None-Match where the server honours it, so not even a clock gone back
                // across a restart can overwrite an object (docs/formats/bucket.md, sequences).
                var probe = $"writers/{bucket.Writer ?? "compactor"}/create-only-probe-{Guid.NewGuid():N}";
                s3.DetectConditionalWritesAsync(probe).GetAwaiter().GetResult();
            }

            return ChunkStore.OpenBucket(storage, objects, bucket);
        }
        catch (ObjectStoreException e)
        {
            var hint = e.Kind == ObjectStoreErrorKind.Transient
                ? " (check storage_config.aws.endpoint, or the s3 URL, and that the server is up)"
                : "";
            throw new IOException($"cannot use the object store \"{selection.Name}\" (bucket \"{selection.S3!.BucketName}\"): {e.Message}{hint}", e);
        }
        catch (ArgumentException e) when (objects is null)
        {
            throw new IOException($"cannot use the object store \"{selection.Name}\": {e.Message}", e);
        }
    }

    private static AwsStorageConfig AwsBlock(LokiConfig config, ObjectStoreSelection selection) =>
        selection.Name is "s3" or "aws" ? config.StorageConfig.Aws : config.StorageConfig.NamedStores.Aws[selection.Name];

    /// <summary>
    /// <c>storage_config.tsdb_shipper.resync_interval</c>, or Loki 2.x's <c>boltdb_shipper</c> one when only that is set:
    /// how often readers refresh a bucket's index (and so how long scale-out ingesters keep flushed entries).
    /// </summary>
    public static TimeSpan ResyncInterval(LokiConfig config)
    {
        var shipper = config.StorageConfig.TsdbShipper.ResyncInterval;
        var legacy = config.StorageConfig.BoltdbShipper.ResyncInterval;
        return shipper == new ShipperConfig().ResyncInterval && legacy != shipper ? legacy : shipper;
    }

    /// <summary>
    /// The bucket settings: the writer name (an ingester's), the compactor's epoch (its start time in ticks, where the
    /// compactor runs), the refresh interval, the chunk cache, and the waits between a flush's attempts (the S3 block's
    /// <c>backoff_config</c> periods).
    /// </summary>
    /// <exception cref="ConfigException">The writer name breaks <see cref="WriterName"/>'s rules.</exception>
    public static BucketOptions Bucket(LokiConfig config, ObjectStoreSelection selection, ModuleTargets targets)
    {
        string? writer = null;
        if (targets.RunsIngester)
        {
            var id = config.Ingester.Lifecycler.Id;
            writer = id.Length > 0 ? id : System.Net.Dns.GetHostName();
            if (WriterName.Problem(writer) is { } problem)
            {
                throw new ConfigException($"key ingester.lifecycler.id: \"{writer}\"{(id.Length > 0 ? "" : " (the host name, its default)")} " +
                    $"cannot name this ingester in the bucket: {problem}; set ingester.lifecycler.id to a name that is unique among the writers");
            }
        }

        var resync = ResyncInterval(config);
        if (resync <= TimeSpan.Zero)
        {
            throw new ConfigException("key storage_config.tsdb_shipper.resync_interval: must be positive");
        }

        var prefix = config.Common.PathPrefix.Length > 0 ? config.Common.PathPrefix : "data";
        var backoff = AwsBlock(config, selection).BackoffConfig;
        var defaults = new BucketOptions { ChunkCacheDirectory = "" };
        return new BucketOptions
        {
            MinBackoff = backoff.MinPeriod > TimeSpan.Zero ? backoff.MinPeriod : defaults.MinBackoff,
            MaxBackoff = backoff.MaxPeriod > TimeSpan.Zero ? backoff.MaxPeriod : defaults.MaxBackoff,
            Writer = writer,
            CompactorEpoch = targets.RunsCompactor ? DateTime.UtcNow.Ticks : null,
            ResyncInterval = resync,
            ChunkCacheDirectory = Path.Combine(prefix, "chunk-cache"),
            ChunkCacheBytes = Math.Max(0, config.ChunkStoreConfig.ChunkCacheConfig.EmbeddedCache.MaxSizeMb) * (1L << 20),
        };
    }
}
