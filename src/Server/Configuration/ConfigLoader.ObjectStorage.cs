using YamlDotNet.RepresentationModel;

namespace LokiSharp.Server.Configuration;

// The object storage sections: common.storage.s3 under storage_config.aws, and the checks Loki makes at start-up.
public static partial class ConfigLoader
{
    // Loki copies common.storage.s3 whole into storage_config.aws and then loads the file again, so each key set in
    // storage_config.aws wins over common's (dskit's DynamicUnmarshal). Binding both blocks onto one fresh object
    // in that order does the same. Only one common storage backend may be given.
    private static void ApplyCommonS3(YamlMappingNode root, LokiConfig config, string source)
    {
        var common = config.Common.Storage;
        if (common.S3 is null)
        {
            return;
        }

        if (common.Filesystem is not null)
        {
            throw new ConfigException($"{source}: key common.storage: too many storage configs provided in the common config, " +
                "please only define one storage backend");
        }

        // A second binder: these keys were checked and noticed by the first pass.
        var binder = new ConfigBinder(ConfigKeyCatalog.Embedded, source);
        var merged = new AwsStorageConfig();
        if (Child(Child(root, "common"), "storage") is { } storage && Child(storage, "s3") is { } commonS3)
        {
            binder.BindMapping(commonS3, merged, "common.storage.s3");
        }

        if (Child(Child(root, "storage_config"), "aws") is { } aws)
        {
            binder.BindMapping(aws, merged, "storage_config.aws");
        }

        config.StorageConfig.Aws = merged;
    }

    private static YamlMappingNode? Child(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child as YamlMappingNode : null;

    // Loki validates every S3 block whether a period uses it or not, then resolves each period's object_store.
    private static void ValidateObjectStores(LokiConfig config, string source)
    {
        try
        {
            S3StorageConfig.Validate(config.StorageConfig.Aws, "storage_config.aws");
            config.StorageConfig.NamedStores.Validate();
            foreach (var (name, aws) in config.StorageConfig.NamedStores.Aws)
            {
                S3StorageConfig.Validate(aws, "storage_config.named_stores.aws." + name);
            }

            for (var i = 0; i < config.SchemaConfig.Configs.Count; i++)
            {
                ObjectStoreSelection.ForPeriod(config, i);
            }
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{source}: {e.Message}", e);
        }
    }
}
