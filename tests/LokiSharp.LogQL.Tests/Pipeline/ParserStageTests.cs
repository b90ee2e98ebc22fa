using System.Text;
using static LokiSharp.LogQL.Tests.Pipeline.PipelineRunner;

namespace LokiSharp.LogQL.Tests.Pipeline;

public sealed class ParserStageTests
{
    private const string MalformedObject = "Value looks like object, but can't find closing '}' symbol";

    [Theory]
    [InlineData("{\"a\":\"b\",\"n\":12,\"t\":true,\"f\":false,\"nested\":{\"x\":\"y\",\"deep\":{\"z\":1.5e3}},\"arr\":[1,2],\"nil\":null}",
        "{a=\"b\", app=\"web\", f=\"false\", n=\"12\", nested_deep_z=\"1.5e3\", nested_x=\"y\", t=\"true\"}")]
    [InlineData("{\"User-Agent\":\"curl\",\"9lives\":\"cat\",\"a.b\":\"c\",\" sp \":\"v\",\"\":\"skipped\"}",
        "{User_Agent=\"curl\", _9lives=\"cat\", a_b=\"c\", app=\"web\", sp=\"v\"}")]
    [InlineData("{\"app\":\"api\",\"x\":{\"app\":\"nested\"}}", "{app=\"web\", app_extracted=\"api\", x_app=\"nested\"}")]
    [InlineData("{\"a\":\"1\",\"a\":\"2\"}", "{a=\"1\", app=\"web\"}")]
    [InlineData("{\"e\":\"\"}", "{app=\"web\", e=\"\"}")]
    [InlineData("  {\"sp\" :  \"x\" , \"n\":-3 }  trailing", "{app=\"web\", n=\"-3\", sp=\"x\"}")]
    [InlineData("{}", "{app=\"web\"}")]
    [InlineData("{\"k\\\"q\":\"v\"}", "{app=\"web\", k_q=\"v\"}")]
    [InlineData("{\"a\":{\"b-c\":{\"1d\":\"v\"}}}", "{a_b_c_1d=\"v\", app=\"web\"}")]
    public void JsonExtractsLeaves(string line, string expected) => Assert.Equal(expected, Run("{app=\"web\"} | json", line).Labels);

    [Fact]
    public void JsonDecodesEscapes()
    {
        var outcome = Run("{app=\"web\"} | json", "{\"msg\":\"say \\\"hi\\\"\\n\\u00e9\\ud83d\\ude00 \\/ \\\\\"}");
        Assert.Equal("say \"hi\"\né😀 / \\", outcome.Label("msg"));
        Assert.Equal(string.Empty, Run("{app=\"web\"} | json", "{\"bad\":\"\\q\"}").Label("bad"));
    }

    [Theory]
    [InlineData("{\"a\":\"b\", oops}", MalformedObject)]
    [InlineData("hello", MalformedObject)]
    [InlineData("{\"a\":\"b", "Value is string, but can't find closing '\"' symbol")]
    [InlineData("{\"a\":tru}", "Unknown value type")]
    [InlineData("{\"a\" \"b\"}", "Malformed JSON error")]
    [InlineData("{\"a\":{\"b\":1", MalformedObject)]
    [InlineData("{\"a\":1", "Value is array, but can't find closing ']' symbol")]
    public void JsonErrorsKeepEarlierLabels(string line, string details)
    {
        var outcome = Run("{app=\"web\"} | json", line);
        Assert.True(outcome.Kept);
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
        Assert.Equal(details, outcome.Label("__error_details__"));
        Assert.Equal(line, outcome.Line);
    }

    [Fact]
    public void JsonKeepsLabelsFoundBeforeAnError() =>
        Assert.Equal("b", Run("{app=\"web\"} | json", "{\"a\":\"b\", oops}").Label("a"));

    [Fact]
    public void JsonReplacesInvalidUtf8WithSpaces()
    {
        var line = Encoding.UTF8.GetBytes("{\"v\":\"a_b\"}");
        line[7] = 0xff;
        Assert.Equal("a b", Run(Compile("{app=\"web\"} | json"), line).Label("v"));
    }

    [Fact]
    public void JsonErrorsAreFilteredByErrorLabel()
    {
        Assert.False(Run("{app=\"web\"} | json | __error__=\"\"", "not json").Kept);
        Assert.True(Run("{app=\"web\"} | json | __error__=\"\"", "{\"a\":1}").Kept);
        Assert.True(Run("{app=\"web\"} | json | __error__!=\"\"", "not json").Kept);
        Assert.Equal("{app=\"web\"}", Run("{app=\"web\"} | json | drop __error__, __error_details__", "nope").Labels);
    }

    [Fact]
    public void JsonWithParameters()
    {
        const string line = "{\"list\":[\"x\",{\"k\":\"y\"}],\"server\":{\"host\":\"h1\",\"port\":80},\"a b\":\"sp\",\"n\":null,\"app\":\"api\"}";
        var outcome = Run("{app=\"web\"} | json first=\"list[0]\", second=\"list[1].k\", host=\"server.host\", obj=\"server\", arr=\"list\", " +
                          "missing=\"nope.x\", quoted=`[\"a b\"]`, n=\"n\", app=\"app\"", line);
        Assert.Equal("x", outcome.Label("first"));
        Assert.Equal("y", outcome.Label("second"));
        Assert.Equal("h1", outcome.Label("host"));
        Assert.Equal("{\"host\":\"h1\",\"port\":80}", outcome.Label("obj"));
        Assert.Equal("[\"x\",{\"k\":\"y\"}]", outcome.Label("arr"));
        Assert.Equal(string.Empty, outcome.Label("missing"));
        Assert.Equal("sp", outcome.Label("quoted"));
        Assert.Equal(string.Empty, outcome.Label("n"));
        Assert.Equal("api", outcome.Label("app_extracted"));
        Assert.Equal("web", outcome.Label("app"));
    }

    [Fact]
    public void JsonParametersOnNonJsonLines()
    {
        var outcome = Run("{app=\"web\"} | json a=\"a\"", "plain text");
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
        Assert.Null(outcome.Label("__error_details__"));
        Assert.Equal("{app=\"web\"}", Run("{app=\"web\"} | json a=\"a\"", string.Empty).Labels);
    }

    [Fact]
    public void JsonParameterPathErrorsAtBuild()
    {
        var e = Assert.Throws<Syntax.LogQLParseException>(() => Compile("{app=\"web\"} | json a=\"b[1.5]\""));
        Assert.Contains("cannot parse expression [b[1.5]]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"_entry\":\"original line\",\"level\":\"info\",\"n\":5}", "original line", "{app=\"web\", level=\"info\"}")]
    [InlineData("{\"_entry\":\"esc \\\"q\\\"\",\"app\":\"x\"}", "esc \"q\"", "{app=\"web\", app_extracted=\"x\"}")]
    [InlineData("{\"level\":\"info\"}", "{\"level\":\"info\"}", "{app=\"web\"}")]
    public void Unpack(string line, string expectedLine, string expectedLabels)
    {
        var outcome = Run("{app=\"web\"} | unpack", line);
        Assert.Equal(expectedLine, outcome.Line);
        Assert.Equal(expectedLabels, outcome.Labels);
    }

    [Fact]
    public void UnpackRejectsNonObjects()
    {
        var outcome = Run("{app=\"web\"} | unpack", "[1,2]");
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
        Assert.Equal("expecting json object(6), but it is not", outcome.Label("__error_details__"));
    }

    [Theory]
    [InlineData("level=info msg=\"hello world\" duration=1.5s", "{app=\"web\", duration=\"1.5s\", level=\"info\", msg=\"hello world\"}")]
    [InlineData("a= b c=\"\" d=1", "{app=\"web\", d=\"1\"}")]
    [InlineData("a=1 =bad b=2", "{a=\"1\", app=\"web\", b=\"2\"}")]
    [InlineData("msg=\"say \\\"hi\\\"\" x=y", "{app=\"web\", msg=\"say \\\"hi\\\"\", x=\"y\"}")]
    [InlineData("app=foo", "{app=\"web\", app_extracted=\"foo\"}")]
    [InlineData("user.name=bob 1st=x", "{_1st=\"x\", app=\"web\", user_name=\"bob\"}")]
    [InlineData("a=1 a=2", "{a=\"1\", app=\"web\"}")]
    [InlineData("  spaced=  out=x  ", "{app=\"web\", out=\"x\"}")]
    [InlineData("a=b\"c d=e", "{app=\"web\", d=\"e\"}")]
    [InlineData("k=\"\\u00e9t\\u00e9\"", "{app=\"web\", k=\"été\"}")]
    [InlineData("", "{app=\"web\"}")]
    public void Logfmt(string line, string expected) => Assert.Equal(expected, Run("{app=\"web\"} | logfmt", line).Labels);

    [Fact]
    public void LogfmtKeepEmpty() =>
        Assert.Equal("{a=\"\", app=\"web\", b=\"\", c=\"\", d=\"1\"}", Run("{app=\"web\"} | logfmt --keep-empty", "a= b c=\"\" d=1").Labels);

    [Theory]
    [InlineData("a=1 =bad b=2", "{__error__=\"LogfmtParserErr\", __error_details__=\"logfmt syntax error at pos 5 : unexpected '='\", a=\"1\", app=\"web\"}")]
    [InlineData("a=\"unterminated", "{__error__=\"LogfmtParserErr\", __error_details__=\"logfmt syntax error at pos 16 : unterminated quoted value\", app=\"web\"}")]
    [InlineData("a=1 b=x\"y c=2", "{__error__=\"LogfmtParserErr\", __error_details__=\"logfmt syntax error at pos 8 : unexpected '\\\"'\", a=\"1\", app=\"web\"}")]
    [InlineData("a=1 b=\"x\"y", "{a=\"1\", app=\"web\", b=\"x\"}")]
    [InlineData("a=1 b=2", "{a=\"1\", app=\"web\", b=\"2\"}")]
    public void LogfmtStrict(string line, string expected) => Assert.Equal(expected, Run("{app=\"web\"} | logfmt --strict", line).Labels);

    [Fact]
    public void LogfmtWithParameters()
    {
        Assert.Equal("{app=\"web\", lvl=\"warn\", m=\"x\"}", Run("{app=\"web\"} | logfmt lvl=\"level\", m=\"msg\"", "level=warn msg=x other=y").Labels);
        Assert.Equal("{app=\"web\", lvl=\"\", m=\"\"}", Run("{app=\"web\"} | logfmt lvl=\"level\", m=\"msg\"", "foo=bar").Labels);
        Assert.Equal("{app=\"web\", level=\"warn\"}", Run("{app=\"web\"} | logfmt level", "level=warn msg=x").Labels);
    }

    [Theory]
    [InlineData("(?P<method>\\\\w+) (?P<path>\\\\S+)", "GET /api/v1 200", "{app=\"web\", method=\"GET\", path=\"/api/v1\"}")]
    [InlineData("(?P<method>\\\\w+) (?P<path>\\\\S+)", "!!!", "{app=\"web\"}")]
    [InlineData("(?P<app>\\\\w+)(?:-(?P<opt>\\\\d+))?", "svc", "{app=\"web\", app_extracted=\"svc\", opt=\"\"}")]
    public void Regexp(string regex, string line, string expected) =>
        Assert.Equal(expected, Run("{app=\"web\"} | regexp \"" + regex + "\"", line).Labels);

    [Fact]
    public void RegexpNeedsNamedGroups()
    {
        var e = Assert.Throws<Syntax.LogQLParseException>(() => Compile("{app=\"web\"} | regexp \"(a)\""));
        Assert.Contains("at least one named capture must be supplied", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<ip> - <_> [<ts>] \\\"<method> <path> <_>\\\" <status>", "1.2.3.4 - - [10/Oct/2000] \"GET /a HTTP/1.0\" 200",
        "{app=\"web\", ip=\"1.2.3.4\", method=\"GET\", path=\"/a\", status=\"200\", ts=\"10/Oct/2000\"}")]
    [InlineData("level=<level> msg=<msg>", "level=info msg=hello there", "{app=\"web\", level=\"info\", msg=\"hello there\"}")]
    [InlineData("level=<level> msg=<msg>", "xlevel=info msg=hello", "{app=\"web\"}")]
    [InlineData("<a> and <b> then <c>", "x and y", "{a=\"x\", app=\"web\", b=\"y\"}")]
    [InlineData("<app>:<port>", "host:80", "{app=\"web\", app_extracted=\"host\", port=\"80\"}")]
    [InlineData("<a>,<b>", ",", "{a=\"\", app=\"web\", b=\"\"}")]
    public void Pattern(string pattern, string line, string expected) =>
        Assert.Equal(expected, Run("{app=\"web\"} | pattern \"" + pattern + "\"", line).Labels);

    [Theory]
    [InlineData("x")]
    [InlineData("é")]
    [InlineData("\u00a0")]
    [InlineData("!")]
    [InlineData("\u001f")]
    public void Pattern_finds_a_one_byte_literal_at_every_offset(string filler)
    {
        // A space is looked for in the line's first word before the vectorised search: at every offset, or nowhere, among
        // bytes one above or below it and bytes with its bits and the high bit (U+00A0 is C2 A0 in UTF-8).
        for (var before = 0; before < 20; before++)
        {
            var a = string.Concat(Enumerable.Repeat(filler, before));
            for (var after = 0; after < 12; after++)
            {
                var b = new string('y', after);
                var outcome = Run("{app=\"web\"} | pattern \"<a> <b>\"", a + " " + b + " " + b);
                Assert.Equal(a, outcome.Label("a"));
                Assert.Equal(b + " " + b, outcome.Label("b"));
            }

            // Without the space the first capture takes the whole line (an empty line extracts nothing).
            Assert.Equal(before == 0 ? null : a, Run("{app=\"web\"} | pattern \"<a> <b>\"", a).Label("a"));
            Assert.Null(Run("{app=\"web\"} | pattern \"<a> <b>\"", a).Label("b"));
        }
    }

    [Fact]
    public void FirstParserWins()
    {
        var outcome = Run("{app=\"web\"} | json | logfmt", "{\"a\":\"json\"}");
        Assert.Equal("json", outcome.Label("a"));
        var outcome2 = Run("{app=\"web\"} | logfmt | regexp \"a=(?P<a>\\\\w+)\"", "a=first");
        Assert.Equal("first", outcome2.Label("a"));
    }

    [Fact]
    public void StructuredMetadataIsVisibleAndCategorised()
    {
        var outcome = Run("{app=\"web\"} | logfmt | trace_id=\"abc\"", "level=info trace_id=zzz", DefaultStream,
            ("trace_id", "abc"), ("app", "meta"));
        Assert.True(outcome.Kept);
        var r = outcome.Result!;
        Assert.Equal("{app=\"web\"}", r.Stream.ToString());
        Assert.Equal("{app_extracted=\"meta\", trace_id=\"abc\"}", r.StructuredMetadata.ToString());
        Assert.Equal("{level=\"info\", trace_id_extracted=\"zzz\"}", r.Parsed.ToString());
    }

    [Fact]
    public void ErrorLabelsAreParsedCategory()
    {
        var r = Run("{app=\"web\"} | json", "x").Result!;
        Assert.Equal("{__error__=\"JSONParserErr\", __error_details__=\"" + MalformedObject + "\"}", r.Parsed.ToString());
        Assert.Equal("{app=\"web\"}", r.Stream.ToString());
    }

    [Fact]
    public void RepeatedLabelSetsShareResults()
    {
        var p = Compile("{app=\"web\"} | logfmt");
        var a = Run(p, "level=info"u8.ToArray()).Result;
        var b = Run(p, "level=info"u8.ToArray()).Result;
        Assert.Same(a, b);
    }
}
