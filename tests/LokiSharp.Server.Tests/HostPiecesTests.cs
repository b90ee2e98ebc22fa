using LokiSharp.Server.Http;
using LokiSharp.Server.Logging;
using Microsoft.Extensions.Logging;

namespace LokiSharp.Server.Tests;

public sealed class HostPiecesTests
{
    [Theory]
    [InlineData("/loki/api/v1/push", "loki_api_v1_push")]
    [InlineData("/loki/api/v1/label/{name}/values", "loki_api_v1_label_name_values")]
    [InlineData("/otlp/v1/logs", "otlp_v1_logs")]
    [InlineData("/ready", "ready")]
    [InlineData("/", "root")]
    public void Route_labels_follow_Loki(string template, string expected) =>
        Assert.Equal(expected, RequestMetrics.MakeLabelValue(template));

    [Fact]
    public void The_request_line_holds_the_longest_query_the_parser_takes_fully_percent_encoded()
    {
        var longestEncodedQuery = 3 * (LogQL.Syntax.LogQLParser.MaxInputSize - 1);
        const int otherParameters = 4096;

        Assert.True(longestEncodedQuery + otherParameters <= RequestParams.MaxRequestLineSize);
        Assert.Equal(1 << 20, RequestParams.MaxRequestLineSize);
    }

    [Fact]
    public void Log_lines_are_logfmt_with_arguments_as_keys()
    {
        using var output = new StringWriter();
        using (var provider = new LokiLoggerProvider(new LogLevelSwitch("info"), json: false, output))
        {
            var logger = provider.CreateLogger("LokiSharp.Server.Compactor");
            logger.LogDebug("hidden");
#pragma warning disable CA1848, CA2254 // plain calls are what this test exercises
            logger.LogWarning("retention applied to {tenant}", "fake");
            logger.Log(LogLevel.Information, 0, new List<KeyValuePair<string, object?>> { new("bytes", 42), new("path", "/a b") }, null, (_, _) => "chunks freed");
#pragma warning restore CA1848, CA2254
        }

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches("^level=warn ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z caller=Compactor msg=\"retention applied to fake\"$", lines[0]);
        Assert.EndsWith("caller=Compactor msg=\"chunks freed\" bytes=42 path=\"/a b\"", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Json_log_lines_carry_the_same_keys()
    {
        using var output = new StringWriter();
        using (var provider = new LokiLoggerProvider(new LogLevelSwitch("debug"), json: true, output))
        {
#pragma warning disable CA1848, CA2254
            provider.CreateLogger("main").LogError("boom \"quoted\"");
#pragma warning restore CA1848, CA2254
        }

        Assert.Matches("^\\{\"level\":\"error\",\"ts\":\"[^\"]+\",\"caller\":\"main\",\"msg\":\"boom \\\\\"quoted\\\\\"\"\\}$", output.ToString().TrimEnd());
    }

    [Fact]
    public void Log_level_switch_uses_Loki_names()
    {
        var level = new LogLevelSwitch("warn");

        Assert.Equal(LogLevel.Warning, level.Level);
        Assert.False(level.TrySet("verbose"));
        Assert.True(level.TrySet("debug"));
        Assert.Equal("debug", level.Name);
    }
}
