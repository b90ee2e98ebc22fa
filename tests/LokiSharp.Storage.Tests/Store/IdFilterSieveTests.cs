using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Tests.Store;

public sealed class IdFilterSieveTests
{
    [Fact]
    public void A_column_may_match_exactly_when_its_id_filter_may()
    {
        var rng = new Random(17);
        var sieve = new IdFilterSieve();
        var filters = new List<(byte[] Filter, int Group, int Column)>();
        for (var c = 0; c < 700; c++)
        {
            // Several sizes (so several groups), fills from sparse to dense, more than 64 columns per group (rows grow).
            var filter = new byte[64 << rng.Next(0, 3)];
            var fill = rng.NextDouble() * 0.7;
            for (var i = 0; i < filter.Length * 8; i++)
            {
                filter[i >> 3] |= (byte)(rng.NextDouble() < fill ? 1 << (i & 7) : 0);
            }

            var (group, column) = sieve.Add(filter);
            filters.Add((filter, group, column));
        }

        var prefilters = new List<LiteralPrefilter>
        {
            new("5106a8ab4a9a9328"),
            new("request_id=7849400992b7a6ed", "GET"),
            new(Enumerable.Range(0, 30).Select(i => $"{i * 7919:x12}")),
            new("no id here"),
            new([new LogQL.Literals.LiteralRequirement([.. new[] { "0a1b2c3d4e5f", "9f8e7d6c5b4a" }.Select(System.Text.Encoding.ASCII.GetBytes)], false)]),
            new([new LogQL.Literals.LiteralRequirement([System.Text.Encoding.ASCII.GetBytes("deadbeef0123")], true)]),
        };
        var rejected = 0;
        foreach (var prefilter in prefilters)
        {
            var candidates = sieve.Candidates(prefilter);
            Assert.Same(candidates, sieve.Candidates(prefilter));
            foreach (var (filter, group, column) in filters)
            {
                var exact = prefilter.MayMatchBlock(default, filter);
                Assert.Equal(exact, candidates.MayMatch(group, column));
                rejected += exact ? 0 : 1;
            }
        }

        Assert.True(rejected > 500, $"{rejected} rejections");

        // A column added after the candidates were made may match until they are made again.
        var (g, col) = sieve.Add(new byte[64]);
        Assert.True(sieve.Candidates(prefilters[0]).MayMatch(g, col) == false);
        var stale = sieve.Candidates(prefilters[1]);
        var (g2, col2) = sieve.Add(new byte[64]);
        Assert.True(stale.MayMatch(g2, col2));
    }

    [Fact]
    public void A_removed_column_is_reused_and_candidates_made_before_the_reuse_let_it_through()
    {
        var sieve = new IdFilterSieve();
        var prefilter = new LiteralPrefilter("5106a8ab4a9a9328");
        var matching = new byte[64];
        foreach (var h in NGramFilter.IdProbe(System.Text.Encoding.ASCII.GetBytes("5106a8ab4a9a9328"))!)
        {
            matching[(h & 511) >> 3] |= (byte)(1 << (int)(h & 7));
        }

        var (group, kept) = sieve.Add(new byte[64]);
        var (_, removed) = sieve.Add(matching);
        var before = sieve.Candidates(prefilter);
        Assert.True(before.MayMatch(group, removed));
        Assert.False(before.MayMatch(group, kept));

        // The removed column is cleared: candidates made now rule it out, and the next add takes it.
        sieve.Remove(group, removed, matching);
        Assert.False(sieve.Candidates(prefilter).MayMatch(group, removed));
        var stale = sieve.Candidates(prefilter);
        var (again, column) = sieve.Add(matching);
        Assert.Equal((group, removed), (again, column));
        var entry = new SieveEntry(again, column, 0, 0, 0, sieve.Version);

        // Candidates made before the reuse cannot speak for the new filter; ones made after see it.
        Assert.True(stale.MayMatch(entry));
        Assert.True(sieve.Candidates(prefilter).MayMatch(entry));
        Assert.False(sieve.Candidates(prefilter).MayMatch(entry with { Column = kept }));
    }
}
