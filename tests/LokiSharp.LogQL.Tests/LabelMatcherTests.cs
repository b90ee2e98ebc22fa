using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.LogQL.Tests;

/// <summary>Stream matchers: RE2 semantics, anchored as Prometheus anchors them, on a linear-time engine.</summary>
public sealed class LabelMatcherTests
{
    [Theory]
    [InlineData("(a+)+$")]
    [InlineData("(a|a)+$")]
    [InlineData("(a*)*b")]
    [InlineData("(.*a){20}")]
    [InlineData("(?:a+){2,}c")]
    public void CatastrophicBacktrackingPatternsAnswerWithoutATimeout(string pattern)
    {
        // A backtracking engine takes exponential time on these (28 "a"s were a CPU-second; the old matcher hit its
        // regex timeout and threw); the linear-time engine just answers.
        var value = new string('a', 5000) + "!";
        Assert.False(new LabelMatcher("v", MatchType.Regex, pattern).Matches(value));
        Assert.True(new LabelMatcher("v", MatchType.NotRegex, pattern).Matches(value));
        Assert.False(new LabelMatcher("v", MatchType.Regex, pattern).Matches(value.AsSpan()));
    }

    [Theory]
    [InlineData("a", "a", true)]
    [InlineData("a", "a\n", false)]
    [InlineData("a", "ba", false)]
    [InlineData("a|b", "b", true)]
    [InlineData("a.b", "a\nb", true)]
    [InlineData(".*", "multi\nline", true)]
    [InlineData(".+", "", false)]
    [InlineData("\\d+", "0123456789", true)]
    [InlineData("\\d+", "\u0663", false)]
    [InlineData("\\w+", "é", false)]
    [InlineData("\\pL+", "é", true)]
    [InlineData("[[:alpha:]]+", "abc", true)]
    [InlineData("a\\Q.*\\Eb", "a.*b", true)]
    [InlineData("a\\Q.*\\Eb", "axxb", false)]
    [InlineData("(?i)WEB", "web", true)]
    [InlineData("(?P<x>web)", "web", true)]
    [InlineData("^web$", "web", true)]
    public void RegexMatchesTheWholeValueWithGoSemantics(string pattern, string value, bool matches)
    {
        Assert.Equal(matches, new LabelMatcher("v", MatchType.Regex, pattern).Matches(value));
        Assert.Equal(matches, new LabelMatcher("v", MatchType.Regex, pattern).Matches(value.AsSpan()));
        Assert.Equal(!matches, new LabelMatcher("v", MatchType.NotRegex, pattern).Matches(value));
    }

    [Theory]
    [InlineData(MatchType.Equal, "web", "web", true)]
    [InlineData(MatchType.Equal, "web", "webs", false)]
    [InlineData(MatchType.NotEqual, "web", "web", false)]
    [InlineData(MatchType.NotEqual, "web", "", true)]
    public void EqualityMatchersCompareOrdinally(MatchType type, string matcherValue, string value, bool matches)
    {
        var matcher = new LabelMatcher("v", type, matcherValue);
        Assert.Equal(matches, matcher.Matches(value));
        Assert.Equal(matches, matcher.Matches(value.AsSpan()));
    }

    [Theory]
    // Constructs RE2 refuses (and the linear-time engine cannot run) are Go's parse errors.
    [InlineData("(?=a)a", "invalid or unsupported Perl syntax: `(?=`")]
    [InlineData("a(?!b)", "invalid or unsupported Perl syntax: `(?!`")]
    [InlineData("(?>a+)", "invalid or unsupported Perl syntax: `(?>`")]
    [InlineData("(?#comment)a", "invalid or unsupported Perl syntax: `(?#`")]
    [InlineData("(?x)a", "invalid or unsupported Perl syntax: `(?x`")]
    [InlineData("(?'n'a)", "invalid or unsupported Perl syntax: `(?'`")]
    [InlineData("(?(a)b|c)", "invalid or unsupported Perl syntax: `(?(`")]
    [InlineData("(?-)a", "invalid or unsupported Perl syntax: `(?-)`")]
    [InlineData("(?<=a)b", "invalid named capture: `(?<=a)b)$`")]
    [InlineData("(?<!a>b)", "invalid named capture: `(?<!a>`")]
    [InlineData("(a)\\1", "invalid escape sequence: `\\1`")]
    [InlineData("(?P<n>a)\\k<n>", "invalid escape sequence: `\\k`")]
    [InlineData("a\\9", "invalid escape sequence: `\\9`")]
    [InlineData("\\e", "invalid escape sequence: `\\e`")]
    [InlineData("\\Z", "invalid escape sequence: `\\Z`")]
    [InlineData("[\\b]", "invalid escape sequence: `\\b`")]
    // Syntax errors .NET finds keep Go's wording; Go quotes the whole expression Prometheus compiles.
    [InlineData("(a", "missing closing ): `^(?s:(a)$`")]
    [InlineData("a**", "invalid nested repetition operator: `**`")]
    public void UnsupportedOrInvalidRegexIsAGoParseError(string pattern, string goError)
    {
        var e = Assert.Throws<ArgumentException>(() => new LabelMatcher("v", MatchType.Regex, pattern));
        Assert.Equal("error parsing regexp: " + goError, e.Message);
        var parse = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse("{v=~" + GoString.Quote(pattern) + "}"));
        Assert.Equal("parse error : error parsing regexp: " + goError, parse.Message);
    }

    [Theory]
    [InlineData("\\12")]
    [InlineData("\\0")]
    [InlineData("\\x41")]
    [InlineData("[\\d\\s-]")]
    [InlineData("\\A\\b\\Bx\\z")]
    [InlineData("(?i:a)(?-i:b)(?ms-i:c)")]
    [InlineData("(?P<first>a)(?<second>b)")]
    [InlineData("[(?=]")]
    [InlineData("\\(?=")]
    public void Re2SyntaxResemblingRefusedConstructsIsAccepted(string pattern)
    {
        Assert.Null(GoRegex.Validate(pattern));
        _ = new LabelMatcher("v", MatchType.Regex, pattern);
    }
}
