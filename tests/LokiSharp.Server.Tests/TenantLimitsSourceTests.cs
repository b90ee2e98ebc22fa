using LokiSharp.Ingester.Otlp;
using LokiSharp.Server.Configuration;
using LokiSharp.Server.Hosting;

namespace LokiSharp.Server.Tests;

public sealed class TenantLimitsSourceTests
{
    [Fact]
    public void Overrides_apply_over_limits_config_per_tenant()
    {
        var defaults = new LimitsConfig { MaxQuerySeries = 700, RetentionPeriod = TimeSpan.FromHours(744) };
        const string text = """
            overrides:
              shop:
                ingestion_rate_mb: 50
                retention_stream:
                  - selector: '{app="nginx"}'
                    priority: 1
                    period: 48h
              audit:
                retention_period: 8760h
            """;

        var overrides = TenantLimitsSource.ParseOverrides(text, "runtime.yaml", defaults);

        Assert.Equal(50, overrides["shop"].IngestionRateMb);
        Assert.Equal(700, overrides["shop"].MaxQuerySeries);
        Assert.Equal(TimeSpan.FromHours(48), Assert.Single(overrides["shop"].RetentionStream).Period);
        Assert.Equal(TimeSpan.FromHours(8760), overrides["audit"].RetentionPeriod);
        Assert.Empty(defaults.RetentionStream);
        Assert.Equal(4, defaults.IngestionRateMb);
    }

    [Fact]
    public void Max_query_memory_bytes_defaults_to_a_gigabyte_and_is_a_size_per_tenant()
    {
        var config = ConfigLoader.LoadText("""
            schema_config:
              configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
            limits_config:
              max_query_memory_bytes: 512MB
            """, "loki.yaml", expandEnv: false).Config;
        Assert.Equal(1L << 30, new LimitsConfig().MaxQueryMemoryBytes.Bytes);
        Assert.Equal(512L << 20, config.LimitsConfig.MaxQueryMemoryBytes.Bytes);

        var overrides = TenantLimitsSource.ParseOverrides("overrides:\n  shop:\n    max_query_memory_bytes: 0\n", "runtime.yaml", config.LimitsConfig);
        Assert.Equal(0, overrides["shop"].MaxQueryMemoryBytes.Bytes);
    }

    [Fact]
    public void A_bad_override_names_the_tenant_and_key()
    {
        var error = Assert.Throws<ConfigException>(() =>
            TenantLimitsSource.ParseOverrides("overrides:\n  shop:\n    max_query_series: many\n", "runtime.yaml", new LimitsConfig()));

        Assert.Contains("runtime.yaml (overrides for tenant shop): line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("key limits_config.max_query_series: cannot parse \"many\" as int", error.Message, StringComparison.Ordinal);
    }

    private static LokiConfig LoadOtlpDefaults() => ConfigLoader.LoadText("""
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        distributor:
          otlp_config:
            default_resource_attributes_as_index_labels: [service.name, k8s.pod.name]
        limits_config:
          otlp_config:
            resource_attributes:
              attributes_config:
                - {action: index_label, regex: 'host\..*'}
            log_attributes:
              - {action: drop, attributes: [secret]}
        """, "loki.yaml", expandEnv: false).Config;

    [Fact]
    public void A_tenants_otlp_config_replaces_the_default_whole_and_others_inherit_it()
    {
        var config = LoadOtlpDefaults();
        const string text = """
            overrides:
              replaced:
                otlp_config:
                  resource_attributes: {ignore_defaults: true, attributes_config: [{action: index_label, attributes: [team]}]}
              inherited:
                ingestion_rate_mb: 9
            """;

        var overrides = TenantLimitsSource.ParseOverrides(text, "runtime.yaml", config.LimitsConfig);
        var defaults = config.Distributor.OtlpConfig.DefaultResourceAttributesAsIndexLabels;
        var replaced = RoomOptions.Ingestion(overrides["replaced"], defaults).Otlp;
        var inherited = RoomOptions.Ingestion(overrides["inherited"], defaults).Otlp;

        Assert.Equal(OtlpAttributeAction.IndexLabel, OtlpMapping.ActionFor(replaced.ResourceAttributes, "team"));
        Assert.Equal(OtlpAttributeAction.StructuredMetadata, OtlpMapping.ActionFor(replaced.ResourceAttributes, "service.name"));
        Assert.Equal(OtlpAttributeAction.StructuredMetadata, OtlpMapping.ActionFor(replaced.ResourceAttributes, "host.name"));
        Assert.Empty(replaced.LogAttributes);

        Assert.Equal(OtlpAttributeAction.IndexLabel, OtlpMapping.ActionFor(inherited.ResourceAttributes, "k8s.pod.name"));
        Assert.Equal(OtlpAttributeAction.IndexLabel, OtlpMapping.ActionFor(inherited.ResourceAttributes, "host.name"));
        Assert.Equal(OtlpAttributeAction.StructuredMetadata, OtlpMapping.ActionFor(inherited.ResourceAttributes, "k8s.namespace.name"));
        Assert.Equal(OtlpAttributeAction.Drop, OtlpMapping.ActionFor(inherited.LogAttributes, "secret"));
        Assert.Single(config.LimitsConfig.OtlpConfig!.ResourceAttributes.AttributesConfig);
    }

    [Fact]
    public void A_bad_otlp_rule_in_an_override_names_the_tenant_and_key()
    {
        var error = Assert.Throws<ConfigException>(() => TenantLimitsSource.ParseOverrides(
            "overrides:\n  shop:\n    otlp_config:\n      scope_attributes: [{action: index_label, attributes: [a]}]\n",
            "runtime.yaml", new LimitsConfig()));

        Assert.Equal("runtime.yaml (overrides for tenant shop): key limits_config.otlp_config.scope_attributes[0]: "
            + "index_label action is only supported for resource_attributes", error.Message);
    }
}
