using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Tests;

public sealed class TextTests
{
    [Theory]
    [InlineData("\"plain\"", "plain")]
    [InlineData("\"a\\tb\"", "a\tb")]
    [InlineData("\"\\u00e9\"", "é")]
    [InlineData("\"\\xc3\\xa9\"", "é")]
    [InlineData("\"\\101\"", "A")]
    [InlineData("`raw\\n`", "raw\\n")]
    [InlineData("\"\\\"q\\\"\"", "\"q\"")]
    public void UnquotesGoStrings(string quoted, string expected)
    {
        Assert.True(GoString.TryUnquote(quoted, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("\"\\q\"")]
    [InlineData("\"\\400\"")]
    [InlineData("\"unterminated")]
    [InlineData("`a`b`")]
    public void RejectsMalformedGoStrings(string quoted) => Assert.False(GoString.TryUnquote(quoted, out _));

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "1ns")]
    [InlineData(1_500L, "1.5µs")]
    [InlineData(250_000_000L, "250ms")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(60_000_000_000L, "1m0s")]
    [InlineData(3_600_000_000_000L, "1h0m0s")]
    [InlineData(-300_000_000_000L, "-5m0s")]
    public void FormatsGoDurations(long ns, string text) => Assert.Equal(text, new GoDuration(ns).ToString());

    [Theory]
    [InlineData("5m", 300_000_000_000L)]
    [InlineData("1h30m", 5_400_000_000_000L)]
    [InlineData("2d", 172_800_000_000_000L)]
    [InlineData("1w", 604_800_000_000_000L)]
    [InlineData("100ms", 100_000_000L)]
    [InlineData("0", 0L)]
    public void ParsesPrometheusDurations(string text, long ns) =>
        Assert.Equal(ns, GoDuration.TryParsePrometheus(text, out _)!.Value.Nanoseconds);

    [Theory]
    [InlineData("", "empty duration string")]
    [InlineData("5", "not a valid duration string: \"5\"")]
    [InlineData("1m1h", "not a valid duration string: \"1m1h\"")]
    [InlineData("5minutes", "unknown unit \"minutes\" in duration \"5minutes\"")]
    public void RejectsBadPrometheusDurations(string text, string error)
    {
        Assert.Null(GoDuration.TryParsePrometheus(text, out var message));
        Assert.Equal(error, message);
    }

    [Theory]
    [InlineData("1.5s", 1_500_000_000L)]
    [InlineData("-5m", -300_000_000_000L)]
    [InlineData("1h0.0m0s", 3_600_000_000_000L)]
    [InlineData("100us", 100_000L)]
    [InlineData("2µs", 2_000L)]
    public void ParsesGoDurations(string text, long ns) =>
        Assert.Equal(ns, GoDuration.TryParseGo(text, out _)!.Value.Nanoseconds);

    [Theory]
    [InlineData("1d")]
    [InlineData("1")]
    [InlineData("s")]
    public void RejectsBadGoDurations(string text) => Assert.Null(GoDuration.TryParseGo(text, out _));

    [Theory]
    [InlineData(42UL, "42B")]
    [InlineData(5UL, "5B")]
    [InlineData(20_000UL, "20kB")]
    [InlineData(2_560UL, "2.6kB")]
    [InlineData(1_000_000UL, "1.0MB")]
    [InlineData(1_073_741_824UL, "1.1GB")]
    public void FormatsBytesAsHumanize(ulong size, string text) => Assert.Equal(text, HumanBytes.Format(size));

    [Theory]
    [InlineData("250kB", 250_000UL)]
    [InlineData("1KiB", 1_024UL)]
    [InlineData("1.5MB", 1_500_000UL)]
    [InlineData("10Mi", 10_485_760UL)]
    [InlineData("42", 42UL)]
    public void ParsesHumanBytes(string text, ulong size)
    {
        Assert.True(HumanBytes.TryParse(text, out var value, out _));
        Assert.Equal(size, value);
    }

    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(0.5, "0.5")]
    [InlineData(1e6, "1e+06")]
    [InlineData(123456.0, "123456")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1e21, "1e+21")]
    public void FormatsFloatsLikeGoV(double value, string text) => Assert.Equal(text, GoFloat.FormatV(value));

    [Theory]
    [InlineData(1e6, "1000000")]
    [InlineData(0.99, "0.99")]
    [InlineData(1e-7, "0.0000001")]
    public void FormatsFloatsLikeGoShortestFixed(double value, string text) =>
        Assert.Equal(text, GoFloat.FormatShortestFixed(value));
}
