using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// A label filter right after <c>| json</c> lets the parser stop as soon as the filter is sure to drop the line. No
/// outcome may change: each case runs line sequences (so per-key caches and the previous line's key positions carry
/// over, dropped and kept lines interleaved) through the pipeline and through a reference whose filter is separated
/// from the parser by a stage that keeps every line and touches no label (so the parser walks every line whole).
/// </summary>
public sealed class EarlyFilterVerdictTests
{
    private const string Stream = "{app=\"web\", env=\"prod\", level=\"stream\"}";

    // Keeps every line (no error is ever named "never") and reads only __error__, so it stops no parser early.
    private const string Separator = " | __error__ != \"never\"";

    private static readonly string[] Lines =
    [
        "{\"level\":\"info\",\"status\":200,\"duration_ms\":12.5,\"user\":{\"id\":42,\"plan\":\"gold\"},\"msg\":\"ok\"}",
        "{\"level\":\"error\",\"status\":503,\"duration_ms\":812,\"user\":{\"id\":7,\"plan\":\"free\"},\"msg\":\"upstream \\\"down\\\"\"}",
        "{\"level\":\"info\",\"status\":200,\"duration_ms\":13.5,\"user\":{\"id\":43,\"plan\":\"gold\"},\"msg\":\"ok again\"}",
        "{\"level\":\"error\",\"status\":200,\"user\":{\"id\":7,\"plan\":\"free\"},\"msg\":\"cut",
        "{\"level\":\"error\",\"status\":500,\"user\":{\"id\":7,\"plan\":\"free\"},\"msg\":\"cut",
        "{\"level\":\"warn\",\"status\":\"abc\",\"user\":{\"id\":1}}",
        "{\"status\":502,\"user\":{\"id\":3,\"plan\":\"gold\" \"x\":1},\"level\":\"error\"}",
        "{\"status\":200,\"user\":{\"id\":3,\"plan\":\"gold\" \"x\":1},\"level\":\"error\"}",
        "not json at all",
        "{\"status\":200,\"level\":\"error\",\"extra\":[1,2,{\"a\":\"b\"}],\"user\":{\"id\":9,\"plan\":\"gold\"}}",
        "{\"status\":500,\"level\":\"error\",\"user\":{\"id\":9,\"plan\":\"gold\"}} trailing",
        "{\"status\":404,\"level\":\"error\",\"user\":{\"id\":10,\"plan\":\"gold\"},\"bad\":tru}",
        "{\"status\":504,\"level\":\"error\",\"user\":{\"id\":10,\"plan\":\"gold\"},\"bad\":tru}",
        "{\"st\\u0061tus\":503,\"level\":\"error\",\"user_id\":\"top\"}",
        "{\"st\\u0061tus\":200,\"status\":503}",
        "{\"status\":200,\"status\":503,\"msg\":\"first wins\"}",
        "{\"status\":503,\"status\":200,\"msg\":\"first wins\"}",
        "{\" status \":503,\"msg\":\"trimmed key\"}",
        "{\"\":{\"status\":503},\"msg\":\"blank parent\"}",
        "{\"\":{\"status\":200},\"status\":503}",
        "{\"user\":{\"id\":600,\"plan\":\"gold\"},\"status\":200,\"msg\":\"nested first\"}",
        "{\"status\":\"5\\u00e903\",\"msg\":\"\\u00fcnic\\u00f6de \\ud83d\\ude00\"}",
        "{\"status\":\"503\",\"msg\":\"string status\"}",
        "{\"status\":true,\"msg\":\"bool status\"}",
        "{\"status\":null,\"msg\":\"null status\"}",
        "{\"status\":[503],\"msg\":\"array status\"}",
        "{\"status\":{\"code\":503},\"msg\":\"object status\"}",
        "{\"status\":1e3,\"duration\":\"250ms\",\"size\":\"2KiB\"}",
        "{\"status\":100,\"duration\":\"fast\",\"size\":\"2KiB\",\"bad\\q\":\"v\"}",
        "{\"status\":100,\"duration\":\"2s\",\"size\":\"lots\"}",
        "{\"status\":200,\"addr\":\"10.1.2.3\",\"x\":}",
        "{\"status\":200,\"addr\":\"192.168.0.1\"}",
        "{}",
        "",
        "{\"level\":\"info\",\"status\":200,\"duration_ms\":12.5,\"user\":{\"id\":42,\"plan\":\"gold\"},\"msg\":\"ok\"}",
    ];

    public static TheoryData<string> Filters =>
    [
        "status >= 500",
        "status < 500",
        "status == 503",
        "status >= 500 or user_plan = \"gold\"",
        "status >= 500 and msg =~ \".*down.*\"",
        "user_id > 5",
        "msg = \"ok\"",
        "level = \"error\"",
        "level_extracted = \"error\"",
        "duration > 1s",
        "size > 1KB",
        "addr = ip(\"10.0.0.0/8\")",
        "__error__ = \"\"",
        "status >= 500, msg != \"\"",
    ];

    [Theory]
    [InlineData("| json | status >= 500", true)]
    [InlineData("| json | status >= 500 or user_plan = \"gold\"", true)]
    [InlineData("| json | line_format \"x\" | status >= 500", false)]
    [InlineData("| json" + Separator + " | status >= 500", false)]
    public void OnlyAParserRightBeforeALabelFilterStopsEarly(string stages, bool stops)
    {
        // The outcome tests below compare against the parser that never stops early: they would pass if none did.
        var pipeline = PipelineRunner.Compile("{app=\"web\"} " + stages);
        Assert.Equal(stops, Assert.IsType<JsonParserStep>(pipeline.Stages[0]).StopsEarly);
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void LogPipelinesKeepEveryOutcome(string filter)
    {
        var early = PipelineRunner.Compile("{app=\"web\"} | json | " + filter);
        var reference = PipelineRunner.Compile("{app=\"web\"} | json" + Separator + " | " + filter);
        foreach (var sequence in Sequences())
        {
            foreach (var line in sequence)
            {
                var bytes = Encoding.UTF8.GetBytes(line);
                Assert.Equal(Describe(PipelineRunner.Run(reference, bytes, Stream)), Describe(PipelineRunner.Run(early, bytes, Stream)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void MetricSamplesStayTheSame(string filter)
    {
        foreach (var grouping in new[] { "by (level)", "by (status, level_extracted)", "without (user_id)", string.Empty })
        {
            var early = Extractor($"sum {grouping} (count_over_time({{app=\"web\"}} | json | {filter} [5m]))");
            var reference = Extractor($"sum {grouping} (count_over_time({{app=\"web\"}} | json{Separator} | {filter} [5m]))");
            var metadata = new[] { new LabelPair("status", "from-metadata") };
            foreach (var sequence in Sequences())
            {
                for (var i = 0; i < sequence.Count; i++)
                {
                    LabelPair[] entryMetadata = i % 3 == 0 ? metadata : [];
                    Assert.Equal(Sample(reference, sequence[i], entryMetadata), Sample(early, sequence[i], entryMetadata));
                }
            }
        }
    }

    [Fact]
    public void MutatedLinesKeepEveryOutcome()
    {
        // Random edits of the lines above, in runs of a few lines so a dropped line is followed by similar ones.
        var random = new Random(20_261_207);
        var early = PipelineRunner.Compile("{app=\"web\"} | json | status >= 500 or user_plan = \"gold\"");
        var reference = PipelineRunner.Compile("{app=\"web\"} | json" + Separator + " | status >= 500 or user_plan = \"gold\"");
        const string alphabet = "{}[]\",:\\ 05a_u";
        var dropped = 0;
        for (var round = 0; round < 3_000; round++)
        {
            var bytes = Encoding.UTF8.GetBytes(Lines[random.Next(Lines.Length)]);
            for (var edits = random.Next(3); edits > 0 && bytes.Length > 0; edits--)
            {
                bytes[random.Next(bytes.Length)] = (byte)alphabet[random.Next(alphabet.Length)];
            }

            var expected = PipelineRunner.Run(reference, bytes, Stream);
            var actual = PipelineRunner.Run(early, bytes, Stream);
            Assert.True(Describe(expected) == Describe(actual),
                $"round {round}: {Encoding.UTF8.GetString(bytes)}: expected {Describe(expected)}, got {Describe(actual)}");
            dropped += expected.Kept ? 0 : 1;
        }

        Assert.InRange(dropped, 300, 2_700);
    }

    // Everything a log query shows of an entry: kept or not, the line, and its labels by category.
    private static string Describe(EntryOutcome outcome) => outcome.Result is not { } r
        ? (outcome.Kept ? "kept " : "dropped ") + outcome.Line
        : $"kept {outcome.Line} {outcome.Labels} stream={r.Stream} metadata={r.StructuredMetadata} parsed={r.Parsed}";

    // The lines forwards, backwards, and shuffled twice over.
    private static IEnumerable<IReadOnlyList<string>> Sequences()
    {
        yield return Lines;
        yield return [.. Lines.Reverse()];
        var random = new Random(7);
        yield return [.. Lines.Concat(Lines).OrderBy(_ => random.Next())];
    }

    private static SampleExtractor Extractor(string query)
    {
        var sum = (VectorAggregationExpr)LogQLParser.ParseSampleExpr(query);
        var inner = (RangeAggregationExpr)sum.Inner;
        return SampleExtractor.Compile(inner.Op, inner.Range, sum.Grouping);
    }

    private static string Sample(SampleExtractor extractor, string line, LabelPair[] metadata)
    {
        var stream = extractor.ForStream(LabelSetParser.Parse(Stream));
        return stream.Process(0, Encoding.UTF8.GetBytes(line), metadata, out var value, out var labels)
            ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + labels.All
            : "dropped";
    }
}
