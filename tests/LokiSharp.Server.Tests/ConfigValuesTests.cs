using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Tests;

public sealed class ConfigValuesTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("10s", 10_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("250ms", 250)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("744h", 2_678_400_000)]
    [InlineData("31d", 2_678_400_000)]
    [InlineData("1w", 604_800_000)]
    [InlineData("-5m", -300_000)]
    public void Durations_parse_in_Go_and_Prometheus_forms(string text, long milliseconds)
    {
        Assert.True(ConfigDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("ten")]
    [InlineData("5 m")]
    [InlineData("3x")]
    public void Malformed_durations_are_rejected(string text) => Assert.False(ConfigDuration.TryParse(text, out _));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(600_000, "10m0s")]
    [InlineData(2_678_400_000, "744h0m0s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(250, "250ms")]
    public void Durations_print_as_Go_does(long milliseconds, string expected) =>
        Assert.Equal(expected, ConfigDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData("256KB", 262_144)]
    [InlineData("256KiB", 262_144)]
    [InlineData("3MB", 3_145_728)]
    [InlineData("1GB", 1_073_741_824)]
    [InlineData("1GB512MB", 1_610_612_736)]
    [InlineData("1048576", 1_048_576)]
    [InlineData("0B", 0)]
    public void Byte_sizes_parse_in_base_2(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var size));
        Assert.Equal(bytes, size.Bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("3 parsecs")]
    [InlineData("-1MB")]
    public void Malformed_byte_sizes_are_rejected(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Fact]
    public void Byte_sizes_print_in_the_largest_exact_unit()
    {
        Assert.Equal("256KB", new ByteSize(262_144).ToString());
        Assert.Equal("15MB", new ByteSize(15 << 20).ToString());
        Assert.Equal("1000B", new ByteSize(1000).ToString());
    }

    [Fact]
    public void Environment_expansion_handles_defaults_and_unterminated_placeholders()
    {
        var env = new Dictionary<string, string> { ["A"] = "1", ["EMPTY"] = "" };
        string? Lookup(string name) => env.GetValueOrDefault(name);

        Assert.Equal("x=1 y=2 z= w=d", EnvironmentExpander.Expand("x=${A} y=${B:-2} z=${C} w=${EMPTY:-d}", Lookup));
        Assert.Equal("regex: ^a$ ${open", EnvironmentExpander.Expand("regex: ^a$ ${open", Lookup));
    }
}
