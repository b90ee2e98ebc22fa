using LokiSharp.Compactor.Retention;
using LokiSharp.LogQL.Labels;
using static LokiSharp.Compactor.Tests.CompactorFixture;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Compactor.Tests;

public sealed class RetentionTests
{
    private static readonly TimeSpan Days31 = TimeSpan.FromHours(744);
    private static readonly LabelSet Api = Labels(("app", "api"));

    private static RetentionPolicy Global(TimeSpan period) => new(period, []);

    [Fact]
    public void PacksAreNotSweptWhileAnIndexFileOfTheTenantIsDamaged()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever, deleteDelay: TimeSpan.Zero);
        var t0 = NowNs(Start) - (3 * Day);
        f.Write("t", Api, t0, Second, 10, "a");
        f.Write("t", Api, t0 + (100 * Second), Second, 20, "b");
        Assert.Equal(1, f.Run(Start).TablesCompacted);
        var sealedFile = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(f.ChunksDirectory("t"))!, "index"), "*.idx").Single();
        var bytes = File.ReadAllBytes(sealedFile);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(sealedFile, bytes);
        var packs = Directory.GetFiles(f.ChunksDirectory("t"));
        f.Reopen();

        // One chunk's record is lost with the damaged bytes, so its pack looks unreferenced: it must be kept.
        f.Run(Start.AddHours(1));
        var later = f.Run(Start.AddHours(3));
        Assert.Equal((0, 0), (later.PacksMarked, later.PacksDeleted));
        Assert.All(packs, p => Assert.True(File.Exists(p)));
        Assert.True(File.Exists(sealedFile));
        Assert.Contains(f.Corruptions, c => c.Path == sealedFile);
    }

    [Fact]
    public void GlobalPeriodRemovesOldChunksFromQueriesAndFilesAfterTheDelay()
    {
        using var f = new CompactorFixture(_ => Global(Days31));
        var now = NowNs(Start);
        f.Write("t", Api, now - (40 * Day), Second, 10, "old");
        f.Write("t", Api, now - (10 * Day), Second, 10, "mid");
        f.Write("t", Api, now - Hour, Second, 10, "new");
        var before = f.Store.PackBytes("t");

        var first = f.Run(Start);
        Assert.Equal(1, first.ChunksExpired);
        Assert.Equal(1, first.PacksMarked);
        Assert.Equal(0, first.PacksDeleted);
        Assert.Equal(20, f.Read("t", Api).Count);
        Assert.DoesNotContain(f.Read("t", Api), e => e.Line.StartsWith("old", StringComparison.Ordinal));
        Assert.Equal(before, f.Store.PackBytes("t"));

        var early = f.Run(Start.AddHours(1));
        Assert.Equal(0, early.PacksDeleted);
        Assert.Equal(1, early.PacksPending);

        var due = f.Run(Start.AddHours(2));
        Assert.Equal(1, due.PacksDeleted);
        Assert.True(due.BytesFreed > 0);
        Assert.Equal(before - due.BytesFreed, f.Store.PackBytes("t"));
        Assert.Equal(0, due.PacksPending);
        Assert.Equal(20, f.Read("t", Api).Count);
    }

    [Fact]
    public void ChunksStraddlingTheCutoffAreKeptWhole()
    {
        using var f = new CompactorFixture(_ => Global(Days31));
        var cutoff = NowNs(Start) - (744 * Hour);
        f.Write("t", Labels(("app", "before")), cutoff - 100, 10, 10);
        f.Write("t", Labels(("app", "edge")), cutoff - 100, 10, 11);
        f.Write("t", Labels(("app", "straddle")), cutoff - Hour, Second, 7200);

        var report = f.Run(Start);

        // The "before" chunk ends at cutoff - 10: wholly older. "edge" ends exactly at the cutoff: kept.
        Assert.Equal(1, report.ChunksExpired);
        Assert.Empty(f.Read("t", Labels(("app", "before"))));
        Assert.Equal(11, f.Read("t", Labels(("app", "edge"))).Count);
        Assert.Equal(7200, f.Read("t", Labels(("app", "straddle"))).Count);
    }

    [Fact]
    public void StreamRulesPickHighestPriorityThenLongestPeriod()
    {
        var rules = new List<StreamRetentionRule>
        {
            new([new LabelMatcher("app", MatchType.Equal, "debug")], 1, TimeSpan.FromHours(24)),
            new([new LabelMatcher("app", MatchType.Regex, "de.*")], 1, TimeSpan.FromHours(48)),
            new([new LabelMatcher("app", MatchType.Equal, "audit")], 5, TimeSpan.FromDays(400)),
            new([new LabelMatcher("app", MatchType.Equal, "audit")], 2, TimeSpan.FromHours(1)),
            new([new LabelMatcher("app", MatchType.Equal, "trace")], 3, TimeSpan.FromHours(6)),
        };
        var policy = new RetentionPolicy(Days31, rules);
        Assert.Equal(TimeSpan.FromHours(48), policy.PeriodFor(Labels(("app", "debug"))));
        Assert.Equal(TimeSpan.FromDays(400), policy.PeriodFor(Labels(("app", "audit"))));
        Assert.Equal(Days31, policy.PeriodFor(Labels(("app", "web"))));

        using var f = new CompactorFixture(_ => policy);
        var now = NowNs(Start);
        f.Write("t", Labels(("app", "debug")), now - (36 * Hour), Second, 5);
        f.Write("t", Labels(("app", "debug")), now - (60 * Hour), Second, 5);
        f.Write("t", Labels(("app", "trace")), now - (7 * Hour), Second, 5);
        f.Write("t", Labels(("app", "audit")), now - (100 * Day), Second, 5);
        f.Write("t", Labels(("app", "web")), now - (32 * Day), Second, 5);
        f.Write("t", Labels(("app", "web")), now - (30 * Day), Second, 5);

        var report = f.Run(Start);

        Assert.Equal(3, report.ChunksExpired);
        Assert.Equal(5, f.Read("t", Labels(("app", "debug"))).Count);
        Assert.Empty(f.Read("t", Labels(("app", "trace"))));
        Assert.Equal(5, f.Read("t", Labels(("app", "audit"))).Count);
        Assert.Equal(5, f.Read("t", Labels(("app", "web"))).Count);
    }

    [Fact]
    public void TenantsGetTheirOwnOverridesAndZeroKeepsForever()
    {
        using var f = new CompactorFixture(tenant => tenant switch
        {
            "short" => Global(TimeSpan.FromDays(1)),
            "forever" => Global(TimeSpan.Zero),
            _ => Global(Days31),
        });
        var now = NowNs(Start);
        foreach (var tenant in new[] { "short", "forever", "default" })
        {
            f.Write(tenant, Api, now - (2 * Day), Second, 3);
            f.Write(tenant, Api, now - (50 * Day), Second, 3);
        }

        f.Run(Start);

        Assert.Empty(f.Read("short", Api));
        Assert.Equal(6, f.Read("forever", Api).Count);
        Assert.Equal(3, f.Read("default", Api).Count);
    }

    [Fact]
    public void MarksSurviveRestartAndTheDelayCountsFromTheFirstMark()
    {
        using var f = new CompactorFixture(_ => Global(Days31));
        var now = NowNs(Start);
        f.Write("t", Api, now - (40 * Day), Second, 3);
        f.Write("t", Api, now - Hour, Second, 3);
        var before = f.Store.PackBytes("t");

        Assert.Equal(1, f.Run(Start).PacksMarked);
        f.Reopen();
        var later = f.Run(Start.AddMinutes(90));
        Assert.Equal(0, later.PacksMarked);
        Assert.Equal(0, later.PacksDeleted);
        f.Reopen();
        Assert.Equal(1, f.Run(Start.AddHours(2)).PacksDeleted);
        Assert.True(f.Store.PackBytes("t") < before);
        Assert.Equal(3, f.Read("t", Api).Count);
    }

    [Theory]
    [InlineData("index-compacted")]
    [InlineData("index-tombstoned")]
    [InlineData("marks-written")]
    [InlineData("pack-deleted")]
    public void CrashAtAnyStepLosesNothingLiveAndLeavesNothingExpired(string step)
    {
        using var f = new CompactorFixture(_ => Global(Days31), deleteDelay: TimeSpan.Zero);
        var now = NowNs(Start);
        var streams = Enumerable.Range(0, 4).Select(i => Labels(("app", "s" + i))).ToArray();
        foreach (var s in streams)
        {
            f.Write("t", s, now - (60 * Day), Second, 4, "old");
            f.Write("t", s, now - (35 * Day), Second, 4, "old");
            f.Write("t", s, now - (2 * Day), Second, 4, "live");
        }

        // A pack left by a crash between writing it and indexing it is collected too.
        var stray = Path.Combine(f.Store.Options.RootDirectory, "t", "chunks", "00000000000000ff.pack");
        File.WriteAllBytes(stray, [0x4C, 0x4B, 0x53, 0x50, 1, 1, 0, 0]);
        var packsBefore = Directory.GetFiles(Path.GetDirectoryName(stray)!).Length;

        f.Compactor.StepHook = s =>
        {
            if (s == step)
            {
                throw new IOException("injected crash at " + s);
            }
        };
        Assert.Throws<IOException>(() => f.Run(Start));

        f.Reopen();
        var report = f.Run(Start.AddMinutes(10));
        f.Run(Start.AddMinutes(20));

        foreach (var s in streams)
        {
            var entries = f.Read("t", s);
            Assert.Equal(4, entries.Count);
            Assert.All(entries, e => Assert.StartsWith("live", e.Line, StringComparison.Ordinal));
        }

        Assert.False(File.Exists(stray));
        Assert.Equal(packsBefore - 9, Directory.GetFiles(Path.GetDirectoryName(stray)!).Length);
        Assert.True(report.RetentionApplied);
        Assert.Equal(0, f.Run(Start.AddMinutes(30)).PacksPending);
    }

    [Fact]
    public void IndexCompactionMergesTombstonesIntoANewGeneration()
    {
        using var f = new CompactorFixture(_ => Global(Days31));
        var now = NowNs(Start);
        f.Write("t", Api, now - (40 * Day), Second, 3, "old");
        f.Write("t", Api, now - (3 * Day), Second, 3, "live");
        f.Run(Start);
        var index = Path.Combine(f.Store.Options.RootDirectory, "t", "index");
        Assert.Contains(Directory.GetFiles(index), p => p.EndsWith(".journal", StringComparison.Ordinal));

        var report = f.Run(Start.AddMinutes(10));

        Assert.True(report.TablesCompacted >= 1);
        Assert.DoesNotContain(Directory.GetFiles(index), p => p.EndsWith(".journal", StringComparison.Ordinal));
        f.Reopen();
        Assert.Equal(3, f.Read("t", Api).Count);
    }
}
