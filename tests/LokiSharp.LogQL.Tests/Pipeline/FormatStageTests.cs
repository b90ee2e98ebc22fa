using System.Text;
using static LokiSharp.LogQL.Tests.Pipeline.PipelineRunner;

namespace LokiSharp.LogQL.Tests.Pipeline;

public sealed class FormatStageTests
{
    [Theory]
    [InlineData("{{.level}}: {{.msg}}", "level=info msg=hello", "info: hello")]
    [InlineData("{{.msg}}", "level=info msg=hello", "hello")]
    [InlineData("{{.missing}}", "level=info", "")]
    [InlineData("{{.msg}} ü {{.missing}}!{{.level}}", "level=info msg=héllo", "héllo ü !info")]
    [InlineData("{{.__error__}}|{{.a}}", "a=1", "|1")]
    [InlineData("[{{.app}}] {{__line__}}", "level=info", "[web] level=info")]
    [InlineData("{{.level | upper}} {{len .msg}}", "level=info msg=héllo", "INFO 6")]
    [InlineData("{{if eq .level \"error\"}}E{{else if eq .level \"warn\"}}W{{else}}-{{end}}", "level=warn", "W")]
    [InlineData("{{ .a }}-{{- .b -}} -{{ .c }}", "a=1 b=2 c=3", "1-2-3")]
    [InlineData("{{ __timestamp__ | unixEpochMillis }}", "a=1", "1700000000123")]
    public void LineFormat(string template, string line, string expected)
    {
        var pipeline = Compile("{app=\"web\"} | logfmt | line_format `" + template + "`");
        var outcome = Run(pipeline, Encoding.UTF8.GetBytes(line), timestampNs: 1_700_000_000_123_456_789);
        Assert.Equal(expected, outcome.Line);
    }

    [Fact]
    public void LineFormatErrorKeepsLine()
    {
        var outcome = Run("{app=\"web\"} | logfmt | line_format `{{div 1 0}}`", "a=1");
        Assert.Equal("a=1", outcome.Line);
        Assert.Equal("TemplateFormatErr", outcome.Label("__error__"));
        Assert.Equal("template: line:1:2: executing \"line\" at <div 1 0>: error calling div: runtime error: integer divide by zero",
            outcome.Label("__error_details__"));
    }

    [Theory]
    [InlineData("{app=\"web\"} | line_format `{{.foo`", "invalid line template: template: line:1: unclosed action")]
    [InlineData("{app=\"web\"} | line_format `{{nosuch .a}}`", "invalid line template: template: line:1: function \"nosuch\" not defined")]
    [InlineData("{app=\"web\"} | label_format a=`{{end}}`", "invalid template for label 'a': template: label:1: unexpected {{end}}")]
    [InlineData("{app=\"web\"} | label_format a=b, a=c", "multiple label name 'a' not allowed in a single format operation")]
    [InlineData("{app=\"web\"} | label_format __error__=b", "__error__ cannot be formatted")]
    public void TemplateBuildErrors(string query, string expected)
    {
        var e = Assert.Throws<Syntax.LogQLParseException>(() => Compile(query));
        Assert.EndsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LabelFormatRenamesAndTemplates()
    {
        Assert.Equal("{app=\"web\", lvl=\"info\"}", Run("{app=\"web\"} | logfmt | label_format lvl=level", "level=info").Labels);
        Assert.Equal("{app=\"web\", level=\"info\", x=\"INFO\"}", Run("{app=\"web\"} | logfmt | label_format x=`{{.level | upper}}`", "level=info").Labels);
        Assert.Equal("{app=\"web\"}", Run("{app=\"web\"} | label_format lvl=level", "x").Labels);
        Assert.Equal("{app=\"WEB\"}", Run("{app=\"web\"} | label_format app=`{{ToUpper .app}}`", "x").Labels);
        var r = Run("{app=\"web\"} | label_format app=`{{ToUpper .app}}`", "x").Result!;
        Assert.Equal("{app=\"WEB\"}", r.Parsed.ToString());
    }

    [Fact]
    public void LabelFormatTemplatesSeeTheFirstSnapshot()
    {
        var outcome = Run("{app=\"web\"} | logfmt | label_format b=a, x=`{{.a}}|{{.b}}`, y=`{{.x}}`", "a=1");
        Assert.Equal("|1", outcome.Label("x"));
        Assert.Equal(string.Empty, outcome.Label("y"));
    }

    [Fact]
    public void LabelFormatErrorSetsTemplateFormatErr()
    {
        var outcome = Run("{app=\"web\"} | logfmt | label_format x=`{{mod 1 0}}`, y=`ok`", "a=1");
        Assert.Equal("TemplateFormatErr", outcome.Label("__error__"));
        Assert.Null(outcome.Label("x"));
        Assert.Equal("ok", outcome.Label("y"));
    }

    [Theory]
    [InlineData("drop level", "{app=\"web\", msg=\"m\"}")]
    [InlineData("drop level=\"debug\"", "{app=\"web\", level=\"info\", msg=\"m\"}")]
    [InlineData("drop level=\"info\"", "{app=\"web\", msg=\"m\"}")]
    [InlineData("drop level=~\"i.*\", app", "{msg=\"m\"}")]
    [InlineData("keep level", "{level=\"info\"}")]
    [InlineData("keep level, app=\"web\"", "{app=\"web\", level=\"info\"}")]
    [InlineData("keep app=\"api\"", "{}")]
    [InlineData("keep nothing_here", "{}")]
    public void DropAndKeep(string stage, string expected) =>
        Assert.Equal(expected, Run("{app=\"web\"} | logfmt | " + stage, "level=info msg=m").Labels);

    [Fact]
    public void KeepNeverRemovesErrors()
    {
        var outcome = Run("{app=\"web\"} | json | keep nothing", "oops");
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
        Assert.Null(outcome.Label("app"));
    }

    [Theory]
    [InlineData("\u001b[31mred\u001b[0m text", "red text")]
    [InlineData("\u001b[1;32mbold green\u001b[m", "bold green")]
    [InlineData("plain", "plain")]
    [InlineData("\u001b]0;title\u0007after", "after")]
    [InlineData("\u001b[38;5;196mcolour", "colour")]
    public void Decolorize(string line, string expected) =>
        Assert.Equal(expected, Run("{app=\"web\"} | decolorize", line).Line);

    [Fact]
    public void LineFormatFeedsLaterStages()
    {
        var outcome = Run("{app=\"web\"} | logfmt | line_format `{\"inner\":\"{{.msg}}\"}` | json | inner=\"hi\"", "msg=hi");
        Assert.True(outcome.Kept);
        Assert.Equal("{\"inner\":\"hi\"}", outcome.Line);
    }
}
