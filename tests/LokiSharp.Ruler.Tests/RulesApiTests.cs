using System.Text;
using System.Text.Json;
using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Api;
using LokiSharp.Ruler.Configuration;
using LokiSharp.Ruler.Evaluation;
using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Tests;

public sealed class RulesApiTests : IDisposable
{
    private const string Body = """
        name: django
        interval: 30s
        rules:
          - alert: HighErrorRate
            expr: sum(rate({app="django"} |= "error" [5m])) > 10
            for: 2m
            labels:
              severity: page
              team: web
            annotations:
              summary: "{{ $labels.pod }}: high error rate"
              description: |-
                first line
                second line
          - record: "django:errors:rate5m"
            expr: sum(rate({app="django"} |= "error" [5m]))
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("lokisharp-rules-api-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_group_body_comes_back_as_yaml_v3_writes_it()
    {
        var (group, errors) = RuleFileParser.ParseGroupBody(Body);

        Assert.Empty(errors);
        Assert.Equal("""
            name: django
            interval: 30s
            rules:
                - alert: HighErrorRate
                  expr: sum(rate({app="django"} |= "error" [5m])) > 10
                  for: 2m
                  labels:
                      severity: page
                      team: web
                  annotations:
                      description: |-
                          first line
                          second line
                      summary: '{{ $labels.pod }}: high error rate'
                - record: django:errors:rate5m
                  expr: sum(rate({app="django"} |= "error" [5m]))

            """.ReplaceLineEndings("\n"), RuleGroupYaml.Group(group!));
    }

    [Theory]
    [InlineData("true", "\"true\"")]
    [InlineData("10", "\"10\"")]
    [InlineData("", "\"\"")]
    [InlineData("- x", "'- x'")]
    [InlineData("it's: here", "'it''s: here'")]
    [InlineData("a #b", "'a #b'")]
    [InlineData("plain text", "plain text")]
    public void Scalars_are_quoted_only_where_yaml_needs_it(string value, string expected) =>
        Assert.Equal(expected, RuleGroupYaml.Scalar(value));

    [Theory]
    [InlineData("name: [", RuleFileParser.BadRuleGroup)]
    [InlineData("- a\n- b", RuleFileParser.BadRuleGroup)]
    [InlineData("", "group 0: Groupname must not be empty")]
    [InlineData("name: g\nrules:\n  - alert: A\n    expr: sum(rate({app=\"x\"}[5m])\n",
        "could not parse expression for alert 'A' in group 'g': parse error at line 1, col 24: syntax error: unexpected $end")]
    [InlineData("name: g\nrules:\n  - alert: A\n    expr: '{app=\"x\"} |= \"error\"'\n",
        "could not parse expression for alert 'A' in group 'g': only sample expression supported")]
    [InlineData("name: g\nrules:\n  - record: r\n    alert: A\n    expr: sum(rate({app=\"x\"}[5m]))\n", "only one of 'record' and 'alert' must be set")]
    public void Invalid_bodies_get_Lokis_texts(string body, string expected)
    {
        var (group, errors) = RuleFileParser.ParseGroupBody(body);

        Assert.Null(group);
        Assert.Equal(expected, string.Join(", ", errors));
    }

    [Fact]
    public void The_store_writes_namespaces_atomically_and_lists_them_back()
    {
        var store = new LocalRuleStore(_dir);
        var (group, _) = RuleFileParser.ParseGroupBody(Body);
        var other = group! with { Name = "other" };

        store.Set("tenant-1", "app.yaml", group);
        store.Set("tenant-1", "app.yaml", other);
        store.Set("tenant-1", "app.yaml", group);

        Assert.Equal(["app.yaml"], Directory.GetFiles(Path.Combine(_dir, "tenant-1")).Select(Path.GetFileName));
        var listed = Assert.Single(store.List("tenant-1", null));
        Assert.Equal(["django", "other"], listed.Value.Select(g => g.Name));
        Assert.Equal(RuleGroupYaml.Group(group), RuleGroupYaml.Group(store.Get("tenant-1", "app.yaml", "django")!));
        var loaded = RuleDirectory.Load(_dir)["tenant-1"];
        Assert.Empty(Assert.Single(loaded).Content.Problems);
        Assert.StartsWith("app.yaml:\n    - name: django\n      interval: 30s\n      rules:\n          - alert: HighErrorRate\n",
            RuleGroupYaml.Namespaces(store.List("tenant-1", "app.yaml")), StringComparison.Ordinal);

        Assert.True(store.DeleteGroup("tenant-1", "app.yaml", "django"));
        Assert.False(store.DeleteGroup("tenant-1", "app.yaml", "django"));
        Assert.True(store.DeleteNamespace("tenant-1", "app.yaml"));
        Assert.False(store.DeleteNamespace("tenant-1", "app.yaml"));
        Assert.Empty(store.List("tenant-1", null));
    }

    [Theory]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    [InlineData("rules.yaml", true)]
    public void Only_one_path_element_names_a_namespace(string name, bool local) => Assert.Equal(local, LocalRuleStore.IsLocalName(name));

    [Fact]
    public void Prometheus_rules_json_has_Lokis_shape_and_filters()
    {
        var engine = new FakeQueryEngine();
        engine.Vectors["(sum(rate({app=\"django\"} |= \"error\"[5m])) > 10)"] = [new RuleSample(LabelSet.Empty, 15)];
        var (group, _) = RuleFileParser.ParseGroupBody(Body);
        var evaluator = new GroupEvaluator(new GroupKey("fake", "app.yaml", "django"), group!,
            new RulerContext(new RulerOptions { RuleDirectory = _dir }, engine, null, null, null, null, TimeProvider.System));
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        evaluator.Evaluate(at, default);
        var groups = new[] { evaluator.Status() };

        var alerts = Json(w => PrometheusRulesJson.WriteAlerts(w, groups));
        Assert.Equal("{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{\"alertname\":\"HighErrorRate\",\"severity\":\"page\",\"team\":\"web\"}," +
            "\"annotations\":{\"description\":\"first line\\nsecond line\",\"summary\":\": high error rate\"},\"state\":\"pending\"," +
            "\"activeAt\":\"2026-01-01T00:00:00Z\",\"value\":\"1.5e+01\"}]},\"errorType\":\"\",\"error\":\"\"}", alerts);

        using var rules = JsonDocument.Parse(Json(w => PrometheusRulesJson.WriteRules(w, groups, RulesRequest.All)));
        var g = rules.RootElement.GetProperty("data").GetProperty("groups")[0];
        Assert.Equal(["name", "file", "rules", "interval", "limit", "lastEvaluation", "evaluationTime"], g.EnumerateObject().Select(p => p.Name));
        Assert.Equal("app.yaml", g.GetProperty("file").GetString());
        Assert.Equal(30, g.GetProperty("interval").GetDouble());
        var alerting = g.GetProperty("rules")[0];
        Assert.Equal(["state", "name", "query", "duration", "labels", "annotations", "alerts", "health", "lastError", "type", "lastEvaluation", "evaluationTime"],
            alerting.EnumerateObject().Select(p => p.Name));
        Assert.Equal("pending", alerting.GetProperty("state").GetString());
        Assert.Equal("(sum(rate({app=\"django\"} |= \"error\"[5m])) > 10)", alerting.GetProperty("query").GetString());
        Assert.Equal(120, alerting.GetProperty("duration").GetDouble());
        Assert.Equal("ok", alerting.GetProperty("health").GetString());
        Assert.Equal("2026-01-01T00:00:00Z", alerting.GetProperty("lastEvaluation").GetString());
        var recording = g.GetProperty("rules")[1];
        Assert.Equal(["name", "query", "labels", "health", "lastError", "type", "lastEvaluation", "evaluationTime"], recording.EnumerateObject().Select(p => p.Name));
        Assert.Equal("recording", recording.GetProperty("type").GetString());

        var onlyRecords = RulesRequest.Parse("record", [], [], [], out _)!;
        Assert.DoesNotContain("HighErrorRate", Json(w => PrometheusRulesJson.WriteRules(w, groups, onlyRecords)), StringComparison.Ordinal);
        var otherFile = RulesRequest.Parse(null, ["other.yaml"], [], [], out _)!;
        Assert.Contains("\"groups\":[]", Json(w => PrometheusRulesJson.WriteRules(w, groups, otherFile)), StringComparison.Ordinal);
        Assert.Null(RulesRequest.Parse("Alerts", [], [], [], out var error));
        Assert.Equal("not supported value \"alerts\"", error);
    }

    [Theory]
    [InlineData(15, "1.5e+01")]
    [InlineData(1, "1e+00")]
    [InlineData(0, "0e+00")]
    [InlineData(-0.00015, "-1.5e-04")]
    [InlineData(123456789, "1.23456789e+08")]
    public void Values_use_Gos_exponent_form(double value, string expected) => Assert.Equal(expected, PrometheusRulesJson.Exponent(value));

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
