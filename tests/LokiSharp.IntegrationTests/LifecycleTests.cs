using System.Net;

namespace LokiSharp.IntegrationTests;

/// <summary>Starting on real config files, command-line behaviour and graceful shutdown, one process each.</summary>
public sealed class LifecycleTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    [Fact]
    public async Task Starts_on_a_real_Loki_config_and_logs_each_ignored_key_once()
    {
        await using var server = await LokiProcess.StartAsync(Fixture("loki-local-config.yaml"));

        using var config = await server.Http.GetAsync(new Uri("/config", UriKind.Relative));
        var text = await config.Content.ReadAsStringAsync();
        Assert.Contains($"  http_listen_port: {server.HttpPort}\n", text, StringComparison.Ordinal);
        Assert.Contains($"  path_prefix: {server.WorkDir}/data\n", text, StringComparison.Ordinal);
        Assert.Contains("        max_size_mb: 100\n", text, StringComparison.Ordinal);

        var output = server.Output;
        foreach (var key in new[] { "server.log_request_headers", "limits_config.metric_aggregation_enabled", "pattern_ingester.metric_aggregation" })
        {
            var line = $"msg=\"config key is not implemented by LokiSharp and is ignored\" key={key} line=";
            Assert.Equal(1, CountOccurrences(output, line));
        }
    }

    [Fact]
    public async Task Sigterm_turns_ready_to_503_then_exits_0()
    {
        const string config = """
            auth_enabled: false
            shutdown_delay: 3s
            server:
              http_listen_port: ${HTTP_PORT}
              grpc_listen_port: ${GRPC_PORT}
            common:
              path_prefix: ${DATA}
            schema_config:
              configs:
                - {from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}
            """;
        await using var server = await LokiProcess.StartAsync(config);

        server.Terminate();
        HttpResponseMessage? notReady = null;
        for (var i = 0; i < 50 && notReady is null; i++)
        {
            var response = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                notReady = response;
            }
            else
            {
                response.Dispose();
                await Task.Delay(50);
            }
        }

        Assert.NotNull(notReady);
        Assert.Equal("Application is stopping\n", await notReady.Content.ReadAsStringAsync());
        notReady.Dispose();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("msg=\"module stopped\" module=server", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_without_delay_exits_0_after_stopping_modules_in_reverse()
    {
        await using var server = await LokiProcess.StartAsync();

        server.Terminate();

        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var output = server.Output;
        var order = new[] { "ingester", "store", "runtime-config", "server" }
            .Select(module => output.IndexOf($"msg=\"module stopped\" module={module}", StringComparison.Ordinal))
            .ToArray();
        Assert.True(order[0] >= 0 && order.Zip(order.Skip(1)).All(pair => pair.First < pair.Second), output);
    }

    [Fact]
    public async Task Patterns_answer_404_with_an_empty_body_when_the_pattern_ingester_is_off_as_in_Loki()
    {
        const string config = """
            auth_enabled: false
            server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
            common: {path_prefix: ${DATA}}
            schema_config:
              configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
            """;
        await using var server = await LokiProcess.StartAsync(config);

        using var patterns = await server.Http.GetAsync(new Uri("/loki/api/v1/patterns?query=" + Uri.EscapeDataString("{app=\"x\"}"), UriKind.Relative));
        var limits = await server.Http.GetStringAsync(new Uri("/loki/api/v1/drilldown-limits", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, patterns.StatusCode);
        Assert.Equal("", await patterns.Content.ReadAsStringAsync());
        Assert.Contains("\"pattern_ingester_enabled\":false", limits, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_config_exits_0_for_a_valid_file()
    {
        var (code, output) = await LokiProcess.RunToExitAsync(Fixture("loki-local-config.yaml"), "-verify-config");

        Assert.Equal(0, code);
        Assert.Contains("config is valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_config_stops_start_up_naming_key_and_line()
    {
        var (code, output) = await LokiProcess.RunToExitAsync("server:\n  http_listen_port: 3100\n  grpc_listen_prot: 9096\n");

        Assert.Equal(1, code);
        Assert.Contains("failed parsing config: ", output, StringComparison.Ordinal);
        Assert.Contains("loki.yaml: line 3, column 3: key server.grpc_listen_prot: unknown configuration key", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_config_exits_1_for_an_invalid_file()
    {
        var (code, output) = await LokiProcess.RunToExitAsync("limits_config:\n  max_query_series: lots\n", "-verify-config");

        Assert.Equal(1, code);
        Assert.Contains("line 2, column 21: key limits_config.max_query_series: cannot parse \"lots\" as int", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_and_exits_0()
    {
        var (code, output) = await LokiProcess.RunToExitAsync(null, "-version");

        Assert.Equal(0, code);
        Assert.StartsWith("lokisharp, version ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undefined_flag_exits_2()
    {
        var (code, output) = await LokiProcess.RunToExitAsync(null, "-no-such-flag");

        Assert.Equal(2, code);
        Assert.StartsWith("flag provided but not defined: -no-such-flag", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_override_the_config_file()
    {
        await using var server = await LokiProcess.StartAsync(Fixture("loki-local-config.yaml"), true, "-log.level=debug", "-log.format=json");

        using var response = await server.Http.GetAsync(new Uri("/log_level", UriKind.Relative));

        Assert.Equal("{\"message\":\"Current log level is debug\"}", await response.Content.ReadAsStringAsync());
        Assert.Contains("{\"level\":\"info\",\"ts\":", server.Output, StringComparison.Ordinal);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
