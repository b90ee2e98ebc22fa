using LokiSharp.Server.Configuration;
using LokiSharp.Server.Hosting;

namespace LokiSharp.Server.Tests;

public sealed class ModuleTargetsTests
{
    [Theory]
    [InlineData("all", "distributor,ingester,query-frontend,querier,compactor,ruler")]
    [InlineData("write", "distributor,ingester")]
    [InlineData("read", "query-frontend,querier")]
    [InlineData("backend", "compactor,ruler")]
    [InlineData("ruler", "ruler")]
    [InlineData("ingester", "ingester")]
    [InlineData("querier", "querier")]
    [InlineData("compactor", "compactor")]
    [InlineData("querier,compactor", "querier,compactor")]
    [InlineData("read, backend", "query-frontend,querier,compactor,ruler")]
    [InlineData("querier,ruler", "querier,ruler")]
    [InlineData("write,read,all", "distributor,ingester,query-frontend,querier,compactor,ruler")]
    public void Targets_expand_to_the_union_of_their_modules(string target, string expected)
    {
        var targets = ModuleTargets.Parse(target);

        string[] all = [ModuleTargets.Distributor, ModuleTargets.Ingester, ModuleTargets.QueryFrontend, ModuleTargets.Querier, ModuleTargets.Compactor,
            ModuleTargets.Ruler];
        Assert.Equal(expected, string.Join(',', all.Where(targets.Runs)));
    }

    [Fact]
    public void Only_the_ingester_or_the_compactor_write_the_store()
    {
        Assert.True(ModuleTargets.Parse("write").WritesStore);
        Assert.True(ModuleTargets.Parse("backend").WritesStore);
        Assert.False(ModuleTargets.Parse("read").WritesStore);
        Assert.False(ModuleTargets.Parse("querier").WritesStore);
        Assert.False(ModuleTargets.Parse("ruler").WritesStore);
    }

    [Theory]
    [InlineData("index-gateway", "target \"index-gateway\" is not supported by LokiSharp; it runs all, read, write, backend, distributor, ingester, querier, compactor, ruler")]
    [InlineData("querier,query-scheduler", "target \"query-scheduler\" is not supported by LokiSharp")]
    [InlineData("query-frontend", "target \"query-frontend\" is not supported by LokiSharp")]
    [InlineData("bloom-gateway", "target \"bloom-gateway\" is not supported by LokiSharp")]
    [InlineData("bogus", "unrecognised module name: bogus")]
    [InlineData("read,", "unrecognised module name: ")]
    [InlineData("distributor", "target \"distributor\" needs the ingester in the same process")]
    public void Targets_LokiSharp_does_not_run_are_refused_by_name(string target, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ModuleTargets.Parse(target));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_config_file_target_key_takes_a_list_and_flags_override_it()
    {
        var fromFile = ConfigLoader.LoadText(ConfigLoaderTests.MinimalSchema + "target: querier,compactor\n", "f.yaml", false).Config;
        Assert.Equal("querier,compactor", fromFile.Target);

        var flags = CommandLineFlags.Parse(["-target=bogus"]);
        var error = Assert.Throws<ConfigException>(() =>
            ConfigLoader.LoadText(ConfigLoaderTests.MinimalSchema + "target: read\n", "f.yaml", false, flags.ApplyTo));
        Assert.Equal("f.yaml: key target: unrecognised module name: bogus", error.Message);
    }
}
