using System.Net;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// The real server started on loki-configmap.yaml's own config, with only its ports and its /loki paths
/// redirected (to free ports and a temporary directory), shared by the tests below.
/// </summary>
public sealed partial class DeployedServerFixture : IAsyncLifetime
{
    public LokiProcess Server { get; private set; } = null!;

    /// <summary>The ConfigMap's loki.yaml, exactly as committed.</summary>
    public static string ConfigMapConfig => DeployFiles.ConfigMapFile("loki-config", "loki.yaml");

    /// <summary>
    /// The ConfigMap's config with the two ports and every /loki path replaced by LokiProcess's
    /// ${HTTP_PORT}, ${GRPC_PORT} and ${DATA}; nothing else changes.
    /// </summary>
    public static string RedirectedConfig()
    {
        var text = ConfigMapConfig;
        var redirected = HttpPort().Replace(text, "${1}${HTTP_PORT}");
        redirected = GrpcPort().Replace(redirected, "${1}${GRPC_PORT}");
        redirected = LokiPath().Replace(redirected, "${1}${DATA}");

        // As root the server could write to a real /loki and the test would still pass: make sure none is left.
        Assert.DoesNotMatch(LokiPath(), redirected);
        Assert.Equal(1, CountOf(redirected, "${HTTP_PORT}"));
        Assert.Equal(1, CountOf(redirected, "${GRPC_PORT}"));
        Assert.True(CountOf(redirected, "${DATA}") >= 7, "expected the path prefix, storage, index, WAL and compactor paths to be redirected");
        Assert.DoesNotContain("$", text, StringComparison.Ordinal);
        return redirected;
    }

    public async Task InitializeAsync() => Server = await LokiProcess.StartAsync(RedirectedConfig());

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static int CountOf(string text, string value) => Regex.Count(text, Regex.Escape(value));

    [GeneratedRegex(@"(?m)^(\s*http_listen_port:\s*)3100$")]
    private static partial Regex HttpPort();

    [GeneratedRegex(@"(?m)^(\s*grpc_listen_port:\s*)9096$")]
    private static partial Regex GrpcPort();

    [GeneratedRegex(@"(?m)^(\s*[a-z_]+:\s*)/loki(?=/|$)")]
    private static partial Regex LokiPath();
}

/// <summary>What the deployment relies on, checked on a server running the deployment's own config.</summary>
public sealed partial class DeployedServerTests(DeployedServerFixture fixture) : IClassFixture<DeployedServerFixture>
{
    private LokiProcess Server => fixture.Server;

    private string DataDir => Path.Combine(Server.WorkDir, "data");

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await Server.Http.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Verify_config_accepts_the_ConfigMap_config_as_committed()
    {
        // The unredirected file, /loki paths and all: -verify-config only reads it.
        var path = Path.Combine(Server.WorkDir, "configmap-loki.yaml");
        await File.WriteAllTextAsync(path, DeployedServerFixture.ConfigMapConfig);

        var (exitCode, output) = await LokiProcess.RunToExitAsync(null, "-config.file=" + path, "-verify-config");

        Assert.True(exitCode == 0, $"-verify-config exited {exitCode}:\n{output}");
    }

    [Fact]
    public async Task Verify_config_rejects_the_ConfigMap_config_with_a_misspelt_key()
    {
        // Proves the test above can fail: the same file with one key misspelt.
        var path = Path.Combine(Server.WorkDir, "configmap-misspelt.yaml");
        await File.WriteAllTextAsync(path, DeployedServerFixture.ConfigMapConfig.Replace("retention_enabled:", "retention_enable:", StringComparison.Ordinal));

        var (exitCode, output) = await LokiProcess.RunToExitAsync(null, "-config.file=" + path, "-verify-config");

        Assert.Equal(1, exitCode);
        Assert.Contains("retention_enable", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_becomes_ready_on_the_ConfigMap_config_and_reports_exactly_the_keys_it_does_not_act_on()
    {
        var (status, body) = await GetAsync("/ready");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready\n", body);
        // The ConfigMap stays a real Loki file, so it carries keys a Loki single binary needs that LokiSharp has no
        // use for (ring, replication, shipper directories): exactly those are reported as ignored; anything else
        // would mean a setting silently not taking effect.
        var ignored = System.Text.RegularExpressions.Regex.Matches(Server.Output, "is ignored\" key=(\\S+)")
            .Select(m => m.Groups[1].Value).ToArray();
        // (common.instance_addr is read: it is how a process recognises itself among peer ingesters.)
        Assert.Equal(["common.replication_factor", "common.ring.kvstore", "storage_config.tsdb_shipper.active_index_directory",
            "storage_config.tsdb_shipper.cache_location", "compactor.delete_request_store", "analytics"], ignored);
        Assert.DoesNotContain("deprecated", Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_endpoint_shows_the_retention_compactor_limits_and_cache_settings()
    {
        var (status, body) = await GetAsync("/config");
        var config = DeployFiles.ParseYaml(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(TimeSpan.FromHours(744), DeployFiles.GoDuration(config.Str("limits_config", "retention_period")));
        Assert.Equal("true", config.Str("compactor", "retention_enabled"));
        Assert.Equal(TimeSpan.FromMinutes(10), DeployFiles.GoDuration(config.Str("compactor", "compaction_interval")));
        Assert.Equal(TimeSpan.FromHours(2), DeployFiles.GoDuration(config.Str("compactor", "retention_delete_delay")));
        Assert.Equal("filesystem", config.Str("compactor", "delete_request_store"));
        Assert.Equal(DataDir + "/compactor", config.Str("compactor", "working_directory"));
        Assert.Equal(DataDir, config.Str("common", "path_prefix"));
        Assert.Equal("10", config.Str("limits_config", "ingestion_rate_mb"));
        Assert.Equal("20", config.Str("limits_config", "ingestion_burst_size_mb"));
        Assert.Equal("500", config.Str("limits_config", "max_query_series"));
        Assert.Equal("500", config.Str("query_range", "results_cache", "cache", "embedded_cache", "max_size_mb"));
        Assert.Equal("snappy", config.Str("ingester", "chunk_encoding"));
    }

    [Fact]
    public async Task Pushed_logs_reach_the_WAL_and_chunk_directories_and_nothing_is_written_elsewhere()
    {
        var configMap = DeployFiles.ParseYaml(DeployedServerFixture.ConfigMapConfig);
        var onVolume = (string path) => Path.Combine(DataDir, path["/loki/".Length..]);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var json = $$"""{"streams":[{"stream":{"namespace":"jewelry-shop","app":"deploy-test"},"values":[["{{now}}","order 42 paid"]]}]}""";

        using var push = await Server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        using var flush = await Server.Http.PostAsync(new Uri("/flush", UriKind.Relative), null);
        var (_, metrics) = await GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NoContent, push.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, flush.StatusCode);
        Assert.NotEmpty(Directory.EnumerateFiles(onVolume(configMap.Str("ingester", "wal", "dir")), "*", SearchOption.AllDirectories));
        Assert.NotEmpty(Directory.EnumerateFiles(onVolume(configMap.Str("common", "storage", "filesystem", "chunks_directory")), "*", SearchOption.AllDirectories));
        Assert.Matches(@"(?m)^loki_distributor_lines_received_total\{[^}]*\} [1-9]", metrics);
        // The pod's root filesystem is read-only: whatever the server writes must be under the volume
        // (here the data directory); the working directory holds only the test's own files.
        var elsewhere = Directory.EnumerateFileSystemEntries(Server.WorkDir).Select(Path.GetFileName)
            .Where(n => n is not ("data" or "loki.yaml") && !n!.StartsWith("configmap-", StringComparison.Ordinal)).ToList();
        Assert.Empty(elsewhere);
    }

    [Fact]
    public async Task Every_probe_path_in_the_Deployment_answers_200()
    {
        var container = DeployFiles.Object("Deployment", "loki").Get("spec", "template", "spec").Seq("containers").Named("loki");

        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            var path = container.Str(probe, "httpGet", "path");
            var (status, body) = await GetAsync(path);
            Assert.True(status == HttpStatusCode.OK, $"{probe} {path} answered {(int)status}: {body}");
        }
    }

    [Fact]
    public async Task Metrics_the_scripts_and_dashboards_read_are_exported()
    {
        var (status, body) = await GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Matches(@"(?m)^loki_build_info\{", body);
        Assert.Matches(@"(?m)^process_cpu_seconds_total ", body);
        Assert.Matches(@"(?m)^process_(resident_memory|working_set)_bytes ", body);
    }

    [Fact]
    public async Task Validate_script_passes_its_ops_and_push_checks_against_the_server()
    {
        var (exitCode, output) = await RunScriptAsync("validate-loki.sh", new() { ["CHECKS"] = "ready,buildinfo,metrics,push" });

        Assert.True(exitCode == 0, $"validate-loki.sh exited {exitCode}:\n{output}");
        Assert.Contains("PASS push accepted", output, StringComparison.Ordinal);
        Assert.Equal(6, PassLines().Count(output));
        Assert.Contains("0 failure(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Comprehensive_script_sees_the_retention_and_compactor_settings_and_metrics()
    {
        var (exitCode, output) = await RunScriptAsync("test-loki-comprehensive.sh", new()
        {
            ["CHECKS"] = "config,metrics",
            ["EXPECT_PATH_PREFIX"] = DataDir,
        });

        Assert.True(exitCode == 0, $"test-loki-comprehensive.sh exited {exitCode}:\n{output}");
        Assert.Contains("PASS retention_period is 744h (31 days)", output, StringComparison.Ordinal);
        Assert.Contains("PASS compactor retention_enabled is true", output, StringComparison.Ordinal);
        Assert.Contains("PASS compaction_interval is 10m", output, StringComparison.Ordinal);
        Assert.Contains($"PASS path_prefix is {DataDir}", output, StringComparison.Ordinal);
        Assert.Equal(13, PassLines().Count(output));
    }

    [Fact]
    public async Task Comprehensive_script_runs_every_LogQL_example_and_sees_the_compactor()
    {
        var (exitCode, output) = await RunScriptAsync("test-loki-comprehensive.sh", new() { ["CHECKS"] = "logql,compactor-metrics" });

        Assert.True(exitCode == 0, $"test-loki-comprehensive.sh exited {exitCode}:\n{output}");
        Assert.Equal(0, FailLines().Count(output));
        Assert.Contains("PASS LogQL: ", output, StringComparison.Ordinal);
        Assert.Contains("PASS the compactor reports it is running", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_script_round_trips_a_push_through_the_query_api()
    {
        var (exitCode, output) = await RunScriptAsync("validate-loki.sh", new() { ["CHECKS"] = "push,roundtrip" });

        Assert.True(exitCode == 0, $"validate-loki.sh exited {exitCode}:\n{output}");
        Assert.Equal(0, FailLines().Count(output));
        Assert.Contains("0 failure(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Comprehensive_script_counts_a_wrong_setting_as_a_failure()
    {
        // The live config has /loki redirected, so the default EXPECT_PATH_PREFIX=/loki must fail exactly once.
        var (exitCode, output) = await RunScriptAsync("test-loki-comprehensive.sh", new() { ["CHECKS"] = "config" });

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL path_prefix is /loki", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate-loki.sh")]
    [InlineData("test-loki-comprehensive.sh")]
    public async Task Scripts_exit_with_the_number_of_failures_when_nothing_answers(string script)
    {
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var (exitCode, output) = await RunScriptAsync(script, new() { ["LOKI_URL"] = $"http://127.0.0.1:{port}" });

        var failures = FailLines().Count(output);
        Assert.True(failures > 0, output);
        Assert.Equal(failures, exitCode);
        Assert.Contains($"{failures} failure(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_LogQL_example_in_the_comprehensive_script_parses()
    {
        var examples = LogQLExamples();

        Assert.True(examples.Count >= 10, $"expected the README's LogQL examples, found {examples.Count}");
        foreach (var query in examples)
        {
            try
            {
                LogQLParser.Parse(query);
            }
            catch (LogQLParseException e)
            {
                Assert.Fail($"{query}\n{e.Message}");
            }
        }
    }

    [Fact]
    public void Every_LogQL_example_is_documented_in_the_README()
    {
        var readme = File.ReadAllText(DeployFiles.PathOf("README.md"));

        foreach (var query in LogQLExamples())
        {
            Assert.True(readme.Contains(query, StringComparison.Ordinal), $"README.md does not show {query}");
        }
    }

    /// <summary>The single-quoted lines between the LOGQL EXAMPLES markers of test-loki-comprehensive.sh.</summary>
    internal static List<string> LogQLExamples()
    {
        var lines = File.ReadAllLines(DeployFiles.PathOf("test-loki-comprehensive.sh"));
        var begin = Array.IndexOf(lines, "# BEGIN LOGQL EXAMPLES");
        var end = Array.IndexOf(lines, "# END LOGQL EXAMPLES");
        Assert.True(begin >= 0 && end > begin, "test-loki-comprehensive.sh lacks the LOGQL EXAMPLES markers");
        return lines[(begin + 1)..end]
            .Select(l => l.Trim())
            .Where(l => l.StartsWith('\'') && l.EndsWith('\'') && l.Length > 2)
            .Select(l => l[1..^1])
            .ToList();
    }

    private async Task<(int ExitCode, string Output)> RunScriptAsync(string script, Dictionary<string, string> environment)
    {
        environment.TryAdd("LOKI_URL", $"http://127.0.0.1:{Server.HttpPort}");
        return await ExternalTool.RunAsync("bash", [DeployFiles.PathOf(script)], DeployFiles.K8sDirectory, environment, "Install bash and curl.");
    }

    [GeneratedRegex("(?m)^PASS ")]
    private static partial Regex PassLines();

    [GeneratedRegex("(?m)^FAIL ")]
    private static partial Regex FailLines();
}
