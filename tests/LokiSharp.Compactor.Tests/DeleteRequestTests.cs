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
