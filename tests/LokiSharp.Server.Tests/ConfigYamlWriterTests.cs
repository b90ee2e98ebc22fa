using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Tests;

public sealed class ConfigYamlWriterTests
{
    [Fact]
    public void Full_output_reloads_to_the_same_configuration()
    {
        var original = ConfigLoader.LoadText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "loki-3x-single-binary.yaml")), "f.yaml", false).Config;

        var text = ConfigYamlWriter.Write(original);
        var reloaded = ConfigLoader.LoadText(text, "written.yaml", false).Config;

        Assert.Equal(text, ConfigYamlWriter.Write(reloaded));
        Assert.Contains("  http_listen_port: 3100\n", text, StringComparison.Ordinal);
        Assert.Contains("  retention_period: 744h0m0s\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_shows_only_values_that_differ_from_Loki_defaults()
    {
        var config = ConfigLoader.LoadText(ConfigLoaderTests.MinimalSchema + "limits_config:\n  max_query_series: 1000\n", "f.yaml", false).Config;

        var diff = ConfigYamlWriter.WriteDiff(config, new LokiConfig());

        Assert.Contains("limits_config:\n  max_query_series: 1000\n", diff, StringComparison.Ordinal);
        Assert.DoesNotContain("server:", diff, StringComparison.Ordinal);
        Assert.DoesNotContain("ingestion_rate_mb", diff, StringComparison.Ordinal);
    }
}
