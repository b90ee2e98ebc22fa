using LokiSharp.Server.Configuration;

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
    public void A_bad_override_names_the_tenant_and_key()
    {
        var error = Assert.Throws<ConfigException>(() =>
            TenantLimitsSource.ParseOverrides("overrides:\n  shop:\n    max_query_series: many\n", "runtime.yaml", new LimitsConfig()));

        Assert.Contains("runtime.yaml (overrides for tenant shop): line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("key limits_config.max_query_series: cannot parse \"many\" as int", error.Message, StringComparison.Ordinal);
    }
}
