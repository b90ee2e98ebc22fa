using LokiSharp.Querier.Patterns;

namespace LokiSharp.Querier.Tests;

/// <summary>The Drain-style pattern miner: clustering, variables, counts per step, bounds.</summary>
public sealed class PatternMinerTests
{
    private const long Second = 1_000_000_000L;

    [Fact]
    public void Similar_lines_share_a_pattern_with_variables_where_they_differ()
    {
        var miner = new PatternMiner(10 * Second);
        miner.Add(1 * Second, "user alice logged in from web", "info");
        miner.Add(2 * Second, "user bob logged in from mobile", "info");
        miner.Add(12 * Second, "user carol logged in from web", "info");
        miner.Add(13 * Second, "disk full on /var", "error");

        var patterns = miner.Patterns();

        Assert.Equal(2, patterns.Count);
        Assert.Equal("user <_> logged in from <_>", patterns[0].Pattern);
        Assert.Equal("info", patterns[0].Level);
        Assert.Equal([(0L, 2L), (10L, 1L)], patterns[0].Samples);
        Assert.Equal(("disk full on /var", "error"), (patterns[1].Pattern, patterns[1].Level));
    }

    [Fact]
    public void Tokens_with_digits_are_variables_from_the_start()
    {
        Assert.Equal(["GET", "<_>", "status", "<_>"], PatternMiner.Tokenize("GET /item/42 status 200"));
    }

    [Fact]
    public void Lines_of_different_levels_or_lengths_never_share_a_pattern()
    {
        var miner = new PatternMiner(Second);
        miner.Add(0, "request done", "info");
        miner.Add(0, "request done", "error");
        miner.Add(0, "request done twice", "info");

        Assert.Equal(3, miner.Patterns().Count);
    }

    [Fact]
    public void The_number_of_clusters_is_bounded()
    {
        var miner = new PatternMiner(Second);
        for (var i = 0; i < PatternMiner.MaxClusters + 50; i++)
        {
            miner.Add(0, $"w{(char)('a' + (i % 26))}x{(char)('a' + (i / 26 % 26))}y{(char)('a' + (i / 676))}", "info");
        }

        Assert.Equal(PatternMiner.MaxClusters, miner.Patterns().Count);
    }
}
