using System.Diagnostics;
using System.Text;
using LokiSharp.LogQL.Syntax;
using static LokiSharp.LogQL.Tests.Pipeline.PipelineRunner;

namespace LokiSharp.LogQL.Tests.Pipeline;

public sealed class LineFilterTests
{
    [Theory]
    [InlineData("{app=\"web\"} |= \"error\"", "an error occurred", true)]
    [InlineData("{app=\"web\"} |= \"error\"", "an ERROR occurred", false)]
    [InlineData("{app=\"web\"} |= \"\"", "anything", true)]
    [InlineData("{app=\"web\"} |= \"\"", "", true)]
    [InlineData("{app=\"web\"} != \"error\"", "all good", true)]
    [InlineData("{app=\"web\"} != \"error\"", "error!", false)]
    [InlineData("{app=\"web\"} != \"\"", "anything", false)]
    [InlineData("{app=\"web\"} |= \"a\" |= \"b\"", "b then a", true)]
    [InlineData("{app=\"web\"} |= \"a\" |= \"b\"", "only a", false)]
    [InlineData("{app=\"web\"} |= \"timeout\" or \"refused\"", "connection refused", true)]
    [InlineData("{app=\"web\"} |= \"timeout\" or \"refused\"", "connection reset", false)]
    [InlineData("{app=\"web\"} != \"debug\" or \"trace\"", "level=info", true)]
    [InlineData("{app=\"web\"} != \"debug\" or \"trace\"", "level=trace", false)]
    [InlineData("{app=\"web\"} |= \"é\"", "café", true)]
    public void SubstringFilters(string query, string line, bool kept) => Assert.Equal(kept, Keeps(query, line));

    [Theory]
    [InlineData("{app=\"web\"} |~ \"error|timeout\"", "request timeout", true)]
    [InlineData("{app=\"web\"} |~ \"error|timeout\"", "request ok", false)]
    [InlineData("{app=\"web\"} |~ \"(?i)error\"", "An ErRoR here", true)]
    [InlineData("{app=\"web\"} |~ \"(?i)error\"", "An err here", false)]
    [InlineData("{app=\"web\"} |~ \"(?i)warn|fail\"", "FAILED", true)]
    [InlineData("{app=\"web\"} |~ \"status=[45]\\\\d\\\\d\"", "status=503 slow", true)]
    [InlineData("{app=\"web\"} |~ \"status=[45]\\\\d\\\\d\"", "status=200 fast", false)]
    [InlineData("{app=\"web\"} |~ \"^GET\"", "GET /index", true)]
    [InlineData("{app=\"web\"} |~ \"^GET\"", "POST GET", false)]
    [InlineData("{app=\"web\"} |~ \"done$\"", "job done", true)]
    [InlineData("{app=\"web\"} |~ \"done$\"", "job done\n", false)]
    [InlineData("{app=\"web\"} |~ \"a.b\"", "a\nb", false)]
    [InlineData("{app=\"web\"} |~ \"(?s)a.b\"", "a\nb", true)]
    [InlineData("{app=\"web\"} |~ \"\\\\d+\"", "value ٣", false)]
    [InlineData("{app=\"web\"} |~ \"(?P<code>\\\\d{3})\"", "code 404", true)]
    [InlineData("{app=\"web\"} !~ \"error|timeout\"", "fine", true)]
    [InlineData("{app=\"web\"} !~ \"error|timeout\"", "error", false)]
    [InlineData("{app=\"web\"} |~ \".*\"", "", true)]
    [InlineData("{app=\"web\"} |~ \".+\"", "", false)]
    [InlineData("{app=\"web\"} |~ \"foo\" or \"ba[rz]\"", "has baz", true)]
    [InlineData("{app=\"web\"} |~ \"\\\\.php\"", "index.php", true)]
    [InlineData("{app=\"web\"} |~ \"\\\\.php\"", "indexphp", false)]
    public void RegexFilters(string query, string line, bool kept) => Assert.Equal(kept, Keeps(query, line));

    [Theory]
    [InlineData("GET <_> 200", "GET /api 200", true)]
    [InlineData("GET /api", "GET /api 200", false)]
    [InlineData("<_> 200", "GET /api 200", true)]
    [InlineData("<_> 200", " 200", false)]
    [InlineData("<_> 200", "200", false)]
    [InlineData("GET <_>", "GET ", false)]
    [InlineData("GET <_>", "GET x", true)]
    [InlineData("api", "GET /api", true)]
    [InlineData("api <_>", "GET /api x", true)]
    [InlineData("", "", true)]
    [InlineData("", "x", false)]
    [InlineData("<_>bar<_>", "foobarbaz", true)]
    [InlineData("<_> bar <_>", " bar ", false)]
    public void PatternFilters(string pattern, string line, bool kept)
    {
        Assert.Equal(kept, Keeps("{app=\"web\"} |> \"" + pattern + "\"", line));
        Assert.Equal(!kept, Keeps("{app=\"web\"} !> \"" + pattern + "\"", line));
    }

    [Theory]
    [InlineData("192.168.0.1", "from 192.168.0.1 port 22", true)]
    [InlineData("192.168.0.1", "from 192.168.0.10 port 22", false)]
    [InlineData("192.168.0.0/24", "client=192.168.0.77", true)]
    [InlineData("192.168.0.0/24", "client=192.168.1.77", false)]
    [InlineData("10.0.0.1-10.0.0.9", "peer 10.0.0.5:443", true)]
    [InlineData("10.0.0.1-10.0.0.9", "peer 10.0.0.10:443", false)]
    [InlineData("::1", "listening on ::1 now", true)]
    [InlineData("2001:db8::/32", "src=2001:db8::ff dst=x", true)]
    [InlineData("192.168.0.1", "no address here", false)]
    public void IpFilters(string pattern, string line, bool kept)
    {
        Assert.Equal(kept, Keeps("{app=\"web\"} |= ip(\"" + pattern + "\")", line));
        Assert.Equal(!kept, Keeps("{app=\"web\"} != ip(\"" + pattern + "\")", line));
    }

    [Theory]
    [InlineData("{app=\"web\"} |~ \"(\"", "stage '|~ \"(\"' : error parsing regexp: missing closing )")]
    [InlineData("{app=\"web\"} |> \"<foo>\"", "named captures are not allowed")]
    [InlineData("{app=\"web\"} |> \"<_><_>\"", "found consecutive capture")]
    [InlineData("{app=\"web\"} |= ip(\"999.1.1.1\")", "ip: invalid pattern")]
    [InlineData("{app=\"web\"} |~ ip(\"1.1.1.1\")", "ip: invalid operation")]
    public void BuildErrors(string query, string expected)
    {
        var e = Assert.Throws<LogQLParseException>(() => Compile(query));
        Assert.StartsWith("parse error : stage '", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostileRegexFinishesQuickly()
    {
        var pipeline = Compile("{app=\"web\"} |~ \"(a+)+$\" |~ \"(x+x+)+y\" |~ \"^(([a-z])+.)+[A-Z]([a-z])+$\"");
        var line = Encoding.UTF8.GetBytes(new string('a', 50_000) + "!");
        var watch = Stopwatch.StartNew();
        var outcome = Run(pipeline, line);
        Assert.False(outcome.Kept);
        var line2 = Encoding.UTF8.GetBytes(new string('x', 50_000));
        Assert.False(Run(pipeline, line2).Kept);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
    }

    [Fact]
    public void VeryLongLinesAreSearched()
    {
        var line = new string('x', 1 << 20) + "needle" + new string('y', 1000);
        Assert.True(Keeps("{app=\"web\"} |= \"needle\"", line));
        Assert.True(Keeps("{app=\"web\"} |~ \"(?i)NEEDLE\"", line));
        Assert.False(Keeps("{app=\"web\"} |= \"needles\"", line));
    }

    [Fact]
    public void InvalidUtf8LinesAreFilteredAsBytes()
    {
        var line = new byte[] { 0xff, 0xfe, (byte)'o', (byte)'k', 0xc3 };
        Assert.True(Run(Compile("{app=\"web\"} |= \"ok\""), line).Kept);
        Assert.True(Run(Compile("{app=\"web\"} |~ \"o.\""), line).Kept);
    }

    [Fact]
    public void ExtractsLiteralRequirements()
    {
        var p = Compile("{app=\"web\"} |= \"GET\" |~ \"error|timeout\" != \"debug\" |~ \"(?i)warn\" |> \"<_> /api <_>\" | json | line_format \"x\" |= \"after\"");
        var reqs = p.LiteralRequirements.Select(r => (string.Join("|", r.AnyOf.Select(Encoding.UTF8.GetString)), r.IgnoreCase)).ToList();
        Assert.Equal([("GET", false), ("error|timeout", false), ("warn", true), (" /api ", false)], reqs);
        Assert.Equal(["GET", " /api "], p.RequiredLiterals);
        Assert.Empty(Compile("{app=\"web\"} |~ \"a.*b\"").LiteralRequirements);
        Assert.Empty(Compile("{app=\"web\"} |= \"a\" or ip(\"1.1.1.1\")").LiteralRequirements);
    }

    [Fact]
    public void RejectedLinesAllocateNothing()
    {
        var pipeline = Compile("{app=\"web\"} |= \"needle\" |~ \"(?i)error|fail\" | json");
        var sp = pipeline.ForStream(LabelSetParser.Parse(DefaultStream));
        var line = Encoding.UTF8.GetBytes("level=info msg=\"all good\" duration=12ms user=alice");
        sp.Process(0, line, default, out _, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Assert.False(sp.Process(0, line, default, out _, out _));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
