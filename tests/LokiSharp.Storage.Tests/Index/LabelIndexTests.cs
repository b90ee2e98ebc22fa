using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Storage.Tests.Index;

public sealed class LabelIndexTests
{
    private static readonly string[] Apps = ["api", "web", "db", "cache", "worker"];
    private static readonly string[] Envs = ["prod", "dev", ""];

    private static (LabelIndex Index, List<(LabelSet Labels, ChunkRef Chunk)> All) Build(int series, int seed)
    {
        var rng = new Random(seed);
        var index = new LabelIndex();
        var all = new List<(LabelSet, ChunkRef)>();
        for (var i = 0; i < series; i++)
        {
            var pairs = new List<LabelPair> { new("app", Apps[rng.Next(Apps.Length)]), new("pod", "pod-" + i) };
            var env = Envs[rng.Next(Envs.Length)];
            if (env.Length > 0)
            {
                pairs.Add(new LabelPair("env", env));
            }

            if (rng.Next(4) == 0)
            {
                pairs.Add(new LabelPair("team", rng.Next(3).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            var labels = LabelSet.From(pairs);
            var chunks = rng.Next(1, 4);
            for (var c = 0; c < chunks; c++)
            {
                var from = rng.Next(0, 1000);
                var chunk = new ChunkRef(1, (i * 10) + c, 100, from, from + rng.Next(0, 100), 10, 1000);
                index.Add(labels, chunk);
                all.Add((labels, chunk));
            }
        }

        return (index, all);
    }

    private static HashSet<LabelSet> BruteForce(List<(LabelSet Labels, ChunkRef Chunk)> all,
        IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var result = new HashSet<LabelSet>();
        foreach (var (labels, chunk) in all)
        {
            if (!chunk.Overlaps(from, through))
            {
                continue;
            }

            var ok = true;
            foreach (var m in matchers)
            {
                ok &= m.Matches(labels.Get(m.Name) ?? string.Empty);
            }

            if (ok)
            {
                result.Add(labels);
            }
        }

        return result;
    }

    public static TheoryData<string> Selectors() =>
    [
        "app=api",
        "app!=api",
        "app=~a.*|db",
        "app!~a.*",
        "env=",
        "env!=",
        "env=~|prod",
        "env!~prod",
        "env=~.*",
        "team=~.+",
        "team!~.+",
        "nope=",
        "nope=x",
        "nope!=x",
        "app=web,env=prod",
        "app=~w.*,env!=dev,team!=1",
        "pod=~pod-1.*,app!~db|cache",
        "app=~api|web",
        "app!~api|db",
        "app=~api",
        "pod!~pod-1.+",
        "app=~.+",
        "team!~.*",
        "app=~ap?i",
        "pod=~pod-1{1,2}.*",
        "pod=~pod-2\\d\\d",
        "pod=~(?i)POD-7.*",
        "pod=~.*-12.*",
        "pod=~.*1pod.*",
        "pod=~p.d-1[0-9]+",
        "pod!~p.d-2(0|1).*",
        "pod=~po?d-12.",
        "pod=~[p]od-7\\d+",
        "app=~w[e]b",
        "app!~(a)pi",
        "app=~c.+he",
        "pod=~pod-(1|2)9+",
        "pod!~[^p]od-1.*",
        "pod!~.*9pod-.*",
        "pod=~.*-2999.*",
        "app!~.*p.*",
        "pod!~.*2.*",
        "app=~.*e.*,pod=~.*1.*",
    ];

    private static List<LabelMatcher> Parse(string selector)
    {
        var list = new List<LabelMatcher>();
        foreach (var part in selector.Split(','))
        {
            var ops = new[] { ("=~", MatchType.Regex), ("!~", MatchType.NotRegex), ("!=", MatchType.NotEqual), ("=", MatchType.Equal) };
            foreach (var (op, type) in ops)
            {
                var at = part.IndexOf(op, StringComparison.Ordinal);
                if (at > 0)
                {
                    list.Add(new LabelMatcher(part[..at], type, part[(at + op.Length)..]));
                    break;
                }
            }
        }

        return list;
    }

    [Theory]
    [MemberData(nameof(Selectors))]
    public void SelectMatchesBruteForce(string selector)
    {
        var (index, all) = Build(3000, 11);
        var matchers = Parse(selector);
        foreach (var (from, through) in new[] { (0L, 2000L), (500L, 600L), (1200L, 1300L), (0L, 1L) })
        {
            var expected = BruteForce(all, matchers, from, through);
            var actual = new List<SelectedStream>();
            index.Select(matchers, from, through, actual);
            Assert.Equal(expected.Count, actual.Count);
            foreach (var s in actual)
            {
                Assert.Contains(s.Labels, expected);
                Assert.Equal(Fingerprint.Of(s.Labels), s.Fingerprint);
            }
        }
    }

    [Theory]
    [InlineData("p.d-(12|34)5", "d-")]
    [InlineData("abc*d", "ab")]
    [InlineData("ab+cd", "ab")]
    [InlineData("x[abc]yz.w", "yz")]
    [InlineData("x[]a]yz", "yz")]
    [InlineData("\\d+foo\\.bar", "foo")]
    [InlineData("(?i)abc", null)]
    [InlineData("ab|cd", null)]
    [InlineData("(ab|cd)e", "e")]
    [InlineData("a{2}b", "b")]
    public void RequiredLiteralIsAlwaysPartOfAMatch(string pattern, string? literal) =>
        Assert.Equal(literal, RegexShape.RequiredLiteral(pattern));

    [Theory]
    [MemberData(nameof(Selectors))]
    public void LabelNamesAndValuesMatchBruteForce(string selector)
    {
        var (index, all) = Build(1000, 12);
        var matchers = Parse(selector);
        var expected = BruteForce(all, matchers, 100, 900);
        var names = new HashSet<string>();
        index.LabelNames(matchers, 100, 900, names);
        Assert.Equal(expected.SelectMany(l => l.Select(p => p.Name)).ToHashSet(), names);
        var values = new HashSet<string>();
        index.LabelValues("app", matchers, 100, 900, values);
        Assert.Equal(expected.Select(l => l.Get("app")!).ToHashSet(), values);
    }

    // 40,000 streams give enough distinct values for the prefix and literal-narrowed scans to matter.
    [Theory]
    [InlineData("pod=~p.d-(12|34)5", 5000, 14)]
    [InlineData("pod!~p.d-1.*", 5000, 14)]
    [InlineData("pod=~|pod-3.*", 5000, 14)]
    [InlineData("pod!~.+", 5000, 14)]
    [InlineData("pod=~pod-2[0-9]*", 5000, 14)]
    [InlineData("pod=~p.d-(12|34)5", 40_000, 13)]
    [InlineData("pod!~p.d-(1|2)3.*", 40_000, 13)]
    [InlineData("pod=~p[aeiou]d-3[0-9]{2}", 40_000, 13)]
    public void HighCardinalityRegexesMatchBruteForce(string selector, int streams, int seed)
    {
        var (index, all) = Build(streams, seed);
        var matchers = Parse(selector);
        var expected = BruteForce(all, matchers, 0, 2000);
        var actual = new List<SelectedStream>();
        index.Select(matchers, 0, 2000, actual);
        Assert.Equal(expected.Count, actual.Count);
        Assert.All(actual, s => Assert.Contains(s.Labels, expected));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(3000)]
    public void BacktrackingRegexesCannotBeMadeSlowByValues(int streams)
    {
        // Values of 40 "a"s and a "!" make (a+)+$ take exponential time on a backtracking engine (28 were a
        // CPU-second, and past the old one-second regex timeout every select threw); the matchers run linear-time.
        var index = new LabelIndex();
        var values = new List<string>();
        for (var i = 0; i < streams; i++)
        {
            var value = i % 2 == 0 ? new string('a', 40 + (i % 7)) + "!" + i : new string('a', 1 + (i % 50));
            values.Add(value);
            index.Add(LabelSet.From(("v", value), ("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                new ChunkRef(1, i, 100, 0, 10, 10, 1000));
        }

        static bool OnlyAs(string value) => value.Length > 0 && value.AsSpan().IndexOfAnyExcept('a') < 0;
        foreach (var (pattern, type, expected) in new (string, MatchType, Func<string, bool>)[]
        {
            ("(a+)+$", MatchType.Regex, OnlyAs),
            ("(a+)+$", MatchType.NotRegex, v => !OnlyAs(v)),
            ("(a|aa)+", MatchType.Regex, OnlyAs),
            ("(a*)*b", MatchType.Regex, _ => false),
        })
        {
            var matchers = new[] { new LabelMatcher("v", type, pattern) };
            var selected = new List<SelectedStream>();
            index.Select(matchers, 0, 100, selected);
            Assert.Equal(values.Count(expected), selected.Count);
            var found = new HashSet<string>();
            index.LabelValues("v", matchers, 0, 100, found);
            Assert.Equal(values.Where(expected).ToHashSet(), found);
        }
    }

    [Fact]
    public void UnfilteredLabelNamesAndValuesCoverEverything()
    {
        var (index, _) = Build(200, 13);
        var names = new HashSet<string>();
        index.LabelNames([], long.MinValue, long.MaxValue, names);
        Assert.Equal(["app", "env", "pod", "team"], names.Order(StringComparer.Ordinal));
        var values = new HashSet<string>();
        index.LabelValues("env", [], long.MinValue, long.MaxValue, values);
        Assert.Equal(["dev", "prod"], values.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DuplicateChunkRefsAreIgnored()
    {
        using var index = new LabelIndex();
        var labels = LabelSet.From(("a", "1"));
        var chunk = new ChunkRef(1, 8, 10, 0, 10, 1, 5);
        Assert.True(index.Add(labels, chunk));
        Assert.False(index.Add(labels, chunk));
        Assert.Equal(1, index.ChunkCount);
        var refs = new List<ChunkRef>();
        index.ChunksOf(labels, 0, 100, refs);
        Assert.Single(refs);
    }

    [Fact]
    public void FingerprintIsStableAndOrderIndependent()
    {
        Assert.Equal(Fingerprint.Of(LabelSet.From(("a", "1"), ("b", "2"))), Fingerprint.Of(LabelSet.From(("b", "2"), ("a", "1"))));
        Assert.NotEqual(Fingerprint.Of(LabelSet.From(("a", "12"))), Fingerprint.Of(LabelSet.From(("a1", "2"))));
        Assert.Equal(0xcbf29ce484222325UL, Fingerprint.Of(LabelSet.Empty));
    }
}
