using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LokiSharp.Tests.Neighbours;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// The ruler in the real process: the deployment guide's HighErrorRate alert (scaled down to a 1s interval and
/// <c>for: 2s</c>) evaluated on pushed lines through the query engine, listed by the Prometheus-compatible endpoints
/// going pending then firing; the rules API round trip on the local rule directory, across a restart; Loki's texts
/// for invalid rules.
/// </summary>
public sealed class RulerTests : IDisposable
{
    private readonly string _rules = Directory.CreateTempSubdirectory("lokisharp-rules-").FullName;

    public void Dispose() => Directory.Delete(_rules, recursive: true);

    private string Config(bool authEnabled, string extra = "") => $$$"""
        auth_enabled: {{{(authEnabled ? "true" : "false")}}}
        server: {http_listen_port: ${HTTP_PORT}, grpc_listen_port: ${GRPC_PORT}}
        common: {path_prefix: ${DATA}}
        schema_config:
          configs: [{from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}]
        ruler:
          storage: {type: local, local: {directory: {{{_rules}}}}}
          evaluation_interval: 1s
          poll_interval: 1s
          enable_api: true
        {{{extra}}}
        """;

    private static async Task<(HttpStatusCode Status, string Body, string? ContentType)> SendAsync(LokiProcess server, HttpMethod method, string path,
        string? tenant = null, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", tenant);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/yaml");
        }

        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<(HttpStatusCode Status, string Body)> StatusAsync(LokiProcess server, HttpMethod method, string path,
        string? tenant = null, string? body = null)
    {
        var (status, text, _) = await SendAsync(server, method, path, tenant, body);
        return (status, text);
    }

    // Waits for an alert state without asserting on time: the deadline only ends a test that would otherwise hang.
    private static async Task<JsonElement> WaitForAlertAsync(LokiProcess server, string state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var (status, body, _) = await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/alerts");
            Assert.Equal(HttpStatusCode.OK, status);
            using var doc = JsonDocument.Parse(body);
            foreach (var alert in doc.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray())
            {
                if (alert.GetProperty("state").GetString() == state)
                {
                    return alert.Clone();
                }
            }

            Assert.True(DateTime.UtcNow < deadline, "no " + state + " alert: " + body + "\n" + server.Output);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_backend_ruler_alerts_on_lines_only_a_write_process_holds_and_fails_the_rule_when_that_writer_is_gone()
    {
        Directory.CreateDirectory(Path.Combine(_rules, "fake"));
        await File.WriteAllTextAsync(Path.Combine(_rules, "fake", "django.yaml"), """
            groups:
              - name: django
                rules:
                  - alert: HighErrorRate
                    expr: sum(count_over_time({app="django"} |= "error" [5m])) > 10
                    for: 1s
            """);
        var writer = await LokiProcess.StartAsync(Config(authEnabled: false), true, "-target=write");
        await using var backend = await LokiProcess.StartAsync(
            Config(authEnabled: false, $"memberlist: {{join_members: ['127.0.0.1:{writer.GrpcPort}']}}\ningester_client: {{remote_timeout: 1s}}"), true,
            "-target=backend");
        try
        {
            // The lines are in the writer's head only: the backend's own store is empty.
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
            var values = string.Join(",", Enumerable.Range(0, 20).Select(i =>
                $"[\"{(now - (i * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture)}\",\"GET /api 500 error: boom\"]"));
            using (var push = await writer.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
                new StringContent("{\"streams\":[{\"stream\":{\"app\":\"django\"},\"values\":[" + values + "]}]}", Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.NoContent, push.StatusCode);
            }

            var firing = await WaitForAlertAsync(backend, "firing");
            Assert.Equal("2e+01", firing.GetProperty("value").GetString());
        }
        finally
        {
            await writer.DisposeAsync();
        }

        // The writer gone, the rule cannot see all the data: it fails (health err, the peer named) instead of resolving.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string rules;
        do
        {
            rules = (await SendAsync(backend, HttpMethod.Get, "/prometheus/api/v1/rules")).Body;
            await Task.Delay(200);
        }
        while (!rules.Contains("\"health\":\"err\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.Contains("\"health\":\"err\"", rules, StringComparison.Ordinal);
        Assert.Contains("did not answer", rules, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"firing\"", rules, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_guides_HighErrorRate_alert_goes_pending_then_firing_reaches_Alertmanager_and_the_recording_rule_reaches_Prometheus()
    {
        var alertmanager = new AlertmanagerFixture();
        var prometheus = new PrometheusFixture();
        await Task.WhenAll(alertmanager.InitializeAsync(), prometheus.InitializeAsync());
        try
        {
            await HighErrorRateAsync(alertmanager, prometheus);
        }
        finally
        {
            await alertmanager.DisposeAsync();
            await prometheus.DisposeAsync();
        }
    }

    private async Task HighErrorRateAsync(AlertmanagerFixture alertmanager, PrometheusFixture prometheus)
    {
        Directory.CreateDirectory(Path.Combine(_rules, "fake"));
        await File.WriteAllTextAsync(Path.Combine(_rules, "fake", "django.yaml"), """
            groups:
              - name: django
                rules:
                  - alert: HighErrorRate
                    expr: sum(rate({app="django"} |= "error" [5m])) > 0.05
                    for: 2s
                    labels:
                      severity: page
                    annotations:
                      summary: "{{ $value | humanize }} errors per second"
                  - record: django:errors:rate5m
                    expr: sum(rate({app="django"} |= "error" [5m]))
            """);
        await File.WriteAllTextAsync(Path.Combine(_rules, "fake", "broken.yaml"),
            "groups:\n  - name: broken\n    rules:\n      - alert: LogQuery\n        expr: '{app=\"django\"}'\n");
        await using var server = await LokiProcess.StartAsync(Config(authEnabled: false,
            $"  alertmanager_url: {alertmanager.Url}\n  external_url: http://grafana.example\n  resend_delay: 1s\n  external_labels: {{cluster: eu}}\n" +
            $"  remote_write: {{enabled: true, clients: {{prom: {{url: \"{prometheus.RemoteWriteUrl}\"}}}}}}"));

        // 30 error lines over the last minute (and some healthy ones): 0.1 errors/s over 5m.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var values = string.Join(",", Enumerable.Range(0, 40).Select(i =>
            $"[\"{(now - (i * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture)}\",\"{(i < 30 ? "GET /api 500 error: boom" : "GET / 200 ok")}\"]"));
        using (var push = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
            new StringContent("{\"streams\":[{\"stream\":{\"app\":\"django\"},\"values\":[" + values + "]}]}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.NoContent, push.StatusCode);
        }

        var pending = await WaitForAlertAsync(server, "pending");
        Assert.Equal("{\"alertname\":\"HighErrorRate\",\"severity\":\"page\"}", pending.GetProperty("labels").GetRawText());
        Assert.Equal("{\"summary\":\"100m errors per second\"}", pending.GetProperty("annotations").GetRawText());
        Assert.Equal("1e-01", pending.GetProperty("value").GetString());
        var firing = await WaitForAlertAsync(server, "firing");
        Assert.Equal(pending.GetProperty("activeAt").GetString(), firing.GetProperty("activeAt").GetString());

        var (status, body, contentType) = await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules?type=alert");
        Assert.Equal((HttpStatusCode.OK, "application/json"), (status, contentType));
        using var rules = JsonDocument.Parse(body);
        var groups = rules.RootElement.GetProperty("data").GetProperty("groups");
        var django = groups.EnumerateArray().Single(g => g.GetProperty("name").GetString() == "django");
        Assert.Equal("django.yaml", django.GetProperty("file").GetString());
        Assert.Equal(1, django.GetProperty("interval").GetDouble());
        var rule = Assert.Single(django.GetProperty("rules").EnumerateArray());
        Assert.Equal(("HighErrorRate", "firing", "ok", "", "alerting", 2.0),
            (rule.GetProperty("name").GetString(), rule.GetProperty("state").GetString(), rule.GetProperty("health").GetString(),
                rule.GetProperty("lastError").GetString(), rule.GetProperty("type").GetString(), rule.GetProperty("duration").GetDouble()));
        Assert.Equal("(sum(rate({app=\"django\"} |= \"error\"[5m])) > 0.05)", rule.GetProperty("query").GetString());

        var (_, records, _) = await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules?type=record&rule_group=django");
        Assert.Contains("\"name\":\"django:errors:rate5m\"", records, StringComparison.Ordinal);
        Assert.DoesNotContain("HighErrorRate", records, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "{\"status\":\"error\",\"data\":null,\"errorType\":\"bad_data\",\"error\":\"not supported value \\\"x\\\"\"}"),
            await StatusAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules?type=x"));

        // The invalid file is logged with its file and rule and counted; the valid group runs regardless.
        Assert.Contains("msg=\"invalid rule skipped\" file=" + Path.Combine(_rules, "fake", "broken.yaml") + " group=broken rule=LogQuery",
            server.Output, StringComparison.Ordinal);
        var metrics = (await SendAsync(server, HttpMethod.Get, "/metrics")).Body;
        Assert.Contains("loki_ruler_rule_load_failures_total{user=\"fake\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("loki_prometheus_rule_group_rules{user=\"fake\",rule_group=\"" + server.WorkDir + "/data/rules-temp/fake/django.yaml;django\"} 2",
            metrics, StringComparison.Ordinal);
        Assert.Contains("loki_prometheus_rule_evaluations_total{user=\"fake\",rule_group=\"", metrics, StringComparison.Ordinal);
        Assert.Contains("loki_prometheus_rule_evaluation_failures_total{user=\"fake\",rule_group=\"", metrics, StringComparison.Ordinal);

        // The real Alertmanager received the firing alert through its v2 API, with the external labels and Loki's link.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        JsonElement[] received;
        while ((received = await alertmanager.AlertsAsync("alertname=\"HighErrorRate\"")).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "Alertmanager received no alert:\n" + server.Output);
            await Task.Delay(200);
        }

        var sent = Assert.Single(received);
        Assert.Equal("{\"alertname\":\"HighErrorRate\",\"cluster\":\"eu\",\"severity\":\"page\"}", sent.GetProperty("labels").GetRawText());
        Assert.Equal("100m errors per second", sent.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.StartsWith("http://grafana.example/explore?left=", sent.GetProperty("generatorURL").GetString(), StringComparison.Ordinal);
        Assert.Equal("active", sent.GetProperty("status").GetProperty("state").GetString());

        // The recording rule's series (30 errors in the 5m window: 0.1/s) and the ALERTS series in the real Prometheus.
        JsonElement[] series;
        while ((series = await prometheus.QueryAsync("django:errors:rate5m", DateTimeOffset.UtcNow)).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "Prometheus received no recorded series:\n" + server.Output);
            await Task.Delay(200);
        }

        var recorded = Assert.Single(series);
        Assert.Equal("{\"__name__\":\"django:errors:rate5m\",\"cluster\":\"eu\"}", recorded.GetProperty("metric").GetRawText());
        Assert.Equal("0.1", recorded.GetProperty("value")[1].GetString());
        Assert.NotEmpty(await prometheus.QueryAsync("ALERTS{alertname=\"HighErrorRate\",alertstate=\"firing\",cluster=\"eu\"}", DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Rule_groups_set_through_the_API_come_back_exactly_and_survive_a_restart()
    {
        const string group = """
            name: errors
            interval: 1m
            rules:
                - alert: HighErrorRate
                  expr: sum(rate({app="django"} |= "error" [5m])) > 10
                  for: 5m
                  labels:
                      severity: page
                  annotations:
                      summary: '{{ $labels.pod }}: high error rate'

            """;
        const string accepted = "{\"status\":\"success\",\"data\":null,\"errorType\":\"\",\"error\":\"\"}";
        var server = await LokiProcess.StartAsync(Config(authEnabled: true));
        try
        {
            Assert.Equal((HttpStatusCode.NotFound, "no rule groups found\n"), await StatusAsync(server, HttpMethod.Get, "/loki/api/v1/rules", "team-a"));
            Assert.Equal((HttpStatusCode.Accepted, accepted, "application/json"),
                await SendAsync(server, HttpMethod.Post, "/loki/api/v1/rules/django", "team-a", group));
            Assert.Equal((HttpStatusCode.OK, group, "application/yaml"), await SendAsync(server, HttpMethod.Get, "/loki/api/v1/rules/django/errors", "team-a"));
            Assert.Equal((HttpStatusCode.OK, "django:\n" + Indent(group)),
                await StatusAsync(server, HttpMethod.Get, "/api/prom/rules", "team-a"));
            Assert.Equal((HttpStatusCode.NotFound, "no rule groups found\n"), await StatusAsync(server, HttpMethod.Get, "/loki/api/v1/rules", "team-b"));

            // Loki's texts for bodies it refuses.
            Assert.Equal((HttpStatusCode.BadRequest, "unable to decoded rule group\n"),
                await StatusAsync(server, HttpMethod.Post, "/loki/api/v1/rules/django", "team-a", "name: [unclosed"));
            Assert.Equal((HttpStatusCode.BadRequest, "could not parse expression for alert 'Logs' in group 'g': only sample expression supported\n"),
                await StatusAsync(server, HttpMethod.Post, "/loki/api/v1/rules/django", "team-a", "name: g\nrules:\n  - alert: Logs\n    expr: '{app=\"x\"}'\n"));
            Assert.Equal((HttpStatusCode.BadRequest, "group 0: Groupname must not be empty\n"),
                await StatusAsync(server, HttpMethod.Post, "/loki/api/v1/rules/django", "team-a", "rules: []\n"));
            Assert.Equal((HttpStatusCode.InternalServerError,
                    "{\"status\":\"error\",\"data\":null,\"errorType\":\"server_error\",\"error\":\"invalid namespace: path traversal not allowed\"}"),
                await StatusAsync(server, HttpMethod.Post, "/loki/api/v1/rules/..%2Fescape", "team-a", group));

            // A second group, then its deletion; the namespace keeps the first.
            Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(server, HttpMethod.Post, "/loki/api/v1/rules/django", "team-a",
                "name: other\nrules:\n  - record: django:lines:rate1m\n    expr: sum(rate({app=\"django\"}[1m]))\n")).Status);
            var listed = await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules", "team-a");
            Assert.Contains("\"name\":\"other\"", listed.Body, StringComparison.Ordinal);
            Assert.Equal((HttpStatusCode.Accepted, accepted), await StatusAsync(server, HttpMethod.Delete, "/loki/api/v1/rules/django/other", "team-a"));
            Assert.Equal((HttpStatusCode.NotFound, "group does not exist\n"),
                await StatusAsync(server, HttpMethod.Get, "/loki/api/v1/rules/django/other", "team-a"));
            Assert.DoesNotContain("\"name\":\"other\"", (await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules", "team-a")).Body,
                StringComparison.Ordinal);

            await server.KillAsync();
            server = await server.RestartAsync();
            Assert.Equal((HttpStatusCode.OK, group), await StatusAsync(server, HttpMethod.Get, "/loki/api/v1/rules/django/errors", "team-a"));
            Assert.Contains("\"name\":\"HighErrorRate\"", (await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules", "team-a")).Body,
                StringComparison.Ordinal);

            Assert.Equal((HttpStatusCode.Accepted, accepted), await StatusAsync(server, HttpMethod.Delete, "/loki/api/v1/rules/django", "team-a"));
            Assert.Equal((HttpStatusCode.NotFound, "group namespace does not exist\n"),
                await StatusAsync(server, HttpMethod.Delete, "/loki/api/v1/rules/django", "team-a"));
            Assert.Equal("{\"status\":\"success\",\"data\":{\"groups\":[]},\"errorType\":\"\",\"error\":\"\"}",
                (await SendAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules", "team-a")).Body);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Without_enable_api_the_rules_routes_answer_404_and_a_bucket_rule_store_stops_start_up()
    {
        await using (var server = await LokiProcess.StartAsync(Config(authEnabled: false).Replace("enable_api: true", "enable_api: false", StringComparison.Ordinal)))
        {
            Assert.Equal((HttpStatusCode.NotFound, "404 page not found\n"), await StatusAsync(server, HttpMethod.Get, "/loki/api/v1/rules"));
            Assert.Equal((HttpStatusCode.NotFound, "404 page not found\n"), await StatusAsync(server, HttpMethod.Get, "/prometheus/api/v1/rules"));
            Assert.EndsWith("ruler => Running\n", (await StatusAsync(server, HttpMethod.Get, "/services")).Body, StringComparison.Ordinal);
        }

        var (code, output) = await LokiProcess.RunToExitAsync(Config(authEnabled: false).Replace("type: local", "type: s3", StringComparison.Ordinal));
        Assert.Equal(1, code);
        Assert.Contains("error initialising lokisharp: ruler.storage.type \"s3\" is not supported by LokiSharp yet; use type: local with ruler.storage.local.directory",
            output, StringComparison.Ordinal);
    }

    private static string Indent(string yaml) =>
        string.Concat(yaml.Split('\n').Select((line, i) => (i == 0 ? "    - " : line.Length > 0 ? "      " : "") + line + "\n")).TrimEnd('\n') + "\n";
}
