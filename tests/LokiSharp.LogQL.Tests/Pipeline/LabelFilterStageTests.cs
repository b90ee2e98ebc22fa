using static LokiSharp.LogQL.Tests.Pipeline.PipelineRunner;

namespace LokiSharp.LogQL.Tests.Pipeline;

public sealed class LabelFilterStageTests
{
    [Theory]
    [InlineData("status >= 500", "status=503", true)]
    [InlineData("status >= 500", "status=200", false)]
    [InlineData("status >= 500", "other=1", false)]
    [InlineData("status == 200", "status=200.0", true)]
    [InlineData("status = 200", "status=200", true)]
    [InlineData("status != 200", "status=201", true)]
    [InlineData("status < -1", "status=-5", true)]
    [InlineData("status > 1", "status=1e3", true)]
    [InlineData("status > 1", "status=NaN", false)]
    [InlineData("status != 1", "status=NaN", true)]
    [InlineData("latency > 250ms", "latency=1s", true)]
    [InlineData("latency > 250ms", "latency=100ms", false)]
    [InlineData("latency >= 1h30m", "latency=1h30m0s", true)]
    [InlineData("latency < 1m", "latency=1.5s", true)]
    [InlineData("size > 1KB", "size=2KB", true)]
    [InlineData("size > 1KB", "size=1KiB", true)]
    [InlineData("size > 1KB", "size=999B", false)]
    [InlineData("size <= 20MB", "size=20MB", true)]
    [InlineData("level=\"error\"", "level=error", true)]
    [InlineData("level=\"error\"", "level=info", false)]
    [InlineData("level!=\"error\"", "level=info", true)]
    [InlineData("level=\"\"", "other=1", true)]
    [InlineData("level=~\"err.*\"", "level=error", true)]
    [InlineData("level=~\"al.*\"", "level=prealpha", true)]
    [InlineData("level=~\"e.r\"", "level=xerr", false)]
    [InlineData("level=~\"e.r\"", "level=ear", true)]
    [InlineData("level=~\"info|warn\"", "level=warn", true)]
    [InlineData("level=~\"info|warn\"", "level=warning", false)]
    [InlineData("level=~\"(?i)INFO\"", "level=info", true)]
    [InlineData("level!~\"info|warn\"", "level=error", true)]
    [InlineData("level=~\".+\"", "other=1", false)]
    [InlineData("level=~\".*\"", "other=1", true)]
    [InlineData("addr = ip(\"10.0.0.0/8\")", "addr=10.1.2.3", true)]
    [InlineData("addr = ip(\"10.0.0.0/8\")", "addr=11.1.2.3", false)]
    [InlineData("addr != ip(\"10.0.0.0/8\")", "addr=11.1.2.3", true)]
    [InlineData("addr = ip(\"10.0.0.0/8\")", "other=1", false)]
    public void Filters(string filter, string line, bool kept) =>
        Assert.Equal(kept, Run("{app=\"web\"} | logfmt | " + filter, line).Kept);

    [Theory]
    [InlineData("a=\"1\" or b=\"2\" and c=\"3\"", "a=1", true)]
    [InlineData("a=\"1\" or b=\"2\" and c=\"3\"", "b=2", false)]
    [InlineData("a=\"1\" or b=\"2\" and c=\"3\"", "b=2 c=3", true)]
    [InlineData("a=\"1\" and b=\"2\" or c=\"3\"", "c=3", true)]
    [InlineData("a=\"1\", b=\"2\" or c=\"3\"", "a=1 c=3", true)]
    [InlineData("a=\"1\", b=\"2\" or c=\"3\"", "c=3", false)]
    [InlineData("a=\"1\" b=\"2\"", "a=1 b=2", true)]
    [InlineData("a=\"1\" b=\"2\"", "a=1 b=3", false)]
    [InlineData("(a=\"1\" or b=\"2\") and c=\"3\"", "b=2 c=3", true)]
    [InlineData("(a=\"1\" or b=\"2\") and c=\"3\"", "a=1", false)]
    public void Precedence(string filter, string line, bool kept) =>
        Assert.Equal(kept, Run("{app=\"web\"} | logfmt | " + filter, line).Kept);

    [Theory]
    [InlineData("status > 1", "status=abc", "strconv.ParseFloat: parsing \"abc\": invalid syntax")]
    [InlineData("latency > 1s", "latency=1d", "time: unknown unit \"d\" in duration \"1d\"")]
    [InlineData("latency > 1s", "latency=fast", "time: invalid duration \"fast\"")]
    public void ConversionErrorsKeepTheLine(string filter, string line, string details)
    {
        var outcome = Run("{app=\"web\"} | logfmt | " + filter, line);
        Assert.True(outcome.Kept);
        Assert.Equal("LabelFilterErr", outcome.Label("__error__"));
        Assert.Equal(details, outcome.Label("__error_details__"));
    }

    [Fact]
    public void BytesConversionErrorIsReported()
    {
        var outcome = Run("{app=\"web\"} | logfmt | size > 1KB", "size=lots");
        Assert.True(outcome.Kept);
        Assert.Equal("LabelFilterErr", outcome.Label("__error__"));
        Assert.False(string.IsNullOrEmpty(outcome.Label("__error_details__")));
    }

    [Fact]
    public void FirstErrorIsKept()
    {
        var outcome = Run("{app=\"web\"} | json | status > 1", "{\"status\":\"abc\", bad}");
        Assert.Equal("JSONParserErr", outcome.Label("__error__"));
    }

    [Fact]
    public void OrShortCircuitsConversionErrors()
    {
        Assert.Null(Run("{app=\"web\"} | logfmt | a=\"1\" or b > 1", "a=1 b=x").Label("__error__"));
        Assert.Equal("LabelFilterErr", Run("{app=\"web\"} | logfmt | b > 1 or a=\"1\"", "a=1 b=x").Label("__error__"));
    }

    [Fact]
    public void IpFilterPassesErroredLines() =>
        Assert.True(Run("{app=\"web\"} | json | addr = ip(\"10.0.0.0/8\")", "not json").Kept);

    [Fact]
    public void ErrorLabelOnlyMatchesStringFilters()
    {
        Assert.False(Run("{app=\"web\"} | json | __error__ > 0", "not json").Kept);
        Assert.True(Run("{app=\"web\"} | json | __error__=\"JSONParserErr\"", "not json").Kept);
        Assert.True(Run("{app=\"web\"} | json | __error__=~\"JSON.*\"", "not json").Kept);
    }

    [Fact]
    public void StreamLabelsAreFilterable()
    {
        Assert.True(Run("{app=\"web\"} | app=\"web\"", "x").Kept);
        Assert.False(Run("{app=\"web\"} | app=\"api\"", "x").Kept);
    }
}
