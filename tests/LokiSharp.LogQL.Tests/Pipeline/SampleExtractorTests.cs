using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Pipeline;

public sealed class SampleExtractorTests
{
    private static (bool Ok, double Value, string Labels) Extract(string query, string line, string stream = "{app=\"web\", env=\"prod\"}")
    {
        var expr = (RangeAggregationExpr)LogQLParser.ParseSampleExpr(query);
        var extractor = SampleExtractor.Compile(expr.Op, expr.Range, expr.Grouping);
        var sse = extractor.ForStream(LabelSetParser.Parse(stream));
        var ok = sse.Process(0, Encoding.UTF8.GetBytes(line), default, out var value, out var labels);
        return (ok, value, ok ? labels.All.ToString() : string.Empty);
    }

    [Theory]
    [InlineData("count_over_time({app=\"web\"}[1m])", "anything", 1, "{app=\"web\", env=\"prod\"}")]
    [InlineData("rate({app=\"web\"} |= \"x\"[1m])", "has x", 1, "{app=\"web\", env=\"prod\"}")]
    [InlineData("bytes_over_time({app=\"web\"}[1m])", "héllo", 6, "{app=\"web\", env=\"prod\"}")]
    [InlineData("bytes_rate({app=\"web\"} | line_format \"ab\"[1m])", "héllo", 2, "{app=\"web\", env=\"prod\"}")]
    [InlineData("count_over_time({app=\"web\"} | logfmt [1m])", "level=info", 1, "{app=\"web\", env=\"prod\", level=\"info\"}")]
    [InlineData("sum_over_time({app=\"web\"} | logfmt | unwrap latency [1m])", "latency=12.5 level=info", 12.5, "{app=\"web\", env=\"prod\", level=\"info\"}")]
    [InlineData("sum_over_time({app=\"web\"} | logfmt | unwrap bytes(size) [1m])", "size=2KiB", 2048, "{app=\"web\", env=\"prod\"}")]
    [InlineData("sum_over_time({app=\"web\"} | logfmt | unwrap duration(d) [1m])", "d=1m30s", 90, "{app=\"web\", env=\"prod\"}")]
    [InlineData("sum_over_time({app=\"web\"} | logfmt | unwrap duration_seconds(d) [1m])", "d=250ms", 0.25, "{app=\"web\", env=\"prod\"}")]
    [InlineData("avg_over_time({app=\"web\"} | logfmt | unwrap latency [1m]) by (level)", "latency=3 level=warn", 3, "{level=\"warn\"}")]
    [InlineData("avg_over_time({app=\"web\"} | logfmt | unwrap latency [1m]) without (env)", "latency=3 level=warn", 3, "{app=\"web\", level=\"warn\"}")]
    [InlineData("avg_over_time({app=\"web\"} | logfmt | unwrap latency [1m]) by ()", "latency=3", 3, "{}")]
    [InlineData("avg_over_time({app=\"web\"} | logfmt | unwrap latency [1m]) without ()", "latency=3 level=warn", 3, "{app=\"web\", env=\"prod\", level=\"warn\"}")]
    [InlineData("count_over_time({app=\"web\"} | line_format \"{{div 1 0}}\" [1m])", "x", 1, "{app=\"web\", env=\"prod\"}")]
    public void Extracts(string query, string line, double value, string labels)
    {
        var (ok, v, l) = Extract(query, line);
        Assert.True(ok);
        Assert.Equal(value, v);
        Assert.Equal(labels, l);
    }

    [Theory]
    [InlineData(false, "{}")]
    [InlineData(true, "{app=\"web\", env=\"prod\", level=\"warn\"}")]
    public void An_outer_empty_grouping_drops_every_label_with_by_and_none_with_without(bool without, string labels)
    {
        // The grouping a `sum by ()` / `sum without ()` around the range aggregation pushes down (as Loki's Singleton).
        var expr = (RangeAggregationExpr)LogQLParser.ParseSampleExpr("count_over_time({app=\"web\"} | logfmt [1m])");
        var extractor = SampleExtractor.Compile(expr.Op, expr.Range, new Grouping(without, EquatableArray<string>.Empty));
        var sse = extractor.ForStream(LabelSetParser.Parse("{app=\"web\", env=\"prod\"}"));
        Assert.True(sse.Process(0, "level=warn"u8, default, out _, out var result));
        Assert.Equal(labels, result.All.ToString());
    }

    [Theory]
    [InlineData("count_over_time({app=\"web\"} |= \"x\" | pattern \"<b> <_>\" [1m])", "a,b,pod,pod_extracted,__error__,__error_details__")]
    [InlineData("count_over_time({app=\"web\"} |= \"x\" [1m])", "a,pod,pod_extracted,__error__,__error_details__")]
    [InlineData("count_over_time({app=\"web\"} | json [1m])", null)]
    [InlineData("count_over_time({app=\"web\"} | drop no_such_label [1m])", null)]
    [InlineData("count_over_time({app=\"web\"} | pattern \"<a> <_>\" | a = \"b\" [1m])", null)]
    public void The_metadata_names_a_sample_can_depend_on_are_known_only_for_line_filters_and_pattern_captures(string query, string? names)
    {
        // What lets the store skip the structured metadata no kept label, capture or error label names; a stage that
        // reads labels or writes names met in the line makes every name matter (null).
        var expr = (RangeAggregationExpr)LogQLParser.ParseSampleExpr(query);
        var extractor = SampleExtractor.Compile(expr.Op, expr.Range, new Grouping(false, new EquatableArray<string>(["a", "pod_extracted"])));
        Assert.Equal(names?.Split(',').Order(StringComparer.Ordinal), extractor.MetadataNamesRead?.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MissingOrEmptyUnwrappedLabelsAreSkipped()
    {
        Assert.False(Extract("sum_over_time({app=\"web\"} | logfmt | unwrap latency [1m])", "level=info").Ok);
        Assert.False(Extract("sum_over_time({app=\"web\"} | logfmt --keep-empty | unwrap latency [1m])", "latency=").Ok);
        Assert.False(Extract("count_over_time({app=\"web\"} |= \"nope\" [1m])", "level=info").Ok);
    }

    [Fact]
    public void ConversionFailuresSetSampleExtractionErr()
    {
        var (ok, value, labels) = Extract("sum_over_time({app=\"web\"} | logfmt | unwrap latency [1m])", "latency=fast");
        Assert.True(ok);
        Assert.Equal(0, value);
        Assert.Equal("{__error__=\"SampleExtractionErr\", __error_details__=\"strconv.ParseFloat: parsing \\\"fast\\\": invalid syntax\", app=\"web\", env=\"prod\", latency=\"fast\"}", labels);
        Assert.False(Extract("sum_over_time({app=\"web\"} | logfmt | unwrap latency | __error__=\"\" [1m])", "latency=fast").Ok);
        Assert.True(Extract("sum_over_time({app=\"web\"} | logfmt | unwrap latency | __error__=\"\" [1m])", "latency=5").Ok);
    }

    [Fact]
    public void PostFiltersSeeConvertedLabels() =>
        Assert.False(Extract("sum_over_time({app=\"web\"} | logfmt | unwrap latency | level=\"warn\" [1m])", "latency=5 level=info").Ok);

    [Fact]
    public void LiteralRequirementsComeFromThePipeline()
    {
        var expr = (RangeAggregationExpr)LogQLParser.ParseSampleExpr("count_over_time({app=\"web\"} |= \"GET\" [5m])");
        Assert.Equal(["GET"], SampleExtractor.Compile(expr.Op, expr.Range).Pipeline.RequiredLiterals);
    }
}
