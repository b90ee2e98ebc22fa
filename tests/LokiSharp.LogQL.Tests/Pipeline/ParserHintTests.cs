using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// Parser hints (json/logfmt extracting only the labels a metric query observes) must not change any sample: each
/// case runs a sequence of lines through a hinted and an unhinted extractor and compares value and labels.
/// </summary>
public sealed class ParserHintTests
{
    private const string Stream = "{app=\"web\", env=\"prod\", level=\"stream\"}";

    private static readonly string[] JsonLines =
    [
        "{\"level\":\"info\",\"status\":200,\"duration_ms\":12.5,\"user\":{\"id\":42,\"plan\":\"gold\"},\"msg\":\"ok\"}",
        "{\"level\":\"error\",\"status\":503,\"duration_ms\":812,\"user\":{\"id\":7,\"plan\":\"free\"},\"msg\":\"upstream \\\"down\\\"\"}",
        "{\"level\":\"error\",\"status\":500,\"user\":{\"id\":7,\"plan\":\"free\"},\"msg\":\"cut",
        "{\"level\":\"warn\",\"status\":\"abc\",\"user\":{\"id\":1}}",
        "{\"status\":502,\"user\":{\"id\":3,\"plan\":\"gold\" \"x\":1},\"level\":\"error\"}",
        "not json at all",
        "{\"status\":500,\"level\":\"error\",\"extra\":[1,2,{\"a\":\"b\"}],\"user\":{\"id\":9,\"plan\":\"gold\"}}",
        "{\"status\":500,\"level\":\"error\",\"user\":{\"id\":9,\"plan\":\"gold\"}} trailing",
        "{\"status\":504,\"level\":\"error\",\"user\":{\"id\":10,\"plan\":\"gold\"},\"bad\":tru}",
        "{\"status\":500,\"level\":\"error\",\"esc\\u0041\":\"v\",\"user_id\":\"top\"}",
        "{\"status\":500,\"level\":\"error\",\"bad\\q\":\"v\"}",
        "{\"status\":500,\"level\":\"error\",\"runtime\":\"250ms\",\"size\":\"2KiB\"}",
        "{\"status\":500,\"level\":\"error\",\"runtime\":\"fast\"}",
        "{}",
    ];

    private static readonly string[] LogfmtLines =
    [
        "level=info status=200 runtime=12ms task=send msg=\"all good\"",
        "level=error status=503 runtime=1.5s task=send msg=\"upstream \\\"down\\\"\"",
        "level=error status=500 runtime=2s task=bill msg=\"unterminated",
        "level=warn status=abc runtime=oops task=send",
        "level=error status=500 =novalue runtime=3s task=bill",
        "level=error status=500 runtime=3s task=bill key\"quote=1",
        "status=500 runtime= task=send",
        "no pairs here",
        "level_extracted=x status=500 runtime=10ms task=z",
    ];

    public static TheoryData<string> JsonQueries =>
    [
        "sum by (level) (count_over_time({app=\"web\"} | json | status >= 500 [5m]))",
        "sum by (level_extracted) (count_over_time({app=\"web\"} | json | status >= 500 [5m]))",
        "sum by (user_plan) (count_over_time({app=\"web\"} | json [5m]))",
        "sum by (user_id) (count_over_time({app=\"web\"} | json [5m]))",
        "sum by () (count_over_time({app=\"web\"} | json [5m]))",
        "sum by (level_extracted) (count_over_time({app=\"web\"} | json | __error__ = \"\" [5m]))",
        "sum by (level_extracted, __error_details__) (count_over_time({app=\"web\"} | json | drop __error__, __error_details__ [5m]))",
        "sum by (env) (count_over_time({app=\"web\"} | json | status >= 500 or user_plan = \"gold\" [5m]))",
        "sum by (plan) (count_over_time({app=\"web\"} | json | label_format plan=user_plan [5m]))",
        "sum by (level_extracted, user_id, msg) (count_over_time({app=\"web\"} | json | keep user_id, level_extracted [5m]))",
        "sum by (msg) (count_over_time({app=\"web\"} | json | json [5m]))",
        "sum by (__error__) (count_over_time({app=\"web\"} | json | __error__ != \"\" [5m]))",
        "sum by (level_extracted) (sum_over_time({app=\"web\"} | json | unwrap duration_ms [5m]))",
        "sum by (env) (sum_over_time({app=\"web\"} | json | unwrap duration(runtime) | __error__ = \"\" [5m]))",
        "sum by (status) (sum_over_time({app=\"web\"} | json | unwrap bytes(size) [5m]))",
        "sum by (esc_A) (bytes_over_time({app=\"web\"} | json | status = 500 [5m]))",
    ];

    public static TheoryData<string> LogfmtQueries =>
    [
        "sum by (level) (count_over_time({app=\"web\"} | logfmt | status >= 500 [5m]))",
        "sum by (level_extracted, task) (count_over_time({app=\"web\"} | logfmt | status >= 500 [5m]))",
        "sum by (task) (count_over_time({app=\"web\"} | logfmt --strict [5m]))",
        "sum by (task) (count_over_time({app=\"web\"} | logfmt --strict | __error__ = \"\" [5m]))",
        "sum by (runtime) (count_over_time({app=\"web\"} | logfmt --keep-empty [5m]))",
        "sum by (task) (sum_over_time({app=\"web\"} | logfmt | unwrap duration(runtime) [5m]))",
        "sum by (task) (sum_over_time({app=\"web\"} | logfmt | unwrap duration(runtime) | __error__ = \"\" [5m]))",
        "sum by () (count_over_time({app=\"web\"} | logfmt | msg =~ \".*down.*\" [5m]))",
        "sum by (level_extracted_extracted) (count_over_time({app=\"web\"} | logfmt | logfmt [5m]))",
        "avg_over_time({app=\"web\"} | logfmt | unwrap duration(runtime) [5m]) by (task)",
    ];

    [Theory]
    [MemberData(nameof(JsonQueries))]
    public void JsonHintsChangeNoSample(string query) => AssertSameSamples(query, JsonLines);

    [Theory]
    [MemberData(nameof(LogfmtQueries))]
    public void LogfmtHintsChangeNoSample(string query) => AssertSameSamples(query, LogfmtLines);

    [Fact]
    public void StructuredMetadataCollisionsResolvePerEntry()
    {
        var (hinted, plain) = Both("sum by (task, task_extracted) (count_over_time({app=\"web\"} | logfmt [5m]))");
        var metadata = new[] { new LabelPair("task", "from-metadata") };
        var lines = new[] { "task=a", "task=b", "task=c" };
        for (var i = 0; i < 6; i++)
        {
            var line = lines[i % 3];
            var entryMetadata = i % 2 == 0 ? metadata : [];
            Assert.Equal(Run(plain, line, entryMetadata), Run(hinted, line, entryMetadata));
        }
    }

    [Theory]
    [InlineData("sum by (level) (count_over_time({app=\"web\"} | json | status >= 500 [5m]))", "level,status")]
    [InlineData("sum by () (count_over_time({app=\"web\"} | json [5m]))", "")]
    [InlineData("sum by (env) (sum_over_time({app=\"web\"} | logfmt | unwrap duration(runtime) | task != \"x\" [5m]))", "env,runtime,task")]
    [InlineData("sum by (plan) (count_over_time({app=\"web\"} | json | label_format plan=user_plan | keep plan [5m]))", "plan,user_plan")]
    [InlineData("sum by (level) (count_over_time({app=\"web\"} | json | drop msg=\"x\" [5m]))", "level,msg")]
    public void HintsListWhatLaterStagesAndGroupingRead(string query, string expected)
    {
        var extractor = Compile(query, hints: true);
        Assert.NotNull(extractor.HintedLabels);
        Assert.Equal(expected, string.Join(',', extractor.HintedLabels.Order(StringComparer.Ordinal)));
    }

    [Theory]
    [InlineData("count_over_time({app=\"web\"} | json [5m])")]
    [InlineData("sum without (level) (count_over_time({app=\"web\"} | json [5m]))")]
    [InlineData("sum_over_time({app=\"web\"} | json | unwrap duration_ms [5m])")]
    [InlineData("sum by (x) (count_over_time({app=\"web\"} | json | label_format x=\"{{.level}}\" [5m]))")]
    [InlineData("sum by (level) (count_over_time({app=\"web\"} | json | line_format \"{{.msg}}\" | logfmt [5m]))")]
    [InlineData("sum by (level) (count_over_time({app=\"web\"} | regexp \"(?P<level>\\\\w+)\" [5m]))")]
    public void NoHintsWhenAnyLabelMayBeObserved(string query) => Assert.Null(Compile(query, hints: true).HintedLabels);

    [Fact]
    public void HintedParsersSkipUnneededLabels()
    {
        // The value of a label no stage reads is not extracted: grouping by a label kept after `keep` proves it.
        var extractor = Compile("sum by (status, msg) (count_over_time({app=\"web\"} | json | status >= 500 [5m]))", hints: true);
        var stream = extractor.ForStream(LabelSetParser.Parse(Stream));
        Assert.True(stream.Process(0, Encoding.UTF8.GetBytes(JsonLines[1]), default, out var value, out var labels));
        Assert.Equal(1, value);
        Assert.Equal("{msg=\"upstream \\\"down\\\"\", status=\"503\"}", labels.All.ToString());
        Assert.Equal(["msg", "status"], extractor.HintedLabels!.Order(StringComparer.Ordinal));
    }

    private static void AssertSameSamples(string query, string[] lines)
    {
        var (hinted, plain) = Both(query);
        Assert.NotNull(hinted.HintedLabels);
        Assert.Null(plain.HintedLabels);
        // Twice over, so per-key caches see repeated and changing values.
        for (var round = 0; round < 2; round++)
        {
            foreach (var line in lines)
            {
                Assert.Equal(Run(plain, line, []), Run(hinted, line, []));
            }
        }
    }

    private static (SampleExtractor Hinted, SampleExtractor Plain) Both(string query) => (Compile(query, true), Compile(query, false));

    private static SampleExtractor Compile(string query, bool hints)
    {
        // The grouping of an enclosing sum is pushed down to the range aggregation, as Loki does.
        var expr = LogQLParser.ParseSampleExpr(query);
        if (expr is VectorAggregationExpr { Inner: RangeAggregationExpr inner } sum)
        {
            return SampleExtractor.Compile(inner.Op, inner.Range, sum.Grouping, hints);
        }

        var range = (RangeAggregationExpr)expr;
        return SampleExtractor.Compile(range.Op, range.Range, range.Grouping, hints);
    }

    private static string Run(SampleExtractor extractor, string line, LabelPair[] metadata)
    {
        var stream = extractor.ForStream(LabelSetParser.Parse(Stream));
        return stream.Process(0, Encoding.UTF8.GetBytes(line), metadata, out var value, out var labels)
            ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + labels.All + " stream=" + labels.Stream +
              " metadata=" + labels.StructuredMetadata + " parsed=" + labels.Parsed
            : "dropped";
    }
}
