using LokiSharp.Compactor.Deletion;
using LokiSharp.Compactor.Retention;
using LokiSharp.LogQL.Labels;
using static LokiSharp.Compactor.Tests.CompactorFixture;

namespace LokiSharp.Compactor.Tests;

public sealed class DeleteRequestTests
{
    private static readonly LabelSet Api = Labels(("app", "api"));
    private static readonly LabelSet Web = Labels(("app", "web"));

    private static DeleteRequest Request(string query, long startNs, long endNs, string id = "r1") => new()
    {
        RequestId = id,
        Tenant = "t",
        Query = query,
        StartMs = startNs / 1_000_000,
        EndMs = endNs / 1_000_000,
        CreatedAtMs = Start.ToUnixTimeMilliseconds(),
    };

    [Fact]
    public void SelectorDeleteRemovesWholeChunksAndRewritesPartialOnesAfterTheCancelPeriod()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever, deleteDelay: TimeSpan.Zero);
        var t0 = NowNs(Start) - Day;
        f.Write("t", Api, t0, Second, 10, "a");
        f.Write("t", Api, t0 + (100 * Second), Second, 10, "b");
        f.Write("t", Web, t0, Second, 10, "w");
        var before = f.Store.PackBytes("t");
        f.Compactor.DeleteRequests.Add(Request("{app=\"api\"}", t0 + (5 * Second), t0 + (200 * Second)));
        var filtered = new DeleteFilteringLogSource(f.Store, f.Compactor.DeleteRequests);

        // Within the cancellation period nothing is rewritten, but queries already hide the entries.
        Assert.Equal(0, f.Run(Start.AddHours(1)).RequestsProcessed);
        Assert.Equal(20, f.Read("t", Api).Count);
        Assert.Equal(5, f.Read("t", Api, filtered).Count);

        var report = f.Run(Start.AddHours(25));
        Assert.Equal(1, report.RequestsProcessed);
        Assert.Equal(1, report.ChunksDeletedByRequests);
        Assert.Equal(1, report.ChunksRewritten);
        Assert.Equal(15, report.LinesDeleted);
        Assert.Equal(["a 0", "a 1", "a 2", "a 3", "a 4"], f.Read("t", Api).Select(e => e.Line));
        Assert.Equal(10, f.Read("t", Web).Count);
        Assert.Equal(DeleteRequestStatus.Processed, f.Compactor.DeleteRequests.Find("t", "r1")!.Status);

        f.Run(Start.AddHours(26));
        Assert.True(f.Store.PackBytes("t") < before);
        f.Reopen();
        Assert.Equal(5, f.Read("t", Api).Count);
        Assert.Equal(DeleteRequestStatus.Processed, f.Compactor.DeleteRequests.Find("t", "r1")!.Status);
    }

    [Fact]
    public void LineFilteredDeleteRewritesChunksKeepingOtherLines()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever, cancelPeriod: TimeSpan.Zero);
        var t0 = NowNs(Start) - Day;
        f.Write("t", Api, t0, Second, 20, "line");
        f.Compactor.DeleteRequests.Add(Request("{app=\"api\"} |~ \"line 1[0-9]\" != \"line 15\"", t0, t0 + Day));
        var filtered = new DeleteFilteringLogSource(f.Store, f.Compactor.DeleteRequests);
        Assert.Equal(11, f.Read("t", Api, filtered).Count);

        var report = f.Run(Start);

        Assert.Equal(9, report.LinesDeleted);
        Assert.Equal(1, report.ChunksRewritten);
        var lines = f.Read("t", Api).Select(e => e.Line).ToList();
        Assert.Equal(11, lines.Count);
        Assert.Contains("line 15", lines);
        Assert.Contains("line 9", lines);
        Assert.DoesNotContain("line 12", lines);
        f.Reopen();
        Assert.Equal(11, f.Read("t", Api).Count);
    }

    [Fact]
    public void ChunkWithACorruptBlockIsLeftWholeReportedAndItsPackKept()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever, deleteDelay: TimeSpan.Zero, cancelPeriod: TimeSpan.Zero);
        var t0 = NowNs(Start) - Day;
        f.Write("t", Api, t0, Second, 2000, "damaged");
        f.Write("t", Api, t0 + (3000 * Second), Second, 20, "intact");
        var packs = Directory.GetFiles(f.ChunksDirectory("t")).Order().ToArray();
        var damaged = File.ReadAllBytes(packs[0]);
        damaged[600] ^= 0xFF;
        File.WriteAllBytes(packs[0], damaged);
        f.Compactor.DeleteRequests.Add(Request("{app=\"api\"} |~ \"5$\"", t0, t0 + Day));

        var report = f.Run(Start);
        f.Run(Start.AddHours(1));

        // The intact chunk is rewritten without its deleted lines; the damaged one is left as it was, its pack too
        // (a rewrite would have dropped the unreadable block's lines the request does not cover).
        Assert.Equal(1, report.ChunksRewritten);
        Assert.Equal(1, report.ChunksLeftDamaged);
        Assert.Equal(damaged, File.ReadAllBytes(packs[0]));
        Assert.False(File.Exists(packs[1]));
        var stored = new List<string>();
        using (var it = f.Store.OpenEntries("t", new Storage.Reading.SelectedStream(Api, 0),
                   new Storage.Reading.EntryQuery(long.MinValue / 2, long.MaxValue / 2)))
        {
            while (it.MoveNext())
            {
                stored.Add(System.Text.Encoding.UTF8.GetString(it.Current.Line));
            }

            Assert.Single(it.Warnings);
        }

        Assert.InRange(stored.Count(l => l.StartsWith("damaged", StringComparison.Ordinal)), 1500, 1999);
        Assert.Contains("damaged 1505", stored);
        Assert.Equal(18, stored.Count(l => l.StartsWith("intact", StringComparison.Ordinal)));

        // The damage was reported once, as the block it is, with the pack's path; the hidden lines stay hidden.
        var corruption = Assert.Single(f.Corruptions);
        Assert.Equal((Storage.Store.CorruptionKind.Block, packs[0]), (corruption.Kind, corruption.Path));
        var filtered = new DeleteFilteringLogSource(f.Store, f.Compactor.DeleteRequests);
        using var visible = filtered.OpenEntries("t", new Storage.Reading.SelectedStream(Api, 0),
            new Storage.Reading.EntryQuery(long.MinValue / 2, long.MaxValue / 2));
        while (visible.MoveNext())
        {
            Assert.NotEqual("damaged 1505", System.Text.Encoding.UTF8.GetString(visible.Current.Line));
        }
    }

    [Fact]
    public void CancelledRequestsDeleteNothingAndQueriesSeeEverythingAgain()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever);
        var t0 = NowNs(Start) - Day;
        f.Write("t", Api, t0, Second, 10);
        f.Compactor.DeleteRequests.Add(Request("{app=\"api\"}", t0, t0 + Day));
        var filtered = new DeleteFilteringLogSource(f.Store, f.Compactor.DeleteRequests);
        Assert.Empty(f.Read("t", Api, filtered));

        Assert.True(f.Compactor.DeleteRequests.Remove("t", "r1"));
        f.Reopen();
        f.Run(Start.AddDays(3));

        Assert.Empty(f.Compactor.DeleteRequests.All());
        Assert.Equal(10, f.Read("t", Api, new DeleteFilteringLogSource(f.Store, f.Compactor.DeleteRequests)).Count);
    }

    [Fact]
    public void CrashAfterApplyingBeforeMarkingProcessedIsHarmlessOnRerun()
    {
        using var f = new CompactorFixture(_ => RetentionPolicy.KeepForever, cancelPeriod: TimeSpan.Zero);
        var t0 = NowNs(Start) - Day;
        f.Write("t", Api, t0, Second, 20, "line");
        f.Compactor.DeleteRequests.Add(Request("{app=\"api\"} |= \"line 1\"", t0, t0 + Day));
        f.Compactor.StepHook = s =>
        {
            if (s == "request-applied")
            {
                throw new IOException("injected crash");
            }
        };
        Assert.Throws<IOException>(() => f.Run(Start));

        f.Reopen();
        var report = f.Run(Start.AddMinutes(10));

        Assert.Equal(1, report.RequestsProcessed);
        Assert.Equal(0, report.LinesDeleted);
        Assert.Equal(9, f.Read("t", Api).Count);
    }
}
