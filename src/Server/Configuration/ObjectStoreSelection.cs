using LokiSharp.Storage.Objects;

namespace LokiSharp.Server.Configuration;

/// <summary>The kinds of object store LokiSharp can keep chunks in.</summary>
public enum ObjectStoreKind
{
    /// <summary>A local directory (<c>storage_config.filesystem</c> or a named filesystem store).</summary>
    Filesystem,

    /// <summary>An S3 bucket (<c>storage_config.aws</c>, filled from <c>common.storage.s3</c>, or a named aws store).</summary>
    S3,
}

/// <summary>
/// The store a schema period's <c>object_store</c> names, resolved as Loki resolves it: <c>filesystem</c>, <c>s3</c> or
/// its alias <c>aws</c>, or the name of a <c>storage_config.named_stores</c> entry. Loki's other stores (gcs, azure,
/// swift, bos, cos, alibabacloud) are valid Loki values LokiSharp cannot serve: they stop start-up rather than
/// silently keeping the chunks on local disk.
/// </summary>
/// <param name="Kind">Filesystem or S3.</param>
/// <param name="Name">The <c>object_store</c> value as written.</param>
/// <param name="S3">The bucket's options when <paramref name="Kind"/> is S3.</param>
/// <param name="Directory">The directory of a named filesystem store; null for <c>storage_config.filesystem</c>.</param>
public sealed record ObjectStoreSelection(ObjectStoreKind Kind, string Name, S3ObjectStoreOptions? S3, string? Directory)
{
    /// <summary>Loki 3.x's built-in <c>object_store</c> values.</summary>
    public static readonly IReadOnlyList<string> LokiStoreTypes = ["filesystem", "aws", "alibabacloud", "azure", "bos", "cos", "gcs", "s3", "swift"];

    /// <summary>Values only Loki 2.x accepted (index stores and test mocks); Loki 3.x refuses them.</summary>
    public static readonly IReadOnlyList<string> Loki2StoreTypes =
        ["inmemory", "aws-dynamo", "boltdb", "cassandra", "bigtable", "bigtable-hashed", "gcp", "gcp-columnkey", "grpc-store", "local"];

    /// <summary>The store of the period at <paramref name="index"/> in <c>schema_config.configs</c>.</summary>
    /// <exception cref="ConfigException">The value names no store, one LokiSharp cannot serve, or an S3 store that cannot be reached.</exception>
    public static ObjectStoreSelection ForPeriod(LokiConfig config, int index)
    {
        var name = config.SchemaConfig.Configs[index].ObjectStore;
        var key = $"schema_config.configs[{index}].object_store";
        switch (name)
        {
            case "" or "filesystem":
                return new ObjectStoreSelection(ObjectStoreKind.Filesystem, name, null, null);
            case "s3" or "aws":
                return new ObjectStoreSelection(ObjectStoreKind.S3, name, S3StorageConfig.ToOptions(config.StorageConfig.Aws, "storage_config.aws"), null);
        }

        var named = config.StorageConfig.NamedStores;
        if (LokiStoreTypes.Contains(name))
        {
            throw Unsupported(key, $"\"{name}\" is a Loki object store");
        }

        switch (named.KindOf(name))
        {
            case "aws":
                var options = S3StorageConfig.ToOptions(named.Aws[name], "storage_config.named_stores.aws." + name);
                return new ObjectStoreSelection(ObjectStoreKind.S3, name, options, null);
            case "filesystem":
                return new ObjectStoreSelection(ObjectStoreKind.Filesystem, name, null, named.Filesystem[name].Directory);
            case { } kind:
                throw Unsupported(key, $"\"{name}\" is a named {kind} store (storage_config.named_stores.{kind})");
        }

        var hint = Loki2StoreTypes.Contains(name) ? " (a Loki 2.x value Loki 3.x no longer accepts)" : "";
        throw new ConfigException($"key {key}: unrecognized `object_store` type `{name}`{hint}, which also does not match any " +
            $"named_stores. Choose one of: {string.Join(", ", LokiStoreTypes)}. Or choose a named_store");
    }

    private static ConfigException Unsupported(string key, string what) =>
        new($"key {key}: {what} that LokiSharp does not support: LokiSharp keeps chunks only on the local filesystem " +
            "(filesystem) or in an S3-compatible bucket (s3 or aws)");
}
