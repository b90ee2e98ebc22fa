using System.Text;
using LokiSharp.LogQL.Pipeline;
using static LokiSharp.LogQL.Tests.Pipeline.PipelineRunner;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>Deeply nested JSON lines: the json stages stop at the nesting limit with JSONParserErr instead of overflowing the stack.</summary>
public sealed class JsonDepthTests
{
    private const string TooDeep = "Value looks like object, but it is nested more than 128 levels deep";

    // {"top":"t","a":{"a":{...{"leaf":"v"}...}}}: the line's own object plus `levels` nested ones.
    private static string Nested(int levels)
    {
        var sb = new StringBuilder("{\"top\":\"t\",");
        for (var i = 0; i < levels; i++)
        {
            sb.Append("\"a\":{");
        }

        sb.Append("\"leaf\":\"v\"");
        sb.Append('}', levels + 1);
        return sb.ToString();
    }

    private static string LeafName(int levels) => string.Join('_', Enumerable.Repeat("a", levels)) + "_leaf";

    [Fact]
    public void The_limit_is_the_one_the_error_names() =>
        Assert.Contains(" " + JsonParserStep.MaxNestingDepth.ToString(System.Globalization.CultureInfo.InvariantCulture) + " levels", TooDeep, StringComparison.Ordinal);

    [Fact]
    public void Json_parses_a_line_nested_exactly_to_the_limit()
    {
        var levels = JsonParserStep.MaxNestingDepth - 1;

        var outcome = Run("{app=\"web\"} | json", Nested(levels));

        Assert.Null(outcome.Label("__error__"));
        Assert.Equal("v", outcome.Label(LeafName(levels)));
        Assert.Equal("t", outcome.Label("top"));
    }

    [Fact]
    public void Json_marks_a_line_one_level_past_the_limit_and_keeps_earlier_labels()
    {
        var line = Nested(JsonParserStep.MaxNestingDepth);

        var outcome = Run("{app=\"web\"} | json", line);

        Assert.True(outcome.Kept);
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
        Assert.Equal(TooDeep, outcome.Label("__error_details__"));
        Assert.Equal("t", outcome.Label("top"));
        Assert.Equal(line, outcome.Line);
    }

    [Theory]
    [InlineData("{app=\"web\"} | json", true)]
    [InlineData("{app=\"web\"} | json | __error__=\"JSONParserErr\"", true)]
    [InlineData("{app=\"web\"} | json | line_format \"{{.a}}\"", true)]
    [InlineData("{app=\"web\"} | json | leaf=\"v\"", false)]
    public void Json_survives_forty_thousand_levels(string query, bool kept)
    {
        var outcome = Run(query, DeepLine(40_000));

        Assert.Equal(kept, outcome.Kept);
        if (kept)
        {
            Assert.Equal("JSONParserErr", outcome.Label("__error__"));
            Assert.Equal(TooDeep, outcome.Label("__error_details__"));
        }
    }

    [Fact]
    public void Json_with_hints_still_stops_at_the_limit()
    {
        // Only a top-level label is asked for: the nested objects are checked, not extracted, and still bounded; the
        // error is the one the line gets without hints.
        var outcome = Run("{app=\"web\"} | json | top=\"t\"", Nested(1000));

        Assert.True(outcome.Kept);
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
        Assert.Equal(TooDeep, outcome.Label("__error_details__"));
    }

    [Theory]
    [InlineData("count_over_time({app=\"web\"} | json [1m])", "{__error__=\"JSONParserErr\", __error_details__=\"" + TooDeep + "\", app=\"web\"}")]
    [InlineData("count_over_time({app=\"web\"} | json | __error__=\"\" [1m])", null)]
    public void Json_metric_extraction_survives_deep_lines(string query, string? labels)
    {
        var expr = (Ast.RangeAggregationExpr)Syntax.LogQLParser.ParseSampleExpr(query);
        var extractor = SampleExtractor.Compile(expr.Op, expr.Range, expr.Grouping);
        var stream = extractor.ForStream(Syntax.LabelSetParser.Parse("{app=\"web\"}"));

        var ok = stream.Process(0, Encoding.UTF8.GetBytes(DeepLine(40_000)), default, out _, out var result);

        Assert.Equal(labels is not null, ok);
        if (labels is not null)
        {
            Assert.Equal(labels, result.All.ToString());
        }
    }

    [Fact]
    public void Json_expression_and_unpack_walk_deep_lines_without_recursing()
    {
        var line = DeepLine(40_000);

        var expression = Run("{app=\"web\"} | json inner=\"a.a\", missing=\"b\"", line);
        var unpack = Run("{app=\"web\"} | unpack", line);

        Assert.Null(expression.Label("__error__"));
        Assert.StartsWith("{\"a\":{\"a\":", expression.Label("inner"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, expression.Label("missing"));
        Assert.Null(unpack.Label("__error__"));
        Assert.Equal(line, unpack.Line);
    }

    // {"a":{"a":{...{}...}}}: the 240 KB line of the issue.
    internal static string DeepLine(int levels) =>
        new StringBuilder(levels * 6).Insert(0, "{\"a\":", levels).Append("{}").Append('}', levels).ToString();
}
