using LokiSharp.Ruler.Rules;

namespace LokiSharp.Ruler.Tests;

public class RuleFileParserTests
{
    private const string Guide = """
        groups:
          - name: django
            interval: 1m
            rules:
              - alert: HighErrorRate
                expr: sum(rate({app="django"} |= "error" [5m])) > 10
                for: 2m
                keep_firing_for: 5m
                labels:
                  severity: page
                annotations:
                  summary: "{{ $labels.app }} errors at {{ $value | humanize }}"
              - record: django:errors:rate5m
                expr: sum by (pod) (rate({app="django"} |= "error" [5m]))
        """;

    private static RuleProblem Single(string yaml)
    {
        var file = RuleFileParser.Parse("f.yaml", yaml);
        return Assert.Single(file.Problems);
    }

    [Fact]
    public void ParsesTheGuideRules()
    {
        var file = RuleFileParser.Parse("f.yaml", Guide);
        Assert.Empty(file.Problems);
        var group = Assert.Single(file.Groups);
        Assert.Equal("django", group.Name);
        Assert.Equal(TimeSpan.FromMinutes(1), group.Interval!.Value.ToTimeSpan());
        Assert.Equal(2, group.Rules.Count);
        var alert = group.Rules[0];
        Assert.Equal(RuleKind.Alerting, alert.Kind);
        Assert.Equal("HighErrorRate", alert.Name);
        Assert.Equal(TimeSpan.FromMinutes(2), alert.For.ToTimeSpan());
        Assert.Equal(TimeSpan.FromMinutes(5), alert.KeepFiringFor.ToTimeSpan());
        Assert.Equal("page", Assert.Single(alert.Labels).Value);
        Assert.Equal("summary", Assert.Single(alert.Annotations).Key);
        Assert.Equal(RuleKind.Recording, group.Rules[1].Kind);
        Assert.Equal("django:errors:rate5m", group.Rules[1].Name);
    }

    [Fact]
    public void EmptyFileIsEofAsInLoki() => Assert.Equal("EOF", Single("").Message);

    [Fact]
    public void BadYamlSkipsTheFile()
    {
        var problem = Single("groups:\n  - name: [unclosed\n");
        Assert.StartsWith("yaml: line ", problem.Message, StringComparison.Ordinal);
        Assert.Null(problem.Group);
        Assert.Equal("f.yaml: " + problem.Message, problem.ToString());
    }

    [Fact]
    public void UnknownFieldsUseYamlV3Text()
    {
        Assert.Equal("yaml: unmarshal errors:\n  line 1: field group not found in type rulefmt.RuleGroups", Single("group: []").Message);
        var file = RuleFileParser.Parse("f.yaml", "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: vector(1)\n        annotation: {}\n" +
                                                  "      - alert: B\n        expr: vector(1)\n");
        var problem = Assert.Single(file.Problems);
        Assert.Equal("yaml: unmarshal errors:\n  line 6: field annotation not found in type rulefmt.Rule", problem.Message);
        Assert.Equal("B", Assert.Single(Assert.Single(file.Groups).Rules).Name);
    }

    [Fact]
    public void TypeErrorsUseYamlV3Text() =>
        Assert.Equal("yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `abc` into int",
            Single("groups:\n  - {name: a, limit: abc, rules: []}").Message);

    [Fact]
    public void EmptyAndRepeatedGroupNames()
    {
        var file = RuleFileParser.Parse("f.yaml", "groups:\n  - name: a\n    rules: []\n  - name: ''\n    rules: []\n  - name: a\n    rules: []\n");
        Assert.Equal(["group 1: Groupname must not be empty", "groupname: \"a\" is repeated in the same file"], file.Problems.Select(p => p.Message));
        Assert.Single(file.Groups);
    }

    [Theory]
    [InlineData("{alert: A, record: b, expr: 'vector(1)'}", "only one of 'record' and 'alert' must be set")]
    [InlineData("{expr: 'vector(1)'}", "one of 'record' or 'alert' must be set")]
    [InlineData("{alert: A}", "field 'expr' must be set in rule")]
    [InlineData("{alert: A, expr: 'sum(rate({app=\"x\"}[5m])'}",
        "could not parse expression for alert 'A' in group 'g': parse error at line 1, col 24: syntax error: unexpected $end")]
    [InlineData("{record: r, expr: '{app=\"x\"} |= \"error\"'}", "could not parse expression for record 'r' in group 'g': only sample expression supported")]
    [InlineData("{record: r, expr: 'vector(1)', for: 1m}", "invalid field 'for' in recording rule")]
    [InlineData("{record: r, expr: 'vector(1)', annotations: {a: b}}", "invalid field 'annotations' in recording rule")]
    [InlineData("{record: 'r-1', expr: 'vector(1)'}", "invalid recording rule name: r-1")]
    [InlineData("{alert: A, expr: 'vector(1)', labels: {1x: b}}", "invalid label name: 1x")]
    [InlineData("{alert: A, expr: 'vector(1)', labels: {__name__: b}}", "invalid label name: __name__")]
    [InlineData("{alert: A, expr: 'vector(1)', annotations: {a-b: c}}", "invalid annotation name: a-b")]
    [InlineData("{alert: A, expr: 'vector(1)', for: 5x}", "unknown unit \"x\" in duration \"5x\"")]
    [InlineData("{alert: A, expr: 'vector(1)', for: 1.5m}", "unknown unit \".\" in duration \"1.5m\"")]
    [InlineData("{alert: A, expr: 'vector(1)', for: 1s1m}", "not a valid duration string: \"1s1m\"")]
    [InlineData("{alert: A, expr: 'vector(1)', annotations: {a: '{{ nope }}'}}",
        "annotation \"a\": template: __alert_A:1: function \"nope\" not defined")]
    [InlineData("{alert: A, expr: 'vector(1)', annotations: {a: '{{ $externalURL }}'}}",
        "annotation \"a\": template: __alert_A:1: undefined variable \"$externalURL\"")]
    public void InvalidRulesAreSkippedWithLokisText(string rule, string message)
    {
        var file = RuleFileParser.Parse("f.yaml", "groups:\n  - name: g\n    rules:\n      - " + rule + "\n      - {alert: Good, expr: 'vector(1)'}\n");
        var problem = Assert.Single(file.Problems);
        Assert.Equal(message, problem.Message);
        Assert.Equal("g", problem.Group);
        Assert.Equal("Good", Assert.Single(Assert.Single(file.Groups).Rules).Name);
    }

    [Fact]
    public void RecordingRuleMayKeepFiringForAsLokiDoesNotCheckIt() =>
        Assert.Empty(RuleFileParser.Parse("f.yaml", "groups:\n  - name: g\n    rules:\n      - {record: r, expr: 'vector(1)', keep_firing_for: 1m}\n").Problems);

    [Fact]
    public void LoadsOneFolderPerTenant()
    {
        var dir = Directory.CreateTempSubdirectory("ruler-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "fake"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, ".hidden"));
            File.WriteAllText(Path.Combine(dir.FullName, "fake", "django.yaml"), Guide);
            File.WriteAllText(Path.Combine(dir.FullName, "fake", "bad.yaml"), "groups: {");
            File.WriteAllText(Path.Combine(dir.FullName, "fake", ".django.yaml.swp"), "x");
            var tenants = RuleDirectory.Load(dir.FullName);
            var files = Assert.Single(tenants).Value;
            Assert.Equal(["bad.yaml", "django.yaml"], files.Select(f => f.Namespace));
            Assert.Single(files[0].Content.Problems);
            Assert.Equal(2, Assert.Single(files[1].Content.Groups).Rules.Count);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
