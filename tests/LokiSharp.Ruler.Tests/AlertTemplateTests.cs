using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Templates;

namespace LokiSharp.Ruler.Tests;

public class AlertTemplateTests
{
    private static readonly DateTimeOffset Time = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Expand(string text, double value = 0.5, RuleQuery? query = null) =>
        AlertTemplate.Parse("A", text).Expand(new AlertTemplateData(
            LabelSet.From(("pod", "web-1"), ("instance", "host.example.com:9100")), LabelSet.From(("cluster", "eu")),
            "http://loki.example/prefix", value, Time, query));

    [Theory]
    [InlineData("{{ $value }}", "0.5")]
    [InlineData("{{ .Value }}", "0.5")]
    [InlineData("{{ $labels.pod }}", "web-1")]
    [InlineData("[{{ $labels.missing }}]", "[]")]
    [InlineData("{{ $externalLabels.cluster }}", "eu")]
    [InlineData("{{ $externalURL }}", "http://loki.example/prefix")]
    [InlineData("{{ externalURL }} {{ pathPrefix }}", "http://loki.example/prefix /prefix")]
    [InlineData("{{ $value | humanizePercentage }}", "50%")]
    [InlineData("{{ printf \"%.2f\" $value }}", "0.50")]
    [InlineData("{{ $labels.pod | toUpper }}", "WEB-1")]
    [InlineData("{{ \"A B\" | toLower | title }}", "A B")]
    [InlineData("{{ $labels.instance | stripPort }}", "host.example.com")]
    [InlineData("{{ $labels.instance | stripDomain }}", "host:9100")]
    [InlineData("{{ reReplaceAll \"web-(.*)\" \"n$1\" $labels.pod }}", "n1")]
    [InlineData("{{ if match \"^web\" $labels.pod }}yes{{ end }}", "yes")]
    [InlineData("{{ graphLink \"up == 0\" }}", "/graph?g0.expr=up+%3D%3D+0&g0.tab=0")]
    [InlineData("{{ 1500 | humanize }}", "1.5k")]
    [InlineData("{{ 0.0015 | humanize }}", "1.5m")]
    [InlineData("{{ 0 | humanize }}", "0")]
    [InlineData("{{ 2048 | humanize1024 }}", "2ki")]
    [InlineData("{{ 90061 | humanizeDuration }}", "1d 1h 1m 1s")]
    [InlineData("{{ 1.5 | humanizeDuration }}", "1.5s")]
    [InlineData("{{ 0.25 | humanizeDuration }}", "250ms")]
    [InlineData("{{ 0 | humanizeDuration }}", "0s")]
    [InlineData("{{ 1767225600 | humanizeTimestamp }}", "2026-01-01 00:00:00 +0000 UTC")]
    [InlineData("{{ \"1h30m\" | parseDuration }}", "5400")]
    [InlineData("{{ now }}", "1.7672256e+09")]
    [InlineData("{{ 90 | toDuration }}", "1m30s")]
    [InlineData("{{ (args 1 \"x\").arg1 }}", "x")]
    public void ExpandsLikePrometheus(string text, string expected) => Assert.Equal(expected, Expand(text));

    [Fact]
    public void HumanizeOfAStringParsesIt() => Assert.Equal("1.235M", Expand("{{ \"1234567\" | humanize }}"));

    [Fact]
    public void ExecutionErrorsBecomeText() =>
        Assert.Equal(
            "<error expanding template: error executing template __alert_A: template: __alert_A:1:122: executing \"__alert_A\" at " +
            "<humanize>: error calling humanize: can't convert bool to float>",
            Expand("{{ true | humanize }}"));

    [Fact]
    public void ParseErrorsBecomeText() =>
        Assert.StartsWith("<error expanding template: error parsing template __alert_A: template: __alert_A:1: ", Expand("{{ nope }}"),
            StringComparison.Ordinal);

    [Fact]
    public void QueryRunsTheRulersQuery()
    {
        RuleQuery query = (q, t) =>
        [
            new(LabelSet.From(("pod", "b")), 2),
            new(LabelSet.From(("pod", "a")), 1),
        ];
        Assert.Equal("a=1 b=2 ", Expand("{{ range query \"x\" | sortByLabel \"pod\" }}{{ .Labels.pod }}={{ .Value }} {{ end }}", query: query));
        Assert.Equal("2", Expand("{{ with query \"x\" }}{{ . | first | value }}{{ end }}", query: query));
        Assert.Equal("b", Expand("{{ query \"x\" | first | label \"pod\" }}", query: query));
    }
}
