using System.Net;
using System.Text.Json;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace LokiSharp.IntegrationTests;

/// <summary>The host over a real loopback socket: readiness, metrics, buildinfo, config, errors.</summary>
public sealed class HostTests : IAsyncLifetime
{
    private LokiProcess _server = null!;

    public async Task InitializeAsync() => _server = await LokiProcess.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, string? ContentType, string Body)> GetAsync(string path)
    {
        using var response = await _server.Http.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Ready_answers_ready_as_plain_text()
    {
        var (status, contentType, body) = await GetAsync("/ready");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/plain; charset=utf-8", contentType);
        Assert.Equal("ready\n", body);
    }

    [Fact]
    public async Task Services_lists_each_module_as_running()
    {
        var (status, _, body) = await GetAsync("/services");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("server => Running\nruntime-config => Running\nstore => Running\ningester => Running\ndistributor => Running\nquery-frontend => Running\n" +
            "querier => Running\ncompactor => Running\nruler => Running\n", body);
    }

    [Fact]
    public async Task Buildinfo_has_Lokis_fields_and_a_3x_version()
    {
        var (status, contentType, body) = await GetAsync("/loki/api/v1/status/buildinfo");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", contentType);
        using var json = JsonDocument.Parse(body);
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["version", "revision", "branch", "buildUser", "buildDate", "goVersion"], names);
        Assert.StartsWith("3.", json.RootElement.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Contains("+lokisharp.", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_expose_build_info_process_metrics_and_request_durations()
    {
        await GetAsync("/ready");
        await GetAsync("/no/such/path");

        var (status, contentType, body) = await GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);
        Assert.Matches("(?m)^loki_build_info\\{version=\"3\\.[^\"]+\",revision=\"[^\"]*\",branch=\"[^\"]*\",goversion=\"[^\"]+\",goos=\"linux\",goarch=\"[^\"]+\",tags=\"[^\"]*\"\\} 1$", body);
        Assert.Matches("(?m)^process_cpu_seconds_total [0-9.e+-]+$", body);
        Assert.Matches("(?m)^loki_request_duration_seconds_count\\{method=\"GET\",route=\"ready\",status_code=\"200\",ws=\"false\"\\} [1-9]", body);
        Assert.Matches("(?m)^loki_request_duration_seconds_count\\{method=\"GET\",route=\"other\",status_code=\"404\",ws=\"false\"\\} 1$", body);
        Assert.Contains("loki_request_duration_seconds_bucket{method=\"GET\",route=\"ready\",status_code=\"200\",ws=\"false\",le=\"100\"}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_prints_effective_defaults_and_diff()
    {
        var effective = await GetAsync("/config");
        var defaults = await GetAsync("/config?mode=defaults");
        var diff = await GetAsync("/config?mode=diff");

        Assert.Equal(HttpStatusCode.OK, effective.Status);
        Assert.Contains("auth_enabled: false\n", effective.Body, StringComparison.Ordinal);
        Assert.Contains("  chunk_encoding: snappy\n", effective.Body, StringComparison.Ordinal);
        Assert.Contains($"  grpc_listen_port: {_server.GrpcPort}\n", effective.Body, StringComparison.Ordinal);
        Assert.Contains("auth_enabled: true\n", defaults.Body, StringComparison.Ordinal);
        Assert.Contains("  chunk_encoding: gzip\n", defaults.Body, StringComparison.Ordinal);
        Assert.Contains("  chunk_encoding: snappy\n", diff.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("max_label_names_per_series", diff.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_paths_get_Gos_404_and_wrong_methods_405()
    {
        var (status, contentType, body) = await GetAsync("/loki/api/v2alpha/tail");
        using var post = await _server.Http.PostAsync(new Uri("/ready", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("text/plain; charset=utf-8", contentType);
        Assert.Equal("404 page not found\n", body);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal("", await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Log_level_can_be_read_and_changed()
    {
        var before = await GetAsync("/log_level");
        using var set = await _server.Http.PostAsync(new Uri("/log_level?log_level=debug", UriKind.Relative), null);
        using var bad = await _server.Http.PostAsync(new Uri("/log_level", UriKind.Relative),
            new FormUrlEncodedContent([new KeyValuePair<string, string>("log_level", "loud")]));
        var after = await GetAsync("/log_level");

        Assert.Equal("{\"message\":\"Current log level is info\"}", before.Body);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal("{\"status\":\"success\",\"message\":\"Log level set to debug\"}", await set.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("{\"status\":\"failed\",\"message\":\"unrecognized log level \\\"loud\\\"\"}", await bad.Content.ReadAsStringAsync());
        Assert.Equal("{\"message\":\"Current log level is debug\"}", after.Body);
    }

    [Fact]
    public async Task Grpc_health_service_reports_serving()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_server.GrpcPort}");
        var client = new Health.HealthClient(channel);

        var reply = await client.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Startup_log_is_logfmt()
    {
        await Task.Yield();

        Assert.Matches("(?m)^level=info ts=\\S+ caller=main msg=\"Starting LokiSharp\" version=3\\.\\S+ revision=\\S* config=\"embedded default config\"$", _server.Output);
    }
}
