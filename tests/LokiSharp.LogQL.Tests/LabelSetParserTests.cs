using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests;

public sealed class LabelSetParserTests
{
    [Theory]
    [InlineData("{a=\"b\"}", "{a=\"b\"}")]
    [InlineData("{b=\"2\", a=\"1\"}", "{a=\"1\", b=\"2\"}")]
    [InlineData("{job=\"varlogs\",filename=\"/var/log/syslog\"}", "{filename=\"/var/log/syslog\", job=\"varlogs\"}")]
    [InlineData("{a=\"1\", b=\"\"}", "{a=\"1\"}")]
    [InlineData("{}", "{}")]
    [InlineData("{a=\"1\",}", "{a=\"1\"}")]
    [InlineData("{a=`raw`}", "{a=\"raw\"}")]
    [InlineData("{json=\"x\", by=\"y\"}", "{by=\"y\", json=\"x\"}")]
    [InlineData("{a=\"esc\\\"aped\"}", "{a=\"esc\\\"aped\"}")]
    public void ParsesPushLabelSets(string text, string canonical) =>
        Assert.Equal(canonical, LabelSetParser.Parse(text).ToString());

    [Theory]
    [InlineData("a=\"b\"")]
    [InlineData("{a=\"b\"")]
    [InlineData("{a=b}")]
    [InlineData("{a}")]
    [InlineData("{a=\"b\" c=\"d\"}")]
    [InlineData("{a=\"1\", a=\"2\"}")]
    [InlineData("{a=\"b}")]
    [InlineData("{a=\"b\"} x")]
    public void RejectsMalformedLabelSets(string text) =>
        Assert.Throws<LogQLParseException>(() => LabelSetParser.Parse(text));

    [Fact]
    public void ReturnsSharedLabelSet() =>
        Assert.Equal(LabelSet.From(("a", "1")), LabelSetParser.Parse("{a=\"1\"}"));
}
