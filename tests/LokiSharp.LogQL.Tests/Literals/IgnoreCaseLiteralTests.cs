using System.Text;
using LokiSharp.LogQL.Literals;
using static LokiSharp.LogQL.Tests.Pipeline.PipelineRunner;

namespace LokiSharp.LogQL.Tests.Literals;

public sealed class IgnoreCaseLiteralTests
{
    [Theory]
    [InlineData("timeout", "request TimeOut after 5s", 8)]
    [InlineData("timeout", "TIMEOUT", 0)]
    [InlineData("timeout", "timeou", -1)]
    [InlineData("timeout", "time out", -1)]
    [InlineData("a", "xxA", 2)]
    [InlineData("=", "a=b", 1)]
    [InlineData("[x]", "{x}[X]", 3)]
    [InlineData("@", "`", -1)]
    [InlineData("", "anything", 0)]
    public void FindsTheLiteralInAnyAsciiCase(string literal, string text, int expected) =>
        Assert.Equal(expected, new IgnoreCaseLiteral(Encoding.ASCII.GetBytes(literal)).IndexIn(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void AgreesWithANaiveSearchAtEveryLengthAndOffset()
    {
        // Small alphabets with letters, their other case and the bytes that differ from them by 0x20 only.
        var alphabet = "abAB@`[{ 1\u00e9"u8.ToArray();
        var rng = new Random(7);
        for (var round = 0; round < 4000; round++)
        {
            var literal = new byte[rng.Next(1, 6)];
            for (var i = 0; i < literal.Length; i++)
            {
                literal[i] = alphabet[rng.Next(alphabet.Length - 2)]; // ASCII only
            }

            var text = new byte[rng.Next(0, 90)];
            for (var i = 0; i < text.Length; i++)
            {
                text[i] = alphabet[rng.Next(alphabet.Length)];
            }

            Assert.Equal(NaiveIndex(text, literal), new IgnoreCaseLiteral(literal).IndexIn(text));
        }
    }

    [Fact]
    public void ReportsLettersRe2FoldsBeyondAscii()
    {
        Assert.True(new IgnoreCaseLiteral("Kelvin"u8).FoldsBeyondAscii);
        Assert.True(new IgnoreCaseLiteral("class"u8).FoldsBeyondAscii);
        Assert.False(new IgnoreCaseLiteral("timeout"u8).FoldsBeyondAscii);
        Assert.Throws<ArgumentException>(() => new IgnoreCaseLiteral("caf\u00e9"u8));
    }

    [Theory]
    [InlineData("(?i)kelvin", "\u212Aelvin", true)]
    [InlineData("(?i)KELVIN", "300 \u212Aelvin", true)]
    [InlineData("(?i)timeout|sign", "caf\u00e9 TIMEOUT", true)]
    [InlineData("(?i)timeout|sign", "caf\u00e9 time out", false)]
    [InlineData("(?i)kelvin", "k\u00e9lvin", false)]
    [InlineData("(?i)timeout", "T\u0130MEOUT", false)]
    public void CaseInsensitiveLineFiltersFollowRe2Folding(string regex, string line, bool kept) =>
        Assert.Equal(kept, Keeps("{app=\"web\"} |~ \"" + regex + "\"", line));

    [Theory]
    [InlineData("(?i)sign", "\u017Fign")]
    [InlineData("(?i)timeout|sign", "\u017FIGN")]
    [InlineData("(?i)kelvin", "\u212AELVIN")]
    [InlineData("(?i)kelvin", "K\u00e9lvin")]
    [InlineData("(?i)timeout", "T\u0130MEOUT")]
    [InlineData("(?i)timeout", "\u00e9 TimeOut")]
    [InlineData("(?i)timeout", "timeout")]
    public void LiteralFastPathsAgreeWithTheRegexEngine(string regex, string line)
    {
        // The same regex with a class the literal analysis cannot see through always runs on the regex engine.
        var viaRegex = regex.Replace("i)", "i)(?:", StringComparison.Ordinal) + "|[\\x00-\\x00]{2}x)";
        Assert.Equal(Keeps("{app=\"web\"} |~ \"" + viaRegex + "\"", line), Keeps("{app=\"web\"} |~ \"" + regex + "\"", line));
        if (regex.Contains('|', StringComparison.Ordinal))
        {
            return;
        }

        var value = Encoding.UTF8.GetBytes("v=" + line.Replace(' ', '_'));
        var literal = "{app=\"web\"} | logfmt | v=~\"(?i).*" + regex[4..] + ".*\"";
        var general = "{app=\"web\"} | logfmt | v=~\"(?i).*(?:" + regex[4..] + "|[\\x00-\\x00]{2}x).*\"";
        Assert.Equal(Run(Compile(general), value).Kept, Run(Compile(literal), value).Kept);
    }

    [Theory]
    [InlineData("(?i)ok", "\u212A", false)]
    [InlineData("(?i)ok", "O\u212A", true)]
    [InlineData("(?i)warn", "WARN", true)]
    public void CaseInsensitiveLabelFiltersFollowRe2Folding(string regex, string value, bool kept)
    {
        var outcome = Run(Compile("{app=\"web\"} | logfmt | level=~\"" + regex + "\""), Encoding.UTF8.GetBytes("level=" + value));
        Assert.Equal(kept, outcome.Kept);
    }

    private static int NaiveIndex(byte[] text, byte[] literal)
    {
        for (var i = 0; i + literal.Length <= text.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(text.AsSpan(i, literal.Length), literal))
            {
                return i;
            }
        }

        return -1;
    }
}
